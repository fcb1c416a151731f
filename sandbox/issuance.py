"""Issuance by the sandbox's issuing CA: CSRs verified, template key rules enforced, certificates signed, PFX built.

Real X.509, everything in memory: certificates are signed by `SandboxPKI.issuing`, PFX are password-protected
PKCS#12. What Keyfactor answers about them is in certificate_fields.py.
This module deliberately shares no code with smoke/keyfactor/certs.py, so a client bug is not mirrored here.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
import secrets
from collections.abc import Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID, ObjectIdentifier

from .pki import CertificateAuthority, PrivateKey
from .templates import CURVES, Template

# GeneralName tags, as Keyfactor's SubjectAltNameElements.Type uses them (2 DNS and 7 IP recorded on 25.4).
SAN_TYPE_CODES = {"rfc822": 1, "dns": 2, "uri": 6, "ip4": 7, "ip6": 7}


class EnrollmentRefused(Exception):
    """The CA or Keyfactor would refuse this request; `message` is what the sandbox answers with."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def issue_from_csr(
    ca: CertificateAuthority,
    csr_pem: str,
    template: Template,
    *,
    sans: Mapping[str, Sequence[str]] | None = None,
    validity_days: int | None = None,
    crl_url: str | None = None,
) -> x509.Certificate:
    """Sign a PKCS#10 request (PEM, or bare base64 DER) under `template`.

    Subject from the CSR; SANs from the request's SANs object ({"dns": [...], "ip4": [...]}, types in
    any case) when it names any, else from the CSR's extension. Raises EnrollmentRefused.
    """
    if not template.allows_csr:
        raise EnrollmentRefused(f"The template {template.common_name} does not allow CSR enrollment.")
    csr = _load_csr(csr_pem)
    if not csr.is_signature_valid:
        raise EnrollmentRefused("The CSR signature is not valid: the request was altered or not signed by its key.")
    public_key = csr.public_key()
    if not isinstance(public_key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise EnrollmentRefused("The CSR key algorithm is not supported: use RSA or ECC.")
    _enforce_key(public_key, template)
    names = _general_names(sans)
    if names is None:
        try:
            names = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
        except x509.ExtensionNotFound:
            names = []
    return _sign(ca, csr.subject, public_key, template, names, validity_days, crl_url)


def issue_pfx(
    ca: CertificateAuthority,
    template: Template,
    subject: str,
    sans: Mapping[str, Sequence[str]] | None,
    password: str,
    include_chain: bool,
    *,
    root: x509.Certificate | None = None,
    friendly_name: str | None = None,
    validity_days: int | None = None,
    crl_url: str | None = None,
) -> tuple[bytes, x509.Certificate]:
    """Generate a key per template, issue, and return (PKCS#12 bytes protected by `password`, certificate).

    With `include_chain` the PKCS#12 also holds the issuing CA certificate (and `root` when given).
    """
    if not template.allows_pfx:
        raise EnrollmentRefused(f"The template {template.common_name} does not allow PFX enrollment.")
    if not password:
        raise EnrollmentRefused("A password is required to protect the PFX.")
    name = _parse_subject(subject)
    key: PrivateKey
    if template.key_type == "ECC":
        key = ec.generate_private_key(CURVES[template.curve or "P-256"][0]())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=template.key_size)
    cert = _sign(ca, name, key.public_key(), template, _general_names(sans) or [], validity_days, crl_url)
    chain = [ca.cert, *([root] if root else [])] if include_chain else None
    label = friendly_name or _common_name(cert) or subject
    blob = pkcs12.serialize_key_and_certificates(
        label.encode("utf-8"),
        key,
        cert,
        chain,
        serialization.BestAvailableEncryption(password.encode("utf-8")),
    )
    return blob, cert


def _load_csr(text: str) -> x509.CertificateSigningRequest:
    try:
        if "-----BEGIN" in text:
            return x509.load_pem_x509_csr(text.encode("ascii"))
        return x509.load_der_x509_csr(base64.b64decode("".join(text.split()), validate=True))
    except ValueError as exc:  # binascii.Error is a ValueError
        raise EnrollmentRefused("The CSR could not be parsed: send a PEM or base64 PKCS#10 request.") from exc


