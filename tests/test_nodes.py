"""Self-tests of the per-node transport: a request for the site goes to one node's address while SNI, the
certificate's name check and the Host header stay the site's — against a real TLS server on a second loopback
address, no mocks."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smoke.ground.errors import ApiUnreachable, ConfigError
from smoke.ground.kerberos_ticket import ticket_service
from smoke.keyfactor import site
from smoke.keyfactor.client import AuthConfig, KeyfactorClient
from smoke.keyfactor.nodes import NodeAdapter, check_nodes

SITE = "kf.smoke.test"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path, dict[str, str]]]:
    """A TLS server on 127.0.0.2 whose certificate names only the site; it records the SNI and Host it got."""
    folder = tmp_path_factory.mktemp("node")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SITE)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SITE)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "site.pem", folder / "site.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    seen: dict[str, str] = {}

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            seen["host"] = self.headers.get("Host", "")
            seen["sni"] = getattr(self.connection, "sni", "")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.2", 0), Recorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, _: setattr(sock, "sni", name)  # type: ignore[assignment]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "127.0.0.2", server.server_address[1], cert_file, seen
    server.shutdown()


def test_a_node_is_reached_by_address_under_the_sites_name(node):
    address, port, ca, seen = node
    session = requests.Session()
    session.mount("https://", NodeAdapter(SITE, address))
    answer = session.get(f"https://{SITE}:{port}/KeyfactorAPI/Status/Endpoints", verify=str(ca), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["X-Kf-Smoke-Node"] == address
    assert seen == {"host": f"{SITE}:{port}", "sni": SITE}


def test_the_nodes_certificate_is_still_checked_against_the_sites_name(node):
    address, port, ca, _ = node
    session = requests.Session()
    session.mount("https://", NodeAdapter("other.smoke.test", address))
    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"https://other.smoke.test:{port}/", verify=str(ca), timeout=10)


@pytest.mark.parametrize("nodes, said", [
    (["10.20.0.11", "10.20.0.11"], "listed twice"),
    (["not a host!"], "neither an IP address nor a host name"),
    ([""], "an empty entry"),
    (["kf-node-that-does-not-exist.invalid"], "does not resolve"),
])
def test_a_bad_node_list_is_one_line(nodes, said):
    with pytest.raises(ConfigError, match=said) as raised:
        check_nodes(nodes, SITE)
    assert "\n" not in str(raised.value)


def test_what_a_visitor_and_the_tls_check_see_at_a_node_is_the_site_under_its_own_name(node):
    address, port, ca, seen = node
    answer = site.visit(f"https://{SITE}:{port}/lb-probe.htm", str(ca), 10, address)
    assert answer.status_code == 200 and answer.headers["X-Kf-Smoke-Node"] == address
    assert seen == {"host": f"{SITE}:{port}", "sni": SITE}
    assert site.site_certificate(f"https://{SITE}:{port}", str(ca), 10, address=address)["DnsNames"] == [SITE]
    with pytest.raises(ApiUnreachable, match="not trusted"):  # the name checked is the site's, on every node
        site.site_certificate(f"https://other.smoke.test:{port}", str(ca), 10, address=address)


def test_a_node_is_reached_directly_even_where_a_proxy_is_configured(node, monkeypatch):
    address, port, ca, _ = node
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there: a proxy would fail the request
    monkeypatch.delenv("NO_PROXY", raising=False)
    session = requests.Session()
    session.mount("https://", NodeAdapter(SITE, address))
    assert session.get(f"https://{SITE}:{port}/", verify=str(ca), timeout=10).status_code == 200


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    length = bytes([size]) if size < 0x80 else bytes([0x80 | 2]) + size.to_bytes(2, "big")
    return bytes([tag]) + length + content


def test_the_service_a_kerberos_ticket_is_for_is_read_from_the_authorization_header():
    name = _der(0x30, _der(0xA0, _der(0x02, b"\x02")) + _der(0xA1, _der(0x30, _der(0x1B, b"HTTP")
                                                                     + _der(0x1B, SITE.encode()))))
    ticket = _der(0x61, _der(0x30, _der(0xA0, _der(0x02, b"\x05")) + _der(0xA1, _der(0x1B, b"CORP.EXAMPLE.COM"))
                             + _der(0xA2, name) + _der(0xA3, _der(0x30, _der(0x04, bytes(300))))))
    ap_req = _der(0x6E, _der(0x30, _der(0xA0, _der(0x02, b"\x05")) + _der(0xA1, _der(0x02, b"\x0e"))
                             + _der(0xA2, _der(0x03, b"\x00\x20\x00\x00\x00")) + _der(0xA3, ticket)
                             + _der(0xA4, _der(0x30, _der(0x04, bytes(200))))))
    token = _der(0x60, _der(0x06, bytes.fromhex("2a864886f712010202")) + b"\x01\x00" + ap_req)
    header = "Negotiate " + base64.b64encode(token).decode()
    assert ticket_service(header) == f"HTTP/{SITE}@CORP.EXAMPLE.COM"
    assert ticket_service("Basic dXNlcjpwYXNz") is None
    assert ticket_service("Negotiate " + base64.b64encode(b"NTLMSSP\x00\x01").decode()) is None
    assert ticket_service("Negotiate not-base64!") is None
    assert ticket_service("Negotiate " + base64.b64encode(token[:40]).decode()) is None  # cut short


def test_a_node_whose_certificate_does_not_cover_the_sites_name_is_refused_naming_that_nodes_certificate(node):
    address, port, ca, _ = node
    client = KeyfactorClient(f"https://other.smoke.test:{port}/KeyfactorAPI", AuthConfig("basic", "u", "throwaway"),
                             str(ca), 10, node=address)
    with pytest.raises(ApiUnreachable) as raised:
        client.request("GET", "/Status/Endpoints")
    assert f"the certificate of other.smoke.test:{port} at {address} is for {SITE}, not for other.smoke.test" \
        in str(raised.value)
