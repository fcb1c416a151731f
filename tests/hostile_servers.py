"""Small real servers on loopback for the hostile-condition self-tests: a throwaway CA that issues certificates that
are expired, not yet valid or for another name, and HTTP(S) servers that answer as told — redirects, wrong shapes,
resets, truncated bodies — and record every request they received (with its headers), so that a test can prove
what reached them. All of 127/8 is loopback on Linux: a second address (127.0.0.2) is another host."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ThrowawayCA:
    """A root CA made for one test: its PEM is what [command] ca_bundle names."""

    def __init__(self, directory: Path, name: str = "Hostile Test Root CA") -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(days=1)).not_valid_after(_now() + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.bundle = directory / f"{name.replace(' ', '-').lower()}.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def server_context(self, names: list[str], not_before: dt.datetime | None = None,
                       not_after: dt.datetime | None = None) -> ssl.SSLContext:
        """A TLS server context whose certificate covers `names` (DNS names or IP addresses) for the given dates."""
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for name in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        cert = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before or _now() - dt.timedelta(hours=1))
            .not_valid_after(not_after or _now() + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        stem = self.directory / f"server-{x509.random_serial_number()}"
        chain, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
        chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key_file)
        return context


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Reply:
    """What the server does with one request: an answer, or one of the ways a connection breaks."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    breaks: str = ""  # "" | "reset" (RST, no answer) | "close" (closed, no answer) | "truncate" (half the body)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(value).encode(), [("Content-Type", "application/json; charset=utf-8")])

    @classmethod
    def html(cls, text: str, status: int = 200) -> Reply:
        return cls(status, text.encode(), [("Content-Type", "text/html; charset=utf-8")])

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status, b"", [("Location", location)])


class LoopbackServer:
    """An HTTP(S) server on a loopback address that answers with `answer(received)` and records every request."""

    def __init__(self, answer: Callable[[Received], Reply], host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None, name: str | None = None) -> None:
        self.answer = answer
        self.received: list[Received] = []
        self.tls = tls
        self.host = host
        self.name = name or host  # the host name clients use (e.g. "localhost" for 127.0.0.1)
        self.server = ThreadingHTTPServer((host, 0), _handler(self))
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.name}:{self.port}"

    def __enter__(self) -> LoopbackServer:
        if self.tls:
            tls = self.tls
            plain = self.server.get_request

            def handshake() -> tuple[socket.socket, Any]:
                connection, address = plain()
                connection.settimeout(10)
                try:
                    return tls.wrap_socket(connection, server_side=True), address
                except (ssl.SSLError, OSError):  # a client that refused our certificate: expected in these tests
                    connection.close()
                    raise OSError("handshake refused") from None

            self.server.get_request = handshake  # type: ignore[method-assign]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def authorizations(self) -> list[str]:
        return [r.authorization for r in self.received if r.authorization]


def _handler(owner: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            received = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            owner.received.append(received)
            reply = owner.answer(received)
            if reply.breaks in ("reset", "close"):
                if reply.breaks == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            if reply.breaks == "truncate":
                self.send_header("Connection", "close")
            self.end_headers()
            if reply.breaks == "truncate":
                self.wfile.write(reply.body[: len(reply.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.close()
                return
            self.wfile.write(reply.body)

        do_GET = do_POST = do_HEAD = _serve

    return Handler
