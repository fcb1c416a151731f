"""An OCSP responder asked one well-formed question and its answer judged: successful, about what was asked, signed
by the CA or by a responder certificate the CA issued, and current. Knows nothing of HTTP or pytest.

The question names the CA the way Keyfactor's Revocation Monitoring stores it (OCSPParameters: base-64 SHA-1 of the
CA's name and key, and a sample serial number). Without a sample serial the responder is asked about serial 1: a
good, revoked or unknown answer, signed and current, all prove that it answers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from smoke.keyfactor.finding import Finding
from smoke.keyfactor.issuers import Issuers, common_name, key_sha1, signature_valid

PROBE_SERIAL = 1
CLOCK_SKEW = dt.timedelta(minutes=5)
RESPONDER = ("check the Online Responder: its service, its revocation configuration for this CA and its OCSP "
             "Response Signing certificate")


@dataclass(frozen=True)
class Question:
    name_hash: bytes
    key_hash: bytes
    serial: int
    issuer: x509.Certificate | None  # the CA asked about, when issuer_certificates holds it
    authority: str  # how the report names the CA

    def request(self) -> bytes:
        built = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            self.name_hash, self.key_hash, self.serial, hashes.SHA1()).build()  # CertIDs name the CA by SHA-1
        return built.public_bytes(serialization.Encoding.DER)


def _digest(text: Any) -> bytes | None:
    """A 20-byte SHA-1 given as base 64 (Keyfactor's OCSPParameters) or hex."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    for decode in (lambda: base64.b64decode(value, validate=True), lambda: bytes.fromhex(value.replace(":", ""))):
        try:
            raw = decode()
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 20:
            return raw
    return None


def question(parameters: Any, issuers: Issuers) -> Question | Finding:
    """The question for an OCSP endpoint's OCSPParameters, or why none can be asked."""
    params = parameters if isinstance(parameters, dict) else {}
    name_hash, key_hash = _digest(params.get("AuthorityNameId")), _digest(params.get("AuthorityKeyId"))
    authority = str(params.get("AuthorityName") or f"CA {params.get('CertificateAuthorityId', '?')}")
    if name_hash is None or key_hash is None:
        return Finding(False, f"its OCSPParameters name no CA (AuthorityNameId {params.get('AuthorityNameId')!r}, "
                              f"AuthorityKeyId {params.get('AuthorityKeyId')!r})",
                       "edit the endpoint in Alerts > Revocation Monitoring and choose its certificate authority")
    serial = PROBE_SERIAL
    sample = params.get("SampleSerialNumber")
    if isinstance(sample, str) and sample.strip():
        try:
            serial = int(sample.strip().replace(" ", "").replace(":", ""), 16)
        except ValueError:
            return Finding(False, f"its SampleSerialNumber {sample!r} is not a hexadecimal serial number",
                           "correct the sample serial number in Alerts > Revocation Monitoring")
    issuer = issuers.by_hashes(name_hash, key_hash)
    return Question(name_hash, key_hash, serial, issuer, common_name(issuer.subject) if issuer else authority)


def judge(content: bytes, content_type: str, asked: Question, now: dt.datetime) -> Finding:
    try:
        answer = ocsp.load_der_ocsp_response(content)
    except ValueError:
        return Finding(False, f"answered {content_type or 'no Content-Type'} ({len(content)} bytes), not an OCSP "
                              "response", f"a proxy or error page answers at this location — {RESPONDER}")
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        status = answer.response_status.name.lower().replace("_", " ")
        why = "it does not serve this CA" if answer.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED else \
            "it cannot answer now"
        return Finding(False, f"answered \"{status}\" for {asked.authority}: {why}", RESPONDER)
    single = next((one for one in answer.responses
                   if one.serial_number == asked.serial and one.issuer_key_hash == asked.key_hash), None)
    if single is None:
        about = ", ".join(f"{one.serial_number:X}" for one in answer.responses) or "nothing"
        return Finding(False, f"answered about serial {about}, not the serial {asked.serial:X} of {asked.authority} "
                              "it was asked about", RESPONDER)
    if asked.issuer is None:
        return Finding(False, f"answered for {asked.authority}, whose CA certificate is not in [operations] "
                              "issuer_certificates, so its signature cannot be checked",
                       "add that CA's certificate (PEM) to issuer_certificates")
    signer = _signer(answer, asked.issuer)
    if signer is None or not signature_valid(signer.public_key(), answer.signature, answer.tbs_response_bytes,
                                             answer.signature_hash_algorithm):
        return Finding(False, f"answer for {asked.authority} is signed by a key that is neither the CA's nor that of "
                              "a responder certificate the CA issued",
                       "renew or re-assign the OCSP Response Signing certificate in the responder's revocation "
                       "configuration")
    this_update, next_update = single.this_update_utc, single.next_update_utc
    if this_update > now + CLOCK_SKEW:
        return Finding(False, f"answer made {this_update:%Y-%m-%d %H:%M} UTC, in the future",
                       "check the responder's clock (and this machine's)")
    if next_update is not None and next_update <= now:
        return Finding(False, f"stale answer: its next update {next_update:%Y-%m-%d %H:%M} UTC has passed",
                       f"the responder no longer refreshes its revocation data for {asked.authority} — {RESPONDER}")
    status = single.certificate_status.name.lower()
    until = f", next update {next_update:%Y-%m-%d %H:%M} UTC" if next_update else ""
    return Finding(True, f"\"{status}\" for serial {asked.serial:X} of {asked.authority}, signed by "
                         f"{common_name(signer.subject)}, produced {answer.produced_at_utc:%Y-%m-%d %H:%M} UTC{until}")


def _signer(answer: ocsp.OCSPResponse, ca: x509.Certificate) -> x509.Certificate | None:
    """The CA itself, or a delegated responder certificate in the answer that the CA issued for OCSP signing."""
    if answer.responder_key_hash == key_sha1(ca.public_key()) or answer.responder_name == ca.subject:
        return ca
    for candidate in answer.certificates:
        named = (answer.responder_key_hash == key_sha1(candidate.public_key())
                 or answer.responder_name == candidate.subject)
        if named and _delegated_by(candidate, ca):
            return candidate
    return None


def _delegated_by(candidate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        candidate.verify_directly_issued_by(ca)
        usages = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in usages