def _enforce_key(public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, template: Template) -> None:
    got = "RSA" if isinstance(public_key, rsa.RSAPublicKey) else "ECC"
    size = public_key.key_size if isinstance(public_key, rsa.RSAPublicKey) else public_key.curve.key_size
    if got != template.key_type:
        raise EnrollmentRefused(
            f"The request's key algorithm ({got} {size}) does not match the certificate template "
            f"{template.common_name} ({template.key_type} {template.key_size})."
        )
    too_small = size < template.key_size if got == "RSA" else size != template.key_size
    if too_small:
        # Wording of the Microsoft CA's CERTSRV_E_KEY_LENGTH, which Keyfactor relays.
        raise EnrollmentRefused(
            "The public key does not meet the minimum size required by the specified certificate template "
            f"({template.common_name}: {template.key_type} {template.key_size}, request: {got} {size}). "
            "0x80094811 (-2146875375 CERTSRV_E_KEY_LENGTH)"
        )


def _general_names(sans: Mapping[str, Sequence[str]] | None) -> list[x509.GeneralName] | None:
    """GeneralNames from a Keyfactor SANs object; None when it names nothing (an empty {} is common)."""
    if not sans:
        return None
    names: list[x509.GeneralName] = []
    for san_type, values in sans.items():
        kind = san_type.strip().lower()
        if kind not in SAN_TYPE_CODES:
            raise EnrollmentRefused(f"The SAN type '{san_type}' is not supported: use {', '.join(SAN_TYPE_CODES)}.")
        if isinstance(values, str) or not all(isinstance(v, str) for v in values):
            raise EnrollmentRefused(f"The SANs '{san_type}' entry must be a list of strings.")
        for value in values:
            names.append(_general_name(kind, value.strip()))
    return names or None


def _general_name(kind: str, value: str) -> x509.GeneralName:
    try:
        if kind == "dns":
            return x509.DNSName(value)
        if kind == "ip4":
            return x509.IPAddress(ipaddress.IPv4Address(value))
        if kind == "ip6":
            return x509.IPAddress(ipaddress.IPv6Address(value))
        if kind == "uri":
            return x509.UniformResourceIdentifier(value)
        return x509.RFC822Name(value)
    except ValueError as exc:
        raise EnrollmentRefused(f"The {kind} SAN '{value}' is not valid.") from exc


def _parse_subject(subject: str) -> x509.Name:
    """Keyfactor-style subject ("CN=x, O=y", S=/E= as .NET writes them) → x509.Name."""
    parts = [p.strip() for p in re.split(r"(?<!\\),", subject) if p.strip()]
    canonical = []
    for part in parts:
        attr, sep, value = part.partition("=")
        if not sep:
            raise EnrollmentRefused(f"The subject '{subject}' is not a valid X.500 name.")
        canonical.append(f"{attr.strip().upper()}={value.strip()}")
    try:
        name = x509.Name.from_rfc4514_string(
            ",".join(canonical), {"S": NameOID.STATE_OR_PROVINCE_NAME, "E": NameOID.EMAIL_ADDRESS}
        )
    except ValueError as exc:
        raise EnrollmentRefused(f"The subject '{subject}' is not a valid X.500 name.") from exc
    if not name.rdns:
        raise EnrollmentRefused("The subject is empty: give at least CN=<name>.")
    return name


def _serial() -> int:
    # 20 bytes, top bit clear, first byte 0x10-0x7F: always 40 hex digits, like the recorded serials.
    return ((secrets.randbelow(0x70) + 0x10) << 152) | secrets.randbits(152)


def _sign(
    ca: CertificateAuthority,
    subject: x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    template: Template,
    sans: list[x509.GeneralName],
    validity_days: int | None,
    crl_url: str | None,
) -> x509.Certificate:
    if not subject.rdns and not sans:
        raise EnrollmentRefused("The request has neither a subject nor SANs.")
    now = dt.datetime.now(dt.UTC)
    # Backdated for clock skew (10 minutes, as the recorded certificates and the Microsoft CA do);
    # never valid beyond the CA itself, as CAs truncate.
    not_before = now - dt.timedelta(minutes=10)
    not_after = min(now + dt.timedelta(days=validity_days or template.validity_days), ca.cert.not_valid_after_utc)
    rsa_key = isinstance(public_key, rsa.RSAPublicKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=rsa_key,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier(e.oid) for e in template.ekus]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_id(ca), critical=False)
    )
    if sans:
        # RFC 5280: SANs are critical when the subject is empty.
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=not subject.rdns)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder.sign(ca.key, hashes.SHA256())


def _authority_key_id(ca: CertificateAuthority) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _common_name(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None
