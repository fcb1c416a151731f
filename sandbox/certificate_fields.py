"""The JSON fields Keyfactor answers with about a certificate: GET /Certificates items and enrollment answers.

Field formats follow the 10.x spec (shared/keyfactor-openapi/openapi.yaml) and, where the spec says
only "string", the Command 25.4.1 recordings in keyfactor-pub/terraform-provider-keyfactor
(keyfactor/testdata/cassettes/certificate_resource_{csr,csr_ecc_p256,full_subject}.yaml):
SerialNumber/Thumbprint uppercase hex, NotBefore/NotAfter "2026-03-23T14:15:57Z", KeyType 1=RSA 3=ECC,
SubjectAltNameElements Type 2=DNS 7=IP, ValueHash = MD5 of the UTF-16LE value, uppercase hex.
This module deliberately shares no code with smoke/keyfactor/certs.py, so a client bug is not mirrored here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from .pki import CertificateAuthority
from .templates import EKUS_BY_OID, Eku

# CertificateRetrievalResponse.KeyType (spec enum 0-4): 1 RSA and 3 ECC recorded on 25.4.
KEY_TYPE_CODES = {"RSA": 1, "ECC": 3}

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
    return [(EKUS_BY_OID.get(oid.dotted_string) or Eku(0, oid.dotted_string, oid._name)).as_json() for oid in usages]


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
