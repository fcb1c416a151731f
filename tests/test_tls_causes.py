"""Each TLS failure by its real cause, for the API client and the browser alike: real certificates (expired, not yet
valid, for another name, from an untrusted issuer) served on loopback by a throwaway CA, and a ca_bundle that is no
PEM file of certificates. Each is one line, filed under "Connectivity or environment", and only the untrusted issuer
sends the user to [command] ca_bundle."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from smoke.ground.errors import ApiUnreachable
from smoke.keyfactor.client import AuthConfig, KeyfactorClient
from smoke.portal.browser import BrowserOptions, BrowserSession
from smoke.portal.launch import BrowserUnavailable
from smoke.run.report import categorize
from tests.hostile_servers import LoopbackServer, Reply, ThrowawayCA
from tests.suite_runs import run_suite

NOW = dt.datetime.now(dt.UTC)
ENVIRONMENT = "Connectivity or environment"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return ThrowawayCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    return ThrowawayCA(tmp_path_factory.mktemp("other-ca"), "Someone Else Root CA")


def _day(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def cases(ca: ThrowawayCA, other_ca: ThrowawayCA) -> dict[str, tuple]:
    """name -> (server TLS context, phrases the one line must hold)."""
    expired_on, starts_on = NOW - dt.timedelta(days=2), NOW + dt.timedelta(days=3)
    return {
        "expired": (ca.server_context(["localhost"], NOW - dt.timedelta(days=40), expired_on),
                    [f"expired on {_day(expired_on)}", f"valid {_day(NOW - dt.timedelta(days=40))}", "renew it"]),
        "not yet valid": (ca.server_context(["localhost"], starts_on, NOW + dt.timedelta(days=30)),
                          [f"is not valid before {_day(starts_on)}", "check the clocks"]),
        "wrong name": (ca.server_context(["kf01.corp.example.com", "kf.corp.example.com"]),
                       ["is for kf01.corp.example.com, kf.corp.example.com, not for localhost", "[command] url"]),
        "untrusted issuer": (other_ca.server_context(["localhost"]),
                             ["issued by CN=Someone Else Root CA", "is not trusted by [command] ca_bundle"]),
    }


def api_client(url: str, bundle: str) -> KeyfactorClient:
    return KeyfactorClient(url + "/KeyfactorAPI", AuthConfig("basic", "CORP\\svc", "pw-12345"), bundle, 5)


@pytest.mark.parametrize("case", ["expired", "not yet valid", "wrong name", "untrusted issuer"])
def test_the_api_names_each_tls_failure_by_its_cause(ca, other_ca, case):
    context, phrases = cases(ca, other_ca)[case]
    with LoopbackServer(lambda r: Reply.json([]), tls=context, name="localhost") as server:
        with pytest.raises(ApiUnreachable) as raised:
            api_client(server.origin, str(ca.bundle)).get_json("/Status/Endpoints")
        assert server.received == []  # the second handshake only read the certificate
    message = str(raised.value)
    assert message.startswith(f"TLS: the certificate of localhost:{server.port} "), message
    assert all(p in message for p in phrases), message
    assert ("ca_bundle" in message) == (case == "untrusted issuer"), message
    assert "\n" not in message and categorize(message) == ENVIRONMENT


@pytest.mark.parametrize("case", ["expired", "not yet valid", "wrong name", "untrusted issuer"])
def test_the_browser_names_each_tls_failure_by_its_cause(ca, other_ca, case):
    context, phrases = cases(ca, other_ca)[case]
    with LoopbackServer(lambda r: Reply.html("<title>Keyfactor</title>"), tls=context, name="localhost") as server:
        session = BrowserSession(BrowserOptions("chromium", True, 10, server.origin, "basic", "CORP\\svc",
                                                "pw-12345", ca.bundle))
        try:
            with session.visit("home") as visit:
                message = visit.goto(server.origin + "/KeyfactorPortal/").navigation_error or ""
        finally:
            session.close()
    assert message.startswith(f"{server.origin}/KeyfactorPortal/: TLS: the certificate of localhost:"), message
    assert all(p in message for p in phrases), message
    assert ("ca_bundle" in message) == (case == "untrusted issuer"), message
    assert "\n" not in message and categorize(message) == ENVIRONMENT


@pytest.mark.parametrize(("content", "says"), [
    (b"this is not a certificate\n", "holds no PEM certificate"),
    (b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
     "holds a certificate block that is not a valid"),
    ("der", "is a binary (DER) certificate, not PEM (convert it: openssl x509 -inform der"),
])
def test_a_ca_bundle_that_is_no_pem_file_of_certificates_is_named_for_the_api_and_the_browser(
        tmp_path, ca, content, says):
    from cryptography.hazmat.primitives import serialization

    bundle = tmp_path / "corp-root.cer"
    bundle.write_bytes(ca.cert.public_bytes(serialization.Encoding.DER) if content == "der" else content)
    expected = f"TLS: [command] ca_bundle {bundle} {says}"
    with LoopbackServer(lambda r: Reply.json([]), tls=ca.server_context(["localhost"]), name="localhost") as server:
        with pytest.raises(ApiUnreachable) as raised:
            api_client(server.origin, str(bundle)).get_json("/Status/Endpoints")
        session = BrowserSession(BrowserOptions("chromium", True, 10, server.origin, "basic", "CORP\\svc",
                                                "pw-12345", bundle))
        with pytest.raises(BrowserUnavailable) as refused, session.visit("home"):
            pass
        session.close()
    for message in (str(raised.value), str(refused.value)):
        assert message.startswith(expected) and "IIS https binding" not in message, message
        assert "\n" not in message and categorize(message) == ENVIRONMENT


def test_an_expired_certificate_is_one_line_for_the_first_check_and_the_rest_are_skipped_naming_it(tmp_path, ca):
    expired_on = NOW - dt.timedelta(days=1)
    context = ca.server_context(["localhost"], NOW - dt.timedelta(days=30), expired_on)
    with LoopbackServer(lambda r: Reply.json([]), tls=context, name="localhost") as server:
        env = tmp_path / "env.toml"
        env.write_text(f'[command]\nurl = "{server.origin}"\nca_bundle = {json.dumps(str(ca.bundle))}\n'
                       'expected_version = "10.2"\n[auth]\nmethod = "basic"\nusername = "CORP\\\\svc"\n'
                       'password_env = "KF_TEST_PASSWORD"\n[portal]\n')
        run = run_suite(tmp_path, "--env", str(env), "-m", "api or portal", env={"KF_TEST_PASSWORD": "pw-12345"})
    assert run.returncode == 1, run.output
    failed = run.with_outcome("failed")
    assert len(failed) == 1, run.outcomes
    message = run.messages[next(iter(failed))]
    assert f"expired on {_day(expired_on)}" in message and "\n" not in message, message
    assert all(f"expired on {_day(expired_on)}" in run.messages[n] for n in run.with_outcome("skipped")), run.messages
    assert "Traceback" not in run.output
