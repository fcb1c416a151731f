"""Issuance by the sandbox's issuing CA, and the JSON fields Keyfactor answers with about a certificate.

Real X.509: CSRs are verified, template key rules enforced, certificates signed by `SandboxPKI.issuing`,
PFX built as password-protected PKCS#12. Everything stays in memory.

Field formats follow the 10.x spec (shared/keyfactor-openapi/openapi.yaml) and, where the spec says
only "string", the Command 25.4.1 recordings in keyfactor-pub/terraform-provider-keyfactor
(keyfactor/testdata/cassettes/certificate_resource_{csr,csr_ecc_p256,full_subject}.yaml):
SerialNumber/Thumbprint uppercase hex, NotBefore/NotAfter "2026-03-23T14:15:57Z", KeyType 1=RSA 3=ECC,
SubjectAltNameElements Type 2=DNS 7=IP, ValueHash = MD5 of the UTF-16LE value, uppercase hex.
This module deliberately shares no code with smoke/certs.py, so a client bug is not mirrored here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from sandbox.pki import CertificateAuthority, PrivateKey

FOREST = "corp.example.com"

# GeneralName tags, as Keyfactor's SubjectAltNameElements.Type uses them (2 DNS and 7 IP recorded on 25.4).
SAN_TYPE_CODES = {"rfc822": 1, "dns": 2, "uri": 6, "ip4": 7, "ip6": 7}
# CertificateRetrievalResponse.KeyType (spec enum 0-4): 1 RSA and 3 ECC recorded on 25.4.
KEY_TYPE_CODES = {"RSA": 1, "ECC": 3}
CURVES: dict[str, tuple[type[ec.EllipticCurve], str]] = {
    "P-256": (ec.SECP256R1, "1.2.840.10045.3.1.7"),
    "P-384": (ec.SECP384R1, "1.3.132.0.34"),
}
_CURVE_BY_SIZE = {256: "P-256", 384: "P-384"}


@dataclass(frozen=True)
class Eku:
    id: int  # Keyfactor's database id; 1 = Server Authentication as recorded, the others are sandbox ids
    oid: str
    display_name: str

    def as_json(self) -> dict[str, Any]:
        return {"Id": self.id, "Oid": self.oid, "DisplayName": self.display_name}


SERVER_AUTH = Eku(1, ExtendedKeyUsageOID.SERVER_AUTH.dotted_string, "Server Authentication")
CLIENT_AUTH = Eku(2, ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string, "Client Authentication")
SECURE_EMAIL = Eku(3, ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string, "Secure Email")
_EKUS_BY_OID = {e.oid: e for e in (SERVER_AUTH, CLIENT_AUTH, SECURE_EMAIL)}
_ANY_PURPOSE = Eku(24, "2.5.29.37.0", "Any Purpose")


class EnrollmentRefused(Exception):
    """The CA or Keyfactor would refuse this request; `message` is what the sandbox answers with."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Template:
    """A certificate template as the sandbox serves it (GET /Templates, /Enrollment/*/Context/My)."""

    id: int
    common_name: str  # the short name enrollment requests send as "Template"
    template_name: str  # the full display name, as in CertificateRetrievalResponse.TemplateName
    display_name: str
    oid: str
    key_size: int  # RSA: minimum modulus size; ECC: the curve size (P-256 → 256)
    key_type: str  # "RSA" or "ECC"
    forest_root: str = FOREST
    requires_approval: bool = False
    allowed_enrollment_types: int = 3  # bitmask: 1 PFX, 2 CSR, 3 both
    validity_days: int = 365
    ekus: tuple[Eku, ...] = field(default=(SERVER_AUTH,))

    @property
    def allows_pfx(self) -> bool:
        return bool(self.allowed_enrollment_types & 1)

    @property
    def allows_csr(self) -> bool:
        return bool(self.allowed_enrollment_types & 2)

    @property
    def curve(self) -> str | None:
        """ "P-256"/"P-384" for ECC templates."""
        return _CURVE_BY_SIZE.get(self.key_size) if self.key_type == "ECC" else None

    def template_response(self) -> dict[str, Any]:
        """GET /Templates item (TemplateCollectionRetrievalResponse)."""
        return {
            "Id": self.id,
            "CommonName": self.common_name,
            "TemplateName": self.template_name,
            "Oid": self.oid,
            "KeySize": str(self.key_size),
            "KeyType": self.key_type,
            "ForestRoot": self.forest_root,
            "FriendlyName": self.display_name,
            "KeyRetention": 0,
            "KeyRetentionDays": 0,
            "KeyArchival": False,
            "EnrollmentFields": [],
            # The spec's enum says [0, 1, 2, 4]; Keyfactor documents a bitmask and returns 3 for both.
            "AllowedEnrollmentTypes": self.allowed_enrollment_types,
            "TemplateRegexes": [],
            "UseAllowedRequesters": False,
            "AllowedRequesters": [],
            "DisplayName": self.display_name,
            "RequiresApproval": self.requires_approval,
            "KeyUsage": _key_usage_code(self.key_type),
            "ExtendedKeyUsages": [e.as_json() for e in self.ekus],
        }

    def enrollment_template(self, ca_names: Sequence[str] = ()) -> dict[str, Any]:
        """An item of EnrollmentTemplateCAResponse.Templates (GET /Enrollment/{PFX,CSR}/Context/My)."""
        curve = self.curve
        return {
            "Id": self.id,
            "Name": self.common_name,
            "DisplayName": self.display_name,
            "Forest": self.forest_root,
            "KeySize": str(self.key_size),
            "KeyType": self.key_type,
            "RequiresApproval": self.requires_approval,
            "RFCEnforcement": False,
            "CAs": [{"Name": name, "RFCEnforcement": False, "SubscriberTerms": False} for name in ca_names],
            "EnrollmentFields": [],
            "MetadataFields": [],
            "Regexes": [],
            "ExtendedKeyUsages": [e.as_json() for e in self.ekus],
            "Curve": CURVES[curve][1] if curve else None,  # OID, as 25.4 lists curves; 10.x format unknown
        }


