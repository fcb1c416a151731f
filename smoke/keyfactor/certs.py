"""Client-side certificate helpers for the enrollment check: keys, CSRs, PKCS#12, parsing and validation.

Everything stays in memory (keys and PKCS#12 blobs are never written to disk). Errors meant for the
person running the suite are `CertificateError`s with a one-line message naming cause and fix.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from smoke.keyfactor.names import CertificateError, dn_text, parse_dn, unordered_key

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

RSA_SIZES = (2048, 3072, 4096)
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
_CURVE_ALIASES = {
    "SECP256R1": "P-256",
    "PRIME256V1": "P-256",
    "1.2.840.10045.3.1.7": "P-256",
    "256": "P-256",
    "SECP384R1": "P-384",
    "1.3.132.0.34": "P-384",
    "384": "P-384",
    "SECP521R1": "P-521",
    "1.3.132.0.35": "P-521",
    "521": "P-521",
}
_CURVE_BY_SIZE = {256: "P-256", 384: "P-384", 521: "P-521"}

# --- keys and CSRs ---------------------------------------------------------------------------------


def new_private_key(key_type: str = "RSA", size: int | None = None, curve: str | None = None) -> PrivateKey:
    """A fresh key: RSA 2048 (default), 3072, 4096, or ECC P-256 (default), P-384, P-521.

    For ECC give `curve` ("P-256", "secp384r1", an OID) or `size` (256/384/521).
    """
    kind = normalise_key_type(key_type)
    if kind == "RSA":
        bits = size or 2048
        if bits not in RSA_SIZES:
            raise CertificateError(f"RSA key size {bits} is not supported: use one of {_join(RSA_SIZES)}")
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return ec.generate_private_key(CURVES[_curve_name(curve, size)]())


def normalise_key_type(key_type: str) -> str:
    """ "RSA" or "ECC" (Keyfactor's KeyTypeString) from the usual spellings."""
    kind = key_type.strip().upper()
    if kind == "RSA":
        return "RSA"
    if kind in ("ECC", "EC", "ECDSA"):
        return "ECC"
    raise CertificateError(f"key type {key_type!r} is not supported: use RSA or ECC")


def _curve_name(curve: str | None, size: int | None) -> str:
    if curve is None:
        if size is None:
            return "P-256"
        if size in _CURVE_BY_SIZE:
            return _CURVE_BY_SIZE[size]
        raise CertificateError(f"ECC key size {size} is not supported: use 256, 384 or 521")
    name = curve.strip().upper()
    name = _CURVE_ALIASES.get(name, name)
    if name not in CURVES:
        raise CertificateError(f"curve {curve!r} is not supported: use one of {_join(CURVES)}")
    return name


def build_csr(key: PrivateKey, subject: str, dns_sans: Sequence[str]) -> str:
    """A PEM PKCS#10 request for `subject` (Keyfactor-style DN) with the DNS names as SubjectAltName."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(parse_dn(subject))
    if dns_sans:
        try:
            names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_sans]
        except ValueError as exc:
            raise CertificateError(f"DNS SAN list {list(dns_sans)} is not usable ({exc}): use ASCII names") from exc
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_matches(key: PrivateKey, cert: x509.Certificate) -> bool:
    """Whether `key` is the private half of the certificate's public key."""
    return _spki(key.public_key()) == _spki(cert.public_key())


def _spki(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- reading what Keyfactor returns --------------------------------------------------------------


def open_pkcs12(blob_b64: str, password: str) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
    """(key, certificate, chain leaf→root) from a base64 PKCS#12 such as Pkcs12Blob, in memory only."""
    try:
        data = base64.b64decode(blob_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertificateError(
            "the PKCS#12 (Pkcs12Blob) is not valid base64: check that the whole field was passed"
        ) from exc
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode("utf-8") or None)
    except ValueError as exc:
        # cryptography cannot tell a wrong password from damaged data; the password is never echoed.
        raise CertificateError(
            "cannot open the PKCS#12 (Pkcs12Blob): wrong password or damaged data; "
            "check the Password sent with the PFX enrollment"
        ) from exc
    if cert is None:
        raise CertificateError("the PKCS#12 (Pkcs12Blob) holds no certificate: check the enrollment answer")
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateError("the PKCS#12 (Pkcs12Blob) holds no RSA or ECC private key: check the template")
    ordered = _leaf_first([cert, *extra])
    return key, cert, [c for c in ordered if c is not cert]


def parse_certificates(data: str | bytes | Iterable[str]) -> list[x509.Certificate]:
    """Certificates from a Keyfactor answer, leaf first.

    Accepts the CSR answer's `Certificates` list (PEM strings, each possibly preceded by a "#CN=..."
    line, or base64 DER when x-certificateformat is DER), a PEM bundle, base64 DER (`ContentBytes`),
    base64 PKCS#7, or raw DER/PEM bytes.
    """
    if isinstance(data, bytes):
        items: list[str | bytes] = [data]
    elif isinstance(data, str):
        items = [data]
    else:
        items = list(data)
    certs: list[x509.Certificate] = []
    for number, item in enumerate(items, start=1):
        certs.extend(_parse_item(item, number))
    if not certs:
        raise CertificateError("the answer holds no certificate: check the enrollment/certificate response")
    return _leaf_first(certs)


def _parse_item(item: str | bytes, number: int) -> list[x509.Certificate]:
    raw = item if isinstance(item, bytes) else item.encode("utf-8")
    try:
        if b"-----BEGIN" in raw:
            if b"-----BEGIN PKCS7-----" in raw:
                return pkcs7.load_pem_pkcs7_certificates(raw)
            return x509.load_pem_x509_certificates(raw)
        der = raw if isinstance(item, bytes) else base64.b64decode("".join(item.split()), validate=True)
        try:
            return [x509.load_der_x509_certificate(der)]
        except ValueError:
            return pkcs7.load_der_pkcs7_certificates(der)
    except (ValueError, binascii.Error) as exc:
        preview = raw[:24].decode("utf-8", "replace").replace("\n", "\\n")
        raise CertificateError(
            f"certificate #{number} of the answer is neither PEM nor base64 DER (starts {preview!r}): "
            "check the x-certificateformat header (PEM or DER)"
        ) from exc


def _leaf_first(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Order by issuer names: the certificate that issued none of the others first, then up its chain."""
    unique: list[x509.Certificate] = []
    for cert in certs:
        if all(cert != seen for seen in unique):
            unique.append(cert)
    if len(unique) < 2:
        return unique
    issuers = {c.issuer.public_bytes() for c in unique if c.issuer != c.subject}
    leaves = [c for c in unique if c.subject.public_bytes() not in issuers]
    ordered = [leaves[0] if leaves else unique[0]]
    rest = [c for c in unique if c is not ordered[0]]
    while ordered[-1].issuer != ordered[-1].subject:
        parent = next((c for c in rest if c.subject == ordered[-1].issuer), None)
        if parent is None:
            break
        ordered.append(parent)
        rest.remove(parent)
    return ordered + rest


# --- validation and evidence ---------------------------------------------------------------------


def validate_issued(
    cert: x509.Certificate,
    *,
    expected_subject: str,
    expected_dns_sans: Sequence[str],
    issuer_certs: Sequence[x509.Certificate],
    expected_key_type: str | None,
    expected_key_size: int | None,
    now: dt.datetime | None = None,
    intermediates: Sequence[x509.Certificate] = (),
) -> list[str]:
    """What is wrong with an issued certificate, one line per problem; empty when it is as requested.

    The subject is compared attribute by attribute (CAs may reorder RDNs), DNS SANs as sets (case
    ignored). The certificate must be signed by one of `issuer_certs` (the chain or the configured CA
    bundle), directly or through `intermediates` (e.g. the returned chain when `issuer_certs` holds only
    the root); each link is checked by signature, not just by name.
    """
    problems: list[str] = []
    expected = parse_dn(expected_subject)
    if unordered_key(expected) != unordered_key(cert.subject):
        problems.append(f"subject differs: requested '{dn_text(expected)}', got '{dn_text(cert.subject)}'")

    wanted = {_norm_dns(n) for n in expected_dns_sans}
    got = {_norm_dns(n) for n in dns_sans(cert)}
    if wanted - got:
        problems.append(
            f"DNS SANs missing: {_join(sorted(wanted - got))} (requested {_join(sorted(wanted)) or 'none'}, "
            f"got {_join(sorted(got)) or 'none'})"
        )
    if got - wanted:
        problems.append(
            f"DNS SANs not requested but present: {_join(sorted(got - wanted))} "
            f"(requested {_join(sorted(wanted)) or 'none'})"
        )

    issuer_problem = _issuer_problem(cert, issuer_certs, intermediates)
    if issuer_problem:
        problems.append(issuer_problem)

    at = now or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    if at < cert.not_valid_before_utc:
        problems.append(f"not valid yet: valid from {_iso(cert.not_valid_before_utc)}, now is {_iso(at)}")
    if at > cert.not_valid_after_utc:
        problems.append(f"expired: valid until {_iso(cert.not_valid_after_utc)}, now is {_iso(at)}")

    got_type, got_size = key_type_and_size(cert)
    want_type = normalise_key_type(expected_key_type) if expected_key_type else None
    if (want_type and want_type != got_type) or (expected_key_size and expected_key_size != got_size):
        requested = " ".join(str(p) for p in (want_type, expected_key_size) if p)
        problems.append(f"key differs: requested {requested}, got {got_type} {got_size}")
    return problems


def _norm_dns(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _chains_to(
    cert: x509.Certificate,
    anchors: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
    depth: int = 6,
) -> bool:
    if any(_issued_by(cert, anchor) for anchor in anchors):
        return True
    if depth == 0:
        return False
    return any(
        _chains_to(i, anchors, intermediates, depth - 1)
        for i in intermediates
        if i != cert and i.subject != i.issuer and _issued_by(cert, i)
    )


def _issuer_problem(
    cert: x509.Certificate, issuer_certs: Sequence[x509.Certificate], intermediates: Sequence[x509.Certificate]
) -> str | None:
    if not issuer_certs:
        return "issuer not checked: no CA certificates given; pass the returned chain or the configured ca_bundle"
    if _chains_to(cert, issuer_certs, intermediates):
        return None
    named = dn_text(cert.issuer)
    if any(c.subject == cert.issuer for c in [*issuer_certs, *intermediates]):
        return (
            f"not issued by any of the given CAs: a CA named '{named}' is among them, but the signature does "
            "not verify with its key (another CA with the same name?)"
        )
    given = "; ".join(f"'{dn_text(c.subject)}'" for c in issuer_certs)
    return f"not issued by any of the given CAs: the certificate names issuer '{named}', the given CAs are {given}"


def key_type_and_size(cert_or_key: x509.Certificate | CertificatePublicKeyTypes | PrivateKey) -> tuple[str, int]:
    """("RSA", 2048), ("ECC", 256)... for a certificate or a public/private key."""
    key = cert_or_key.public_key() if isinstance(cert_or_key, x509.Certificate) else cert_or_key
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA", key.key_size
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "ECC", key.curve.key_size
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519", 256
    if isinstance(key, (ed448.Ed448PublicKey, ed448.Ed448PrivateKey)):
        return "Ed448", 456
    return type(key).__name__, 0


def dns_sans(cert: x509.Certificate) -> list[str]:
    """The certificate's DNS SubjectAltNames, in certificate order."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return ext.value.get_values_for_type(x509.DNSName)


def thumbprint(cert: x509.Certificate) -> str:
    """SHA-1 of the DER certificate, uppercase hex without separators (Keyfactor's Thumbprint)."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # an identifier, not a signature


def serial_hex(cert: x509.Certificate) -> str:
    """The serial number in uppercase hex, an even number of digits (Keyfactor's SerialNumber)."""
    digits = format(cert.serial_number, "X")
    return digits if len(digits) % 2 == 0 else "0" + digits


def describe(cert: x509.Certificate) -> dict[str, str]:
    """Evidence about a certificate for the report; never includes key material."""
    key_type, key_size = key_type_and_size(cert)
    key = f"{key_type} {key_size}"
    public_key = cert.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        key = f"ECC {_CURVE_BY_SIZE.get(key_size, public_key.curve.name)}"
    return {
        "subject": dn_text(cert.subject),
        "issuer": dn_text(cert.issuer),
        "serial": serial_hex(cert),
        "thumbprint": thumbprint(cert),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "key": key,
        "key_type": key_type,
        "key_size": str(key_size),
        "sans": _join(_san_texts(cert)),
        "signature_algorithm": cert.signature_algorithm_oid._name,
    }


def _san_texts(cert: x509.Certificate) -> list[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    texts = []
    for name in names:
        if isinstance(name, x509.DNSName):
            texts.append(f"DNS:{name.value}")
        elif isinstance(name, x509.IPAddress):
            texts.append(f"IP:{name.value}")
        elif isinstance(name, x509.UniformResourceIdentifier):
            texts.append(f"URI:{name.value}")
        elif isinstance(name, x509.RFC822Name):
            texts.append(f"email:{name.value}")
        else:
            texts.append(type(name).__name__)
    return texts


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _join(items: Iterable[object]) -> str:
    return ", ".join(str(i) for i in items)
