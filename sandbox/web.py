"""The sandbox's HTTPS server: IIS-like Windows authentication (Negotiate/Kerberos, Basic) in front of
a small router. Routes come from the parts (API, portal, reports); faults are consulted by them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

IIS_401 = """<!DOCTYPE html>
<html><head><title>401 - Unauthorized: Access is denied due to invalid credentials.</title>
</head>
<body><div id="header"><h1>Server Error</h1></div><div id="content"><div class="content-container"><fieldset>
<h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>
<h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3>
</fieldset></div></div></body></html>"""


# HTTP.sys answers this itself, before authentication, when an application pool is stopped.
SERVICE_UNAVAILABLE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>Service Unavailable</TITLE>
<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>
<BODY><h2>Service Unavailable</h2>
<hr><p>HTTP Error 503. The service is unavailable.</p>
</BODY></HTML>"""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    user: str | None = None
    scheme: str | None = None  # "Negotiate" or "Basic" once authenticated

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def param(self, name: str, default: str | None = None) -> str | None:
        # ASP.NET model binding is case-insensitive on query names.
        for key, values in self.query.items():
            if key.lower() == name.lower():
                return values[-1]
        return default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, value: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, json.dumps(value).encode(), "application/json; charset=utf-8", headers or [])


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode(), "text/html; charset=utf-8")


def service_unavailable() -> Response:
    return Response(503, SERVICE_UNAVAILABLE.encode(), "text/html; charset=us-ascii")


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Response]
    authenticated: bool = True


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        # Runs before authentication, like a reverse proxy in front of IIS; returns None to pass.
        self.front: list[Callable[[Request], Response | None]] = []

    def add(self, method: str, pattern: str, handler: Callable[..., Response], authenticated: bool = True):
        self.routes.append(Route(method, re.compile(pattern + r"/?\Z", re.IGNORECASE), handler, authenticated))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None | str:
        """The route and its path parameters; "405" when the path exists for other methods."""
        other_method = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                if route.method == method:
                    return route, m.groupdict()
                other_method = True
        return "405" if other_method else None


class Authenticator:
    """IIS Windows authentication with the Negotiate provider, plus Basic (DOMAIN\\user). IIS configures them per
    application: `applications` holds those whose sign-in methods differ from the site's."""

    def __init__(self, kerberos: bool, basic_users: dict[str, str], negotiate_host: str,
                 applications: dict[str, tuple[str, ...]] | None = None) -> None:
        self.kerberos = kerberos
        self.basic_users = {u.lower(): p for u, p in basic_users.items()}
        self.negotiate_host = negotiate_host
        self.applications = {path.lower(): schemes for path, schemes in (applications or {}).items()}

    def schemes(self, path: str) -> tuple[str, ...]:
        """The sign-in methods the IIS application holding `path` offers, in its challenge's order."""
        lowered = path.lower()
        for application, schemes in self.applications.items():
            if lowered == application or lowered.startswith(application + "/"):
                return schemes
        return ("Negotiate", "NTLM", "Basic") if self.kerberos else ("Basic",)

    def challenges(self, path: str) -> list[tuple[str, str]]:
        return [("WWW-Authenticate", f'Basic realm="{self.negotiate_host}"' if scheme == "Basic" else scheme)
                for scheme in self.schemes(path)]

    def authenticate(self, request: Request) -> list[tuple[str, str]] | None:
        """Sets request.user/scheme; returns headers for the answer, or None when it fails."""
        value = request.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        offered = self.schemes(request.path)
        if scheme.lower() == "negotiate" and self.kerberos and "Negotiate" in offered:
            return self._negotiate(request, token.strip())
        if scheme.lower() == "basic" and "Basic" in offered:
            try:
                user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            if self.basic_users.get(user.lower()) == password:
                request.user, request.scheme = user, "Basic"
                return []
        return None

    def _negotiate(self, request: Request, token: str) -> list[tuple[str, str]] | None:
        import spnego  # only where Kerberos runs: the acceptor key comes from KRB5_KTNAME

        try:
            # IIS accepts both a bare Kerberos token (requests-kerberos) and a SPNEGO-wrapped one (browsers).
            ctx = spnego.server(service="HTTP", hostname=self.negotiate_host, protocol="negotiate")
            out = ctx.step(base64.b64decode(token))
        except Exception:  # a ticket for a key we do not hold, a garbled token: IIS answers 401
            return None
        if not ctx.complete:
            return None
        request.user, request.scheme = str(ctx.client_principal), "Negotiate"
        return [("WWW-Authenticate", "Negotiate " + base64.b64encode(out).decode())] if out else []


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], router: Router, auth: Authenticator,
                 tls: ssl.SSLContext) -> None:
        self.router = router
        self.auth = auth
        self.tls = tls
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens in the connection's own thread, never in the accept loop.
        request.settimeout(30)
        try:
            tls_socket = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls_socket, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: without this each answer waits ~40 ms
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        try:
            response = self._dispatch(request)
        except Exception as exc:  # an ASP.NET yellow screen, not a dropped connection
            response = html_response(500, f"<html><body><h1>Server Error in '/' Application.</h1>"
                                          f"<p>{type(exc).__name__}: {exc}</p></body></html>")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _dispatch(self, request: Request) -> Response:
        for front in self.server.router.front:
            answer = front(request)
            if answer is not None:
                return answer
        found = self.server.router.match(request.method, request.path)
        if found is None:
            return html_response(404, "<html><head><title>404 - File or directory not found.</title></head>"
                                      "<body><h2>404 - File or directory not found.</h2></body></html>")
        if found == "405":
            return json_response(405, {"Message": "The requested resource does not support http method "
                                                  f"'{request.method}'."})
        assert not isinstance(found, str)
        route, params = found
        extra: list[tuple[str, str]] = []
        if route.authenticated:
            granted = self.server.auth.authenticate(request)
            if granted is None:
                response = html_response(401, IIS_401)
                response.headers += self.server.auth.challenges(request.path)
                return response
            extra = granted
        response = route.handler(request, **params)
        response.headers += extra
        return response

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


def tls_context(chain: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(chain, key)
    return context


# How soon a server's loop notices shutdown(): the run that started the sandbox waits for it to stop.
SHUTDOWN_POLL_S = 0.02


def serve(server: socketserver.BaseServer, name: str = "sandbox-https") -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_S,), name=name, daemon=True)
    thread.start()
    return thread


def reserve_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nobody listens on `port`: the server could bind it as SandboxHTTPServer does (connections a previous run
    left in TIME_WAIT do not count)."""
    with socket.socket() as s:
        if os.name != "nt":  # on Windows SO_REUSEADDR would bind even beside a listener
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