def _template_oid(n: int) -> str:
    return f"1.3.6.1.4.1.311.21.8.7720317.13478329.1605123.8711612.10485126.{n}"


DEFAULT_TEMPLATES: tuple[Template, ...] = (
    Template(1, "WebServer", "Web Server", "Web Server", _template_oid(1), 2048, "RSA"),
    Template(2, "WebServerECC", "Web Server ECC", "Web Server ECC", _template_oid(2), 256, "ECC"),
    Template(
        3,
        "WebServerApproval",
        "Web Server (Manager Approval)",
        "Web Server (Manager Approval)",
        _template_oid(3),
        2048,
        "RSA",
        requires_approval=True,
    ),
    Template(
        4,
        "User",
        "User",
        "User",
        _template_oid(4),
        2048,
        "RSA",
        allowed_enrollment_types=1,
        ekus=(CLIENT_AUTH, SECURE_EMAIL),
    ),
)


def find_template(name: str, templates: Sequence[Template] = DEFAULT_TEMPLATES) -> Template | None:
    """The template whose short name (CommonName) is `name`, ignoring case, as enrollment requests name it."""
    wanted = name.strip().casefold()
    return next((t for t in templates if t.common_name.casefold() == wanted), None)


# --- issuance --------------------------------------------------------------------------------------


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


# --- Keyfactor's view of a certificate ------------------------------------------------------------

_DN_NAMES = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
}


def keyfactor_dn(name: x509.Name, *, spaces: bool = False) -> str:
    """Most specific RDN first; "CN=x,O=y" as GET /Certificates shows it, "CN=x, O=y" on enrollment POSTs."""
    rdns = [
        "+".join(f"{_DN_NAMES.get(a.oid, 'OID.' + a.oid.dotted_string)}={_dn_escape(a.value)}" for a in rdn)
        for rdn in reversed(name.rdns)
    ]
    return (", " if spaces else ",").join(rdns)


def _dn_escape(value: str | bytes) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return re.sub(r'([,+"\\<>;=])', r"\\\1", text)


