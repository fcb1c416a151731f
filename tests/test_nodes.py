"""Self-tests of the per-node transport: a request for the site goes to one node's address while SNI, the
certificate's name check and the Host header stay the site's — against a real TLS server on a second loopback
address, no mocks."""

from __future__ import annotations

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

from smoke.ground.errors import ConfigError
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
