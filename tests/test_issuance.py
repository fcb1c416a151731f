"""Self-tests of sandbox/issuance.py, templates.py and certificate_fields.py: real issuance, template rules, PFX
content, answer shapes vs the spec."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from sandbox import certificate_fields, issuance, templates
from sandbox.issuance import EnrollmentRefused
from sandbox.pki import SandboxPKI
from sandbox.templates import Template
from tests import openapi_spec

WEB, WEB_ECC, WEB_APPROVAL, USER = templates.DEFAULT_TEMPLATES
SUBJECT = "CN=kf-smoke-abc.corp.example.com,O=Corp,OU=IT,C=US"
PASSWORD = "c0rrect-h0rse-pfx"
SPEC_PATH = openapi_spec.SPEC


@pytest.fixture(scope="module")
def pki() -> SandboxPKI:
    return SandboxPKI.create()


def _csr(key: Any, subject: str = SUBJECT, dns: tuple[str, ...] = ("kf-smoke-abc.corp.example.com",)) -> str:
    # Built here with cryptography directly, so these tests do not lean on smoke/keyfactor/certs.py.
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name.from_rfc4514_string(subject) if subject else x509.Name([])
    )
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def rsa2048() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def issued(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey) -> x509.Certificate:
    return issuance.issue_from_csr(pki.issuing, _csr(rsa2048), WEB, crl_url="http://pki.corp.example.com/issuing.crl")


def _dns(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


# --- templates -------------------------------------------------------------------------------------


def test_the_default_templates_cover_rsa_ecc_approval_and_user() -> None:
    assert [(t.common_name, t.key_type, t.key_size) for t in templates.DEFAULT_TEMPLATES] == [
        ("WebServer", "RSA", 2048),
        ("WebServerECC", "ECC", 256),
        ("WebServerApproval", "RSA", 2048),
        ("User", "RSA", 2048),
    ]
    assert WEB_APPROVAL.requires_approval and not WEB.requires_approval
    assert (USER.allows_pfx, USER.allows_csr) == (True, False)
    assert (WEB.allows_pfx, WEB.allows_csr) == (True, True)
    assert len({t.oid for t in templates.DEFAULT_TEMPLATES}) == 4


def test_templates_are_found_by_short_name_not_display_name() -> None:
    assert templates.find_template("webserverecc") is WEB_ECC
    assert templates.find_template("Web Server") is None


# --- template key rules ----------------------------------------------------------------------------


def test_a_larger_rsa_key_than_the_template_minimum_is_accepted(pki: SandboxPKI) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    cert = issuance.issue_from_csr(pki.issuing, _csr(key), WEB)
    assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 3072  # type: ignore[union-attr]


def test_an_rsa_key_below_the_template_minimum_is_refused_like_the_microsoft_ca(pki: SandboxPKI) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(EnrollmentRefused) as refused:
        issuance.issue_from_csr(pki.issuing, _csr(small), WEB)

    assert "does not meet the minimum size" in refused.value.message
    assert "CERTSRV_E_KEY_LENGTH" in refused.value.message
    assert "WebServer: RSA 2048, request: RSA 1024" in refused.value.message


@pytest.mark.parametrize(
    ("key", "template", "fragment"),
    [
        (ec.generate_private_key(ec.SECP256R1()), WEB, "key algorithm (ECC 256)"),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), WEB_ECC, "key algorithm (RSA 2048)"),
        (ec.generate_private_key(ec.SECP384R1()), WEB_ECC, "WebServerECC: ECC 256, request: ECC 384"),
    ],
    ids=["ecc-for-rsa-template", "rsa-for-ecc-template", "p384-for-p256-template"],
)
def test_a_key_of_the_wrong_kind_or_curve_is_refused(
    pki: SandboxPKI, key: Any, template: Template, fragment: str
) -> None:
    with pytest.raises(EnrollmentRefused) as refused:
        issuance.issue_from_csr(pki.issuing, _csr(key), template)
    assert fragment in refused.value.message
    assert "\n" not in refused.value.message


def test_an_ecc_key_on_the_template_curve_is_accepted(pki: SandboxPKI) -> None:
    cert = issuance.issue_from_csr(pki.issuing, _csr(ec.generate_private_key(ec.SECP256R1())), WEB_ECC)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)


def test_a_template_without_csr_enrollment_refuses_a_csr(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey) -> None:
    with pytest.raises(EnrollmentRefused, match="does not allow CSR enrollment"):
        issuance.issue_from_csr(pki.issuing, _csr(rsa2048), USER)


def test_a_tampered_csr_is_refused(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey) -> None:
    der = bytearray(x509.load_pem_x509_csr(_csr(rsa2048).encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # last byte of the signature
    with pytest.raises(EnrollmentRefused, match="signature is not valid"):
        issuance.issue_from_csr(pki.issuing, base64.b64encode(bytes(der)).decode(), WEB)


def test_text_that_is_no_csr_is_refused(pki: SandboxPKI) -> None:
    with pytest.raises(EnrollmentRefused, match="could not be parsed"):
        issuance.issue_from_csr(pki.issuing, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", WEB)


def test_a_bare_base64_der_csr_is_accepted(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey) -> None:
    der = x509.load_pem_x509_csr(_csr(rsa2048).encode()).public_bytes(serialization.Encoding.DER)
    cert = issuance.issue_from_csr(pki.issuing, base64.b64encode(der).decode(), WEB)
    assert cert.subject.rfc4514_string() == SUBJECT


# --- the issued certificate ------------------------------------------------------------------------


def test_the_certificate_is_signed_by_the_issuing_ca_with_the_csr_subject_and_key(
    issued: x509.Certificate, pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey
) -> None:
    issued.verify_directly_issued_by(pki.issuing.cert)
    assert issued.subject.rfc4514_string() == SUBJECT
    assert issued.public_key().public_numbers() == rsa2048.public_key().public_numbers()  # type: ignore[union-attr]
    assert _dns(issued) == ["kf-smoke-abc.corp.example.com"]


def test_the_certificate_carries_the_template_usages_and_key_identifiers(
    issued: x509.Certificate, pki: SandboxPKI
) -> None:
    ext = issued.extensions
    assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = ext.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment
    ca_ski = pki.issuing.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(issued.public_key())  # type: ignore[arg-type]
    points = ext.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name == [x509.UniformResourceIdentifier("http://pki.corp.example.com/issuing.crl")]


def test_the_certificate_is_backdated_and_ends_no_later_than_its_ca(issued: x509.Certificate, pki: SandboxPKI) -> None:
    now = dt.datetime.now(dt.UTC)
    assert now - dt.timedelta(minutes=11) < issued.not_valid_before_utc < now - dt.timedelta(minutes=9)
    # The template asks for 365 days; the sandbox CA lives 30, and CAs truncate to their own expiry.
    assert issued.not_valid_after_utc <= pki.issuing.cert.not_valid_after_utc


def test_a_shorter_validity_can_be_requested(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey) -> None:
    cert = issuance.issue_from_csr(pki.issuing, _csr(rsa2048), WEB, validity_days=2)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=2, minutes=10)


def test_serial_numbers_are_20_byte_positive_and_unique(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey) -> None:
    serials = [issuance.issue_from_csr(pki.issuing, _csr(rsa2048), WEB).serial_number for _ in range(5)]
    assert len(set(serials)) == 5
    assert all(len(format(s, "X")) == 40 and s.bit_length() <= 159 for s in serials)


# --- SANs ------------------------------------------------------------------------------------------


def test_request_sans_replace_the_csr_sans_and_their_types_are_case_insensitive(
    pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey
) -> None:
    sans = {
        "DNS": ["a.corp.example.com", "b.corp.example.com"],
        "Ip4": ["10.0.0.1"],
        "ip6": ["2001:db8::1"],
        "uri": ["https://a.corp.example.com/"],
        "rfc822": ["pki@corp.example.com"],
    }
    cert = issuance.issue_from_csr(pki.issuing, _csr(rsa2048), WEB, sans=sans)

    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["a.corp.example.com", "b.corp.example.com"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.1"),
        ipaddress.ip_address("2001:db8::1"),
    ]
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == ["https://a.corp.example.com/"]
    assert names.get_values_for_type(x509.RFC822Name) == ["pki@corp.example.com"]


@pytest.mark.parametrize("sans", [None, {}, {"dns": []}])
def test_an_empty_sans_object_keeps_the_csr_sans(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey, sans: Any) -> None:
    cert = issuance.issue_from_csr(
        pki.issuing, _csr(rsa2048, dns=("x.corp.example.com", "y.corp.example.com")), WEB, sans=sans
    )
    assert _dns(cert) == ["x.corp.example.com", "y.corp.example.com"]


@pytest.mark.parametrize(
    ("sans", "fragment"),
    [
        ({"ms_ntprincipalname": ["u@corp"]}, "SAN type 'ms_ntprincipalname' is not supported"),
        ({"ip4": ["10.0.0.300"]}, "ip4 SAN '10.0.0.300' is not valid"),
        ({"dns": "a.corp.example.com"}, "must be a list of strings"),
    ],
)
def test_bad_request_sans_are_refused(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey, sans: Any, fragment: str) -> None:
    with pytest.raises(EnrollmentRefused) as refused:
        issuance.issue_from_csr(pki.issuing, _csr(rsa2048), WEB, sans=sans)
    assert fragment in refused.value.message


def test_san_only_requests_get_a_critical_san_extension(pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey) -> None:
    cert = issuance.issue_from_csr(pki.issuing, _csr(rsa2048, subject=""), WEB)
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical
    with pytest.raises(EnrollmentRefused, match="neither a subject nor SANs"):
        issuance.issue_from_csr(pki.issuing, _csr(rsa2048, subject="", dns=()), WEB)


# --- PFX -------------------------------------------------------------------------------------------


def test_a_pfx_holds_a_template_key_the_certificate_and_the_chain(pki: SandboxPKI) -> None:
    blob, cert = issuance.issue_pfx(
        pki.issuing,
        WEB_ECC,
        "CN=pfx.corp.example.com, O=Corp, S=OH, E=pki@corp.example.com",
        {"dns": ["pfx.corp.example.com"]},
        PASSWORD,
        True,
        root=pki.root.cert,
    )
    content = pkcs12.load_pkcs12(blob, PASSWORD.encode())

    assert content.cert is not None and content.cert.certificate == cert
    assert content.cert.friendly_name == b"pfx.corp.example.com"
    assert [c.certificate for c in content.additional_certs] == [pki.issuing.cert, pki.root.cert]
    key = content.key
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    assert cert.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "OH"
    assert cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value == "pki@corp.example.com"
    assert _dns(cert) == ["pfx.corp.example.com"]


def test_a_pfx_without_chain_holds_only_the_certificate_and_an_rsa_key_of_template_size(pki: SandboxPKI) -> None:
    blob, cert = issuance.issue_pfx(
        pki.issuing, USER, "CN=Jane Doe,OU=Staff", None, PASSWORD, False, friendly_name="jane"
    )
    content = pkcs12.load_pkcs12(blob, PASSWORD.encode())

    assert content.additional_certs == []
    assert content.cert is not None and content.cert.friendly_name == b"jane"
    assert isinstance(content.key, rsa.RSAPrivateKey) and content.key.key_size == 2048
    ekus = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert ekus == [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]


def test_a_pfx_does_not_open_with_another_password(pki: SandboxPKI) -> None:
    blob, _ = issuance.issue_pfx(pki.issuing, WEB_ECC, "CN=pfx2", None, PASSWORD, False)
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(blob, b"wrong")


@pytest.mark.parametrize(
    ("template", "subject", "password", "fragment"),
    [
        (WEB_ECC, "CN=x", "", "password is required"),
        (WEB_ECC, "CN", PASSWORD, "not a valid X.500 name"),
        (WEB_ECC, " ", PASSWORD, "subject is empty"),
        (
            Template(9, "CsrOnly", "Csr Only", "Csr Only", "1.2.3.4", 2048, "RSA", allowed_enrollment_types=2),
            "CN=x",
            PASSWORD,
            "does not allow PFX enrollment",
        ),
    ],
)
def test_bad_pfx_requests_are_refused(
    pki: SandboxPKI, template: Template, subject: str, password: str, fragment: str
) -> None:
    with pytest.raises(EnrollmentRefused) as refused:
        issuance.issue_pfx(pki.issuing, template, subject, None, password, True)
    assert fragment in refused.value.message


# --- Keyfactor's answers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec_schemas() -> dict[str, Any]:
    components: dict[str, Any] = openapi_spec.spec()["components"]
    return components


def _spec_errors(components: dict[str, Any], schema_name: str, instance: Any) -> list[str]:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    validator = OAS30ReadValidator(schema, format_checker=oas30_format_checker)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def _unknown_fields(components: dict[str, Any], schema_name: str, instance: dict[str, Any]) -> set[str]:
    return set(instance) - set(components["schemas"][schema_name]["properties"])


def test_the_csr_answer_matches_pkcs10_certificate_response(
    spec_schemas: dict[str, Any], issued: x509.Certificate, pki: SandboxPKI
) -> None:
    info = certificate_fields.csr_certificate_information(issued, pki.issuing, keyfactor_id=42, root=pki.root.cert)
    answer = {"CertificateInformation": info, "Metadata": {}}

    assert _spec_errors(spec_schemas, "Models.Enrollment.CSREnrollmentResponse", answer) == []
    assert _unknown_fields(spec_schemas, "Models.Pkcs10CertificateResponse", info) == set()
    assert info["KeyfactorID"] == 42 and "KeyfactorId" not in info
    assert len(info["Certificates"]) == 3
    for entry, cert in zip(info["Certificates"], [issued, pki.issuing.cert, pki.root.cert], strict=True):
        header, body = entry.split("\n", 1)
        assert header == "#" + certificate_fields.keyfactor_dn(cert.subject)
        assert body == cert.public_bytes(serialization.Encoding.PEM).decode()
    assert info["Certificates"][0].startswith("#CN=kf-smoke-abc.corp.example.com,O=Corp,OU=IT,C=US\n-----BEGIN")


def test_the_pfx_answer_matches_pkcs12_certificate_response(spec_schemas: dict[str, Any], pki: SandboxPKI) -> None:
    blob, cert = issuance.issue_pfx(pki.issuing, WEB_ECC, "CN=pfx3", None, PASSWORD, True)
    info = certificate_fields.pfx_certificate_information(blob, cert, pki.issuing, keyfactor_id=43)
    answer = {"CertificateInformation": info, "Metadata": {}}

    assert _spec_errors(spec_schemas, "Models.Enrollment.PFXEnrollmentResponse", answer) == []
    assert _unknown_fields(spec_schemas, "Models.Pkcs12CertificateResponse", info) == set()
    assert info["KeyfactorId"] == 43 and "KeyfactorID" not in info
    assert base64.b64decode(info["Pkcs12Blob"]) == blob
    assert PASSWORD not in str(info)


def test_the_certificate_fields_match_certificate_retrieval_response(
    spec_schemas: dict[str, Any], pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey
) -> None:
    cert = issuance.issue_from_csr(
        pki.issuing,
        _csr(rsa2048),
        WEB,
        sans={"dns": ["a.corp.example.com"], "ip4": ["10.0.0.1"]},
        crl_url="http://pki.corp.example.com/i.crl",
    )
    fields = certificate_fields.keyfactor_fields(cert, pki.issuing)

    assert _spec_errors(spec_schemas, "Models.CertificateRetrievalResponse", fields) == []
    assert _unknown_fields(spec_schemas, "Models.CertificateRetrievalResponse", fields) == set()


def test_template_answers_match_the_spec_apart_from_its_known_enrollment_type_enum(
    spec_schemas: dict[str, Any], pki: SandboxPKI
) -> None:
    # The spec's AllowedEnrollmentTypes enum is [0, 1, 2, 4]; Keyfactor documents a bitmask (3 = PFX and
    # CSR), and the vendor's Go SDK patched its copy the same way (SWAGGER_GAPS_FOR_ENGINEERING.md).
    components = {**spec_schemas, "schemas": dict(spec_schemas["schemas"])}
    name = "Models.TemplateCollectionRetrievalResponse"
    patched = dict(components["schemas"][name])
    patched["properties"] = {
        **patched["properties"],
        "AllowedEnrollmentTypes": {"type": "integer", "enum": [0, 1, 2, 3]},
    }
    components["schemas"][name] = patched

    for template in templates.DEFAULT_TEMPLATES:
        assert _spec_errors(components, name, template.template_response()) == []
        assert _unknown_fields(spec_schemas, name, template.template_response()) == set()
    context = {
        "Templates": [
            t.enrollment_template([r"sandbox.corp.example.com\Issuing CA 1"]) for t in templates.DEFAULT_TEMPLATES
        ],
        "StandaloneCAs": [],
    }
    assert _spec_errors(spec_schemas, "Core.Models.Enrollment.EnrollmentTemplateCAResponse", context) == []


def test_the_fields_use_the_recorded_keyfactor_formats(issued: x509.Certificate, pki: SandboxPKI) -> None:
    fields = certificate_fields.keyfactor_fields(issued, pki.issuing)
    post = certificate_fields.csr_certificate_information(issued, pki.issuing, keyfactor_id=1)

    assert re.fullmatch(r"[0-9A-F]{40}", fields["Thumbprint"])
    assert fields["Thumbprint"] == issued.fingerprint(hashes.SHA1()).hex().upper()
    assert re.fullmatch(r"[0-9A-F]{40}", fields["SerialNumber"])
    assert int(fields["SerialNumber"], 16) == issued.serial_number
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["NotBefore"])
    assert fields["NotAfter"] == issued.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert fields["IssuedDN"] == SUBJECT
    assert fields["IssuedCN"] == "kf-smoke-abc.corp.example.com"
    assert fields["IssuedOU"] == "IT"
    assert (fields["KeyType"], fields["KeyTypeString"], fields["KeySizeInBits"]) == (1, "RSA", 2048)
    assert (fields["KeyUsage"], fields["DetailedKeyUsage"]["HexCode"]) == (160, "a0")
    assert fields["SigningAlgorithm"] == "SHA-256withECDSA"
    assert x509.load_der_x509_certificate(base64.b64decode(fields["ContentBytes"])) == issued
    assert fields["ExtendedKeyUsages"] == [
        {"Id": 1, "Oid": "1.3.6.1.5.5.7.3.1", "DisplayName": "Server Authentication"}
    ]
    # IssuerDN: without spaces on GET, with spaces on the enrollment POST (TF provider CHANGELOG v2.0.0).
    assert ", " not in fields["IssuerDN"] and fields["IssuerDN"].count(",") == 1
    assert post["IssuerDN"] == fields["IssuerDN"].replace(",", ", ")


def test_ecc_certificates_report_key_type_3(pki: SandboxPKI) -> None:
    cert = issuance.issue_from_csr(pki.issuing, _csr(ec.generate_private_key(ec.SECP256R1())), WEB_ECC)
    fields = certificate_fields.keyfactor_fields(cert, pki.issuing)
    assert (fields["KeyType"], fields["KeyTypeString"], fields["KeySizeInBits"], fields["KeyUsage"]) == (
        3,
        "ECC",
        256,
        128,
    )


def test_san_elements_use_general_name_codes_and_keyfactors_value_hash(
    pki: SandboxPKI, rsa2048: rsa.RSAPrivateKey
) -> None:
    cert = issuance.issue_from_csr(
        pki.issuing, _csr(rsa2048), WEB, sans={"ip4": ["10.0.0.1"], "dns": ["san1.fullsub.example.com"]}
    )
    elements = certificate_fields.keyfactor_fields(cert, pki.issuing)["SubjectAltNameElements"]

    # Type and ValueHash as recorded from Command 25.4.1 for these very values.
    assert [(e["Value"], e["Type"], e["ValueHash"]) for e in elements] == [
        ("10.0.0.1", 7, "AC1D841FDD8BB66F77BE2B5B0860C2E2"),
        ("san1.fullsub.example.com", 2, "0C7F3FCE21761660D2D23B356BDC5A38"),
    ]


def test_der_answers_carry_base64_der_without_header_lines(issued: x509.Certificate, pki: SandboxPKI) -> None:
    entries = certificate_fields.certificates_field(issued, pki.issuing, include_chain=False, certificate_format="DER")
    assert entries == [base64.b64encode(issued.public_bytes(serialization.Encoding.DER)).decode()]
