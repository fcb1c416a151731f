"""Self-tests of smoke/keyfactor/certs.py with real keys and certificates issued by the sandbox's CA."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from sandbox import certificate_fields, issuance, templates
from sandbox.pki import SandboxPKI
from smoke.keyfactor import certs, names

SUBJECT = "CN=kf-smoke-abc.corp.example.com,O=Corp,OU=IT,C=US"
SANS = ["kf-smoke-abc.corp.example.com", "alt.corp.example.com"]
PASSWORD = "Tr0ub4dor&3-pfx"


@pytest.fixture(scope="module")
def pki() -> SandboxPKI:
    return SandboxPKI.create()


@pytest.fixture(scope="module")
def rsa_key() -> certs.PrivateKey:
    return certs.new_private_key("RSA", 2048)


@pytest.fixture(scope="module")
def issued(pki: SandboxPKI, rsa_key: certs.PrivateKey) -> x509.Certificate:
    csr = certs.build_csr(rsa_key, SUBJECT, SANS)
    return issuance.issue_from_csr(pki.issuing, csr, templates.DEFAULT_TEMPLATES[0])


def _problems(cert: x509.Certificate, pki: SandboxPKI, **overrides: object) -> list[str]:
    arguments: dict[str, object] = {
        "expected_subject": SUBJECT,
        "expected_dns_sans": SANS,
        "issuer_certs": [pki.issuing.cert],
        "expected_key_type": "RSA",
        "expected_key_size": 2048,
    }
    arguments.update(overrides)
    return certs.validate_issued(cert, **arguments)  # type: ignore[arg-type]


def _one_line(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    assert "\n" not in problems[0]
    return problems[0]


# --- keys and CSRs ---------------------------------------------------------------------------------


def test_a_csr_carries_the_subject_and_the_dns_sans_and_is_signed_by_its_key(rsa_key: certs.PrivateKey) -> None:
    pem = certs.build_csr(rsa_key, "CN=kf-smoke-abc.corp.example.com, O=Corp, OU=IT, C=US", SANS)

    csr = x509.load_pem_x509_csr(pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == SUBJECT
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == SANS
    assert csr.public_key().public_numbers() == rsa_key.public_key().public_numbers()  # type: ignore[union-attr]
    assert "PRIVATE" not in pem


def test_a_csr_without_sans_has_no_san_extension(rsa_key: certs.PrivateKey) -> None:
    csr = x509.load_pem_x509_csr(certs.build_csr(rsa_key, "CN=only-cn", []).encode())
    with pytest.raises(x509.ExtensionNotFound):
        csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)


@pytest.mark.parametrize(
    ("key_type", "size", "curve", "expected"),
    [
        ("RSA", None, None, ("RSA", 2048)),
        ("rsa", 3072, None, ("RSA", 3072)),
        ("ECC", None, None, ("ECC", 256)),
        ("ECC", 384, None, ("ECC", 384)),
        ("ECDSA", None, "secp384r1", ("ECC", 384)),
        ("EC", None, "P-256", ("ECC", 256)),
    ],
)
def test_new_private_key_makes_the_requested_rsa_or_ecc_key(
    key_type: str, size: int | None, curve: str | None, expected: tuple[str, int]
) -> None:
    assert certs.key_type_and_size(certs.new_private_key(key_type, size, curve)) == expected


@pytest.mark.parametrize(
    ("key_type", "size", "curve"),
    [("RSA", 1024, None), ("DSA", None, None), ("ECC", 224, None), ("ECC", None, "P-192")],
)
def test_new_private_key_refuses_what_it_does_not_support_in_one_line(
    key_type: str, size: int | None, curve: str | None
) -> None:
    with pytest.raises(certs.CertificateError) as error:
        certs.new_private_key(key_type, size, curve)
    assert "\n" not in str(error.value)
    assert "use" in str(error.value)


# --- distinguished names -------------------------------------------------------------------------


def test_parse_dn_reads_keyfactor_subjects_with_spaces_and_escaped_commas() -> None:
    name = names.parse_dn(r"CN=kf-smoke-abc.corp.example.com, O=Corp\, Inc.,OU=IT ,  C=US")

    assert name == x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "IT"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Corp, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, "kf-smoke-abc.corp.example.com"),
        ]
    )


def test_parse_dn_reads_dotnet_quoted_values_hex_escapes_and_s_e_names() -> None:
    name = names.parse_dn('CN=web01, O="Corp, Inc.", L=Z\\C3\\BCrich, S=ZH, E=pki@corp.example.com, C=CH')

    assert name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Corp, Inc."
    assert name.get_attributes_for_oid(NameOID.LOCALITY_NAME)[0].value == "Zürich"
    assert name.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "ZH"
    assert name.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value == "pki@corp.example.com"


def test_parse_dn_reads_multi_valued_rdns_and_dotted_oids() -> None:
    name = names.parse_dn("CN=a+UID=b,OID.2.5.4.97=VATDE-123,O=Corp")

    assert len(name.rdns) == 3
    assert len(name.rdns[-1]) == 2
    assert name.get_attributes_for_oid(x509.ObjectIdentifier("2.5.4.97"))[0].value == "VATDE-123"


def test_dn_text_writes_a_parsed_subject_back_as_it_was_given() -> None:
    assert names.dn_text(names.parse_dn(SUBJECT)) == SUBJECT
    assert (
        names.dn_text(names.parse_dn(SUBJECT), spaces=True) == "CN=kf-smoke-abc.corp.example.com, O=Corp, OU=IT, C=US"
    )
    assert names.dn_text(names.parse_dn(r"CN=a\,b,O=c")) == r"CN=a\,b,O=c"


@pytest.mark.parametrize(
    "text", ["", "   ", "CN", "CN=a,,O=b", "CN=a,", "XX=1", "C=USA", 'O="unclosed', "CN=", "CN=a\\"]
)
def test_parse_dn_names_the_bad_subject_and_the_expected_form_in_one_line(text: str) -> None:
    with pytest.raises(certs.CertificateError) as error:
        names.parse_dn(text)
    message = str(error.value)
    assert "\n" not in message
    assert repr(text) in message
    assert "CN=host.corp.example.com" in message


# --- validate_issued -----------------------------------------------------------------------------


def test_a_correctly_issued_certificate_has_no_problems(issued: x509.Certificate, pki: SandboxPKI) -> None:
    assert _problems(issued, pki) == []


def test_the_check_accepts_reordered_rdns_and_reordered_or_differently_cased_sans(
    issued: x509.Certificate, pki: SandboxPKI
) -> None:
    assert (
        _problems(
            issued,
            pki,
            expected_subject="C=US, OU=IT, O=Corp, CN=kf-smoke-abc.corp.example.com",
            expected_dns_sans=["ALT.corp.example.com", "kf-smoke-abc.corp.example.com."],
            expected_key_type="rsa",
        )
        == []
    )


def test_the_check_follows_the_chain_from_the_ca_bundle_root_through_the_returned_intermediate(
    issued: x509.Certificate, pki: SandboxPKI
) -> None:
    assert _problems(issued, pki, issuer_certs=[pki.root.cert], intermediates=[pki.issuing.cert]) == []
    assert "not issued by any of the given CAs" in _one_line(_problems(issued, pki, issuer_certs=[pki.root.cert]))


def test_a_wrong_subject_is_reported_with_both_subjects(issued: x509.Certificate, pki: SandboxPKI) -> None:
    line = _one_line(_problems(issued, pki, expected_subject="CN=kf-smoke-abc.corp.example.com,O=Other,C=US"))

    assert line.startswith("subject differs:")
    assert "requested 'CN=kf-smoke-abc.corp.example.com,O=Other,C=US'" in line
    assert f"got '{SUBJECT}'" in line


def test_a_missing_san_is_reported_by_name(issued: x509.Certificate, pki: SandboxPKI) -> None:
    line = _one_line(_problems(issued, pki, expected_dns_sans=[*SANS, "third.corp.example.com"]))

    assert line.startswith("DNS SANs missing: third.corp.example.com")


def test_an_extra_san_is_reported_by_name(issued: x509.Certificate, pki: SandboxPKI) -> None:
    line = _one_line(_problems(issued, pki, expected_dns_sans=SANS[:1]))

    assert line.startswith("DNS SANs not requested but present: alt.corp.example.com")


def test_a_certificate_from_another_ca_is_not_accepted(issued: x509.Certificate) -> None:
    other = SandboxPKI.create("Other")
    line = _one_line(_problems(issued, other, issuer_certs=[other.issuing.cert, other.root.cert]))

    assert "not issued by any of the given CAs" in line
    assert "Keyfactor Smoke Sandbox Issuing CA 1" in line
    assert "Keyfactor Smoke Other Issuing CA 1" in line


def test_a_ca_with_the_same_name_but_another_key_is_caught_by_the_signature(issued: x509.Certificate) -> None:
    twin = SandboxPKI.create()  # same names as the fixture's PKI, new keys

    line = _one_line(_problems(issued, twin, issuer_certs=[twin.issuing.cert]))
    assert "signature does not verify" in line


def test_an_expired_certificate_is_reported_with_its_end_date(issued: x509.Certificate, pki: SandboxPKI) -> None:
    later = issued.not_valid_after_utc + dt.timedelta(days=1)
    line = _one_line(_problems(issued, pki, now=later))

    assert line.startswith("expired: valid until ")
    assert issued.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ") in line


def test_a_certificate_not_yet_valid_is_reported_with_its_start_date(issued: x509.Certificate, pki: SandboxPKI) -> None:
    earlier = (issued.not_valid_before_utc - dt.timedelta(hours=1)).replace(tzinfo=None)  # naive = UTC
    line = _one_line(_problems(issued, pki, now=earlier))

    assert line.startswith("not valid yet: valid from ")
    assert issued.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ") in line


def test_a_wrong_key_size_or_type_is_reported(issued: x509.Certificate, pki: SandboxPKI) -> None:
    assert _one_line(_problems(issued, pki, expected_key_size=4096)) == "key differs: requested RSA 4096, got RSA 2048"
    assert _one_line(_problems(issued, pki, expected_key_type="ECC", expected_key_size=None)) == (
        "key differs: requested ECC, got RSA 2048"
    )
    assert _problems(issued, pki, expected_key_type=None, expected_key_size=None) == []


def test_several_problems_are_each_reported_on_their_own_line(issued: x509.Certificate, pki: SandboxPKI) -> None:
    problems = _problems(issued, pki, expected_subject="CN=x", expected_dns_sans=[], expected_key_size=3072)

    assert [p.split(":")[0] for p in problems] == [
        "subject differs",
        "DNS SANs not requested but present",
        "key differs",
    ]
    assert all("\n" not in p for p in problems)


# --- PKCS#12 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pfx(pki: SandboxPKI) -> tuple[str, x509.Certificate]:
    blob, cert = issuance.issue_pfx(
        pki.issuing, templates.DEFAULT_TEMPLATES[1], SUBJECT, {"dns": SANS}, PASSWORD, True, root=pki.root.cert
    )
    return base64.b64encode(blob).decode(), cert


def test_a_pkcs12_opens_in_memory_with_the_right_password(pfx: tuple[str, x509.Certificate], pki: SandboxPKI) -> None:
    blob, issued_cert = pfx
    key, cert, chain = certs.open_pkcs12(blob, PASSWORD)

    assert cert == issued_cert
    assert certs.key_matches(key, cert)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert chain == [pki.issuing.cert, pki.root.cert]


def test_a_wrong_pkcs12_password_gives_one_line_without_the_password(pfx: tuple[str, x509.Certificate]) -> None:
    with pytest.raises(certs.CertificateError) as error:
        certs.open_pkcs12(pfx[0], "not-the-password")
    message = str(error.value)

    assert "wrong password" in message
    assert "\n" not in message
    assert "not-the-password" not in message
    assert PASSWORD not in message


def test_a_pkcs12_that_is_not_base64_is_named_as_such() -> None:
    with pytest.raises(certs.CertificateError, match="not valid base64"):
        certs.open_pkcs12("this is not base64!", PASSWORD)


def test_key_matches_tells_a_foreign_key_apart(issued: x509.Certificate) -> None:
    assert not certs.key_matches(certs.new_private_key("ECC"), issued)


# --- parsing Keyfactor's answers -----------------------------------------------------------------


def test_parse_certificates_reads_the_recorded_header_line_format_leaf_first(
    issued: x509.Certificate, pki: SandboxPKI
) -> None:
    answer = certificate_fields.csr_certificate_information(issued, pki.issuing, keyfactor_id=7, root=pki.root.cert)
    assert answer["Certificates"][0].startswith("#CN=")

    assert certs.parse_certificates(answer["Certificates"]) == [issued, pki.issuing.cert, pki.root.cert]


def test_parse_certificates_reads_base64_der_content_bytes(issued: x509.Certificate, pki: SandboxPKI) -> None:
    content_bytes = certificate_fields.keyfactor_fields(issued, pki.issuing)["ContentBytes"]

    assert certs.parse_certificates(content_bytes) == [issued]
    assert certs.parse_certificates([content_bytes]) == [issued]


def test_parse_certificates_puts_the_leaf_first_in_a_root_first_pem_bundle(
    issued: x509.Certificate, pki: SandboxPKI
) -> None:
    bundle = "".join(
        c.public_bytes(serialization.Encoding.PEM).decode() for c in (pki.root.cert, pki.issuing.cert, issued)
    ).replace("\n", "\r\n")

    assert certs.parse_certificates(bundle) == [issued, pki.issuing.cert, pki.root.cert]


def test_parse_certificates_reads_der_bytes_and_der_answers(issued: x509.Certificate, pki: SandboxPKI) -> None:
    der_answer = certificate_fields.certificates_field(issued, pki.issuing, certificate_format="DER")

    assert certs.parse_certificates(issued.public_bytes(serialization.Encoding.DER)) == [issued]
    assert certs.parse_certificates(der_answer) == [issued, pki.issuing.cert]


@pytest.mark.parametrize("answer", [["#CN=x\nnot a certificate"], "bm90IGEgY2VydA==", []])
def test_parse_certificates_names_an_unreadable_answer_in_one_line(answer: object) -> None:
    with pytest.raises(certs.CertificateError) as error:
        certs.parse_certificates(answer)  # type: ignore[arg-type]
    assert "\n" not in str(error.value)


# --- evidence ------------------------------------------------------------------------------------


def test_thumbprint_and_serial_are_written_as_keyfactor_shows_them(issued: x509.Certificate, pki: SandboxPKI) -> None:
    fields = certificate_fields.keyfactor_fields(issued, pki.issuing)

    assert certs.thumbprint(issued) == fields["Thumbprint"]
    assert certs.serial_hex(issued) == fields["SerialNumber"]
    assert certs.thumbprint(issued) == issued.fingerprint(hashes.SHA1()).hex().upper()


def test_serial_hex_always_has_an_even_number_of_digits(pki: SandboxPKI, rsa_key: certs.PrivateKey) -> None:
    cert = (
        x509.CertificateBuilder()
        .subject_name(names.parse_dn("CN=short-serial"))
        .issuer_name(pki.issuing.cert.subject)
        .public_key(rsa_key.public_key())
        .serial_number(0xABC)
        .not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
        .sign(pki.issuing.key, hashes.SHA256())
    )
    assert certs.serial_hex(cert) == "0ABC"


def test_describe_gives_the_evidence_fields_without_key_material(issued: x509.Certificate, pki: SandboxPKI) -> None:
    facts = certs.describe(issued)

    assert facts == {
        "subject": SUBJECT,
        "issuer": names.dn_text(pki.issuing.cert.subject),
        "serial": certs.serial_hex(issued),
        "thumbprint": certs.thumbprint(issued),
        "not_before": issued.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": issued.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "key": "RSA 2048",
        "key_type": "RSA",
        "key_size": "2048",
        "sans": "DNS:kf-smoke-abc.corp.example.com, DNS:alt.corp.example.com",
        "signature_algorithm": "ecdsa-with-SHA256",
    }
    assert all(isinstance(v, str) and "PRIVATE" not in v for v in facts.values())


def test_describe_names_the_curve_of_an_ecc_certificate(pfx: tuple[str, x509.Certificate]) -> None:
    assert certs.describe(pfx[1])["key"] == "ECC P-256"


def test_an_rsa_key_reports_its_type_and_size() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # small: only the size is read
    assert certs.key_type_and_size(key.public_key()) == ("RSA", 1024)