def keyfactor_date(moment: dt.datetime) -> str:
    """.NET UTC "2026-03-23T14:15:57Z", as NotBefore/NotAfter are recorded (no fractional seconds)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def serial_number(cert: x509.Certificate) -> str:
    digits = format(cert.serial_number, "X")
    return digits if len(digits) % 2 == 0 else "0" + digits


def thumbprint(cert: x509.Certificate) -> str:
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER), usedforsecurity=False).hexdigest().upper()


def _kf_hash(text: str) -> str:
    # Keyfactor's ValueHash/UrlHash: MD5 of the .NET (UTF-16LE) string; checked against 25.4 recordings.
    return hashlib.md5(text.encode("utf-16-le"), usedforsecurity=False).hexdigest().upper()


def _common_name(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def _first(name: x509.Name, oid: ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _key_type_and_size(cert: x509.Certificate) -> tuple[str, int]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECC", key.curve.key_size
    return "Unknown", 0


def _key_usage_code(key_type: str) -> int:
    # X509KeyUsageFlags: DigitalSignature 128 + KeyEncipherment 32 = 160 (recorded for RSA).
    return 160 if key_type == "RSA" else 128


def _key_usage(cert: x509.Certificate) -> tuple[int, dict[str, Any]]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    flags = {
        "DigitalSignature": (128, usage.digital_signature if usage else False),
        "NonRepudiation": (64, usage.content_commitment if usage else False),
        "KeyEncipherment": (32, usage.key_encipherment if usage else False),
        "DataEncipherment": (16, usage.data_encipherment if usage else False),
        "KeyAgreement": (8, usage.key_agreement if usage else False),
        "KeyCertSign": (4, usage.key_cert_sign if usage else False),
        "CrlSign": (2, usage.crl_sign if usage else False),
        "EncipherOnly": (1, bool(usage and usage.key_agreement and usage.encipher_only)),
        "DecipherOnly": (32768, bool(usage and usage.key_agreement and usage.decipher_only)),
    }
    code = sum(bit for bit, on in flags.values() if on)
    detailed: dict[str, Any] = {name: on for name, (_, on) in flags.items()}
    detailed["HexCode"] = format(code, "x")
    return code, detailed


def _san_elements(cert: x509.Certificate) -> list[dict[str, Any]]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    elements = []
    for number, name in enumerate(names, start=1):
        if isinstance(name, x509.DNSName):
            code, value = 2, name.value
        elif isinstance(name, x509.IPAddress):
            code, value = 7, str(name.value)
        elif isinstance(name, x509.UniformResourceIdentifier):
            code, value = 6, name.value
        elif isinstance(name, x509.RFC822Name):
            code, value = 1, name.value
        else:
            continue
        elements.append({"Id": number, "Value": value, "Type": code, "ValueHash": _kf_hash(value)})
    return elements


def _ekus(cert: x509.Certificate) -> list[dict[str, Any]]:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []
    known = {**_EKUS_BY_OID, _ANY_PURPOSE.oid: _ANY_PURPOSE}
    return [(known.get(oid.dotted_string) or Eku(0, oid.dotted_string, oid._name)).as_json() for oid in usages]


def _crl_points(cert: x509.Certificate) -> list[dict[str, Any]]:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    urls = [n.value for p in points for n in (p.full_name or []) if isinstance(n, x509.UniformResourceIdentifier)]
    return [{"Id": i, "Url": url, "UrlHash": _kf_hash(url)} for i, url in enumerate(urls, start=1)]


def _signing_algorithm(cert: x509.Certificate) -> str:
    # Recorded as "SHA-256withRSA" (25.4); the sandbox CA's ECDSA signature follows the same pattern.
    digest = cert.signature_hash_algorithm
    digest_name = digest.name.upper().replace("SHA", "SHA-") if digest else "NONE"
    issuer_key = "RSA" if "RSA" in cert.signature_algorithm_oid._name.upper() else "ECDSA"
    return f"{digest_name}with{issuer_key}"


def keyfactor_fields(cert: x509.Certificate, ca: CertificateAuthority) -> dict[str, Any]:
    """The certificate as GET /Certificates/{id} describes it (CertificateRetrievalResponse fields).

    The server adds Id, ImportDate, TemplateId/TemplateName, CertState, CertificateAuthorityName... .
    IssuerDN is in the GET form (no spaces); enrollment answers use `keyfactor_dn(..., spaces=True)`.
    """
    key_type, key_size = _key_type_and_size(cert)
    usage_code, usage_detail = _key_usage(cert)
    return {
        "Thumbprint": thumbprint(cert),
        "SerialNumber": serial_number(cert),
        "IssuedDN": keyfactor_dn(cert.subject),
        "IssuedCN": _first(cert.subject, NameOID.COMMON_NAME),
        "IssuedOU": _first(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
        "IssuedEmail": _first(cert.subject, NameOID.EMAIL_ADDRESS),
        "NotBefore": keyfactor_date(cert.not_valid_before_utc),
        "NotAfter": keyfactor_date(cert.not_valid_after_utc),
        "IssuerDN": keyfactor_dn(ca.cert.subject),
        "KeySizeInBits": key_size,
        "KeyType": KEY_TYPE_CODES.get(key_type, 0),
        "KeyTypeString": key_type,
        "Curve": None,  # null even for ECC in the 25.4 recording
        "KeyUsage": usage_code,
        "DetailedKeyUsage": usage_detail,
        "SigningAlgorithm": _signing_algorithm(cert),
        "ContentBytes": base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii"),
        "ExtendedKeyUsages": _ekus(cert),
        "SubjectAltNameElements": _san_elements(cert),
        "CRLDistributionPoints": _crl_points(cert),
    }


def certificates_field(
    cert: x509.Certificate,
    ca: CertificateAuthority,
    *,
    root: x509.Certificate | None = None,
    include_chain: bool = True,
    certificate_format: str = "PEM",
) -> list[str]:
    """`Certificates` of a CSR enrollment answer, leaf→root.

    PEM: each entry "#<subject DN>\\n-----BEGIN CERTIFICATE-----...\\n" as recorded on 25.4 (only
    single-CN subjects were recorded, so whether the header holds the full DN or only CN= is unknown);
    DER: base64 DER per entry.
    """
    chain = [cert, *([ca.cert, *([root] if root else [])] if include_chain else [])]
    if certificate_format.upper() == "DER":
        return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain]
    return [f"#{keyfactor_dn(c.subject)}\n" + c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain]


def csr_certificate_information(
    cert: x509.Certificate,
    ca: CertificateAuthority,
    *,
    keyfactor_id: int,
    root: x509.Certificate | None = None,
    include_chain: bool = True,
    certificate_format: str = "PEM",
    request_id: int = 0,
) -> dict[str, Any]:
    """CSREnrollmentResponse.CertificateInformation (Pkcs10CertificateResponse: note "KeyfactorID")."""
    return {
        "SerialNumber": serial_number(cert),
        "IssuerDN": keyfactor_dn(ca.cert.subject, spaces=True),
        "Thumbprint": thumbprint(cert),
        "KeyfactorID": keyfactor_id,
        "Certificates": certificates_field(
            cert, ca, root=root, include_chain=include_chain, certificate_format=certificate_format
        ),
        "KeyfactorRequestId": request_id,
        "RequestDisposition": "ISSUED",
        "DispositionMessage": "",
        "EnrollmentContext": None,
    }


def pfx_certificate_information(
    pkcs12_blob: bytes,
    cert: x509.Certificate,
    ca: CertificateAuthority,
    *,
    keyfactor_id: int,
    request_id: int = 0,
) -> dict[str, Any]:
    """PFXEnrollmentResponse.CertificateInformation (Pkcs12CertificateResponse: note "KeyfactorId").

    Password is "": the 25.4 recording shows null (spec: non-nullable string); the sandbox never echoes it.
    """
    return {
        "SerialNumber": serial_number(cert),
        "IssuerDN": keyfactor_dn(ca.cert.subject, spaces=True),
        "Thumbprint": thumbprint(cert),
        "KeyfactorId": keyfactor_id,
        "Pkcs12Blob": base64.b64encode(pkcs12_blob).decode("ascii"),
        "Password": "",
        "KeyfactorRequestId": request_id,
        "RequestDisposition": "ISSUED",
        "DispositionMessage": "The private key was successfully retained.",
        "EnrollmentContext": None,
    }
