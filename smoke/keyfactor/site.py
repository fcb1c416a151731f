"""The IIS site as a visitor without credentials sees it: which sign-in methods each application offers in its
401 challenge, and which TLS certificate the site presents. Read-only; nothing is sent but the request line and
the Keyfactor headers, never credentials."""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509

from smoke.ground.errors import ApiUnreachable
from smoke.ground.tls import TruststoreAdapter
from smoke.keyfactor.certs import dns_sans, thumbprint
from smoke.keyfactor.client import KEYFACTOR_HEADERS
from smoke.keyfactor.names import dn_text
from smoke.keyfactor.nodes import NodeAdapter

# The IIS applications of a Keyfactor Command 10.x site, and the path inside each that a visitor is challenged on.
APPLICATIONS = {
    "/KeyfactorAPI": "/Status/Endpoints",
    "/KeyfactorPortal": "/",
    "/KeyfactorAgents": "/",
    "/CMSAPI": "/",
}


def applications(settings: Any) -> dict[str, str]:
    """Each IIS application of the environment's site (the configured API and portal, the 10.x ones, [baseline]
    applications) with the path inside it that a visitor is challenged on."""
    command = settings.command
    found = {command.api_path: "/Status/Endpoints", command.portal_path: "/", **APPLICATIONS}
    extra = settings.baseline.applications if getattr(settings, "baseline", None) else []
    found.update({path: "/" for path in extra})
    return dict(sorted(found.items()))


def sign_in_methods(url: str, verify: str | bool, timeout_s: float, address: str | None = None) -> str:
    """"Negotiate, NTLM" (the schemes of the 401 challenge, in the server's order), "anonymous" (it answered
    without asking), "not present" (404) or what else it did. `address`: one node behind the load balancer."""
    response = visit(url, verify, timeout_s, address)
    if response.status_code == 401:
        offered = ", ".join(_schemes(response.headers.get("WWW-Authenticate", "")))
        return offered or "401 without a challenge"
    if response.status_code == 404:
        return "not present"
    if response.is_redirect:
        return f"redirects ({response.status_code}) to {response.headers.get('Location', '?')}"
    if response.status_code < 400:
        return "anonymous"
    return f"answers {response.status_code}"


def visit(url: str, verify: str | bool, timeout_s: float, address: str | None = None) -> requests.Response:
    """GET `url` as a visitor without credentials (a load balancer's probe): the Keyfactor headers, no redirects
    followed; `address` reaches one node under the site's name."""
    session = requests.Session()
    session.headers.update(KEYFACTOR_HEADERS)
    trust = _context(None) if verify is True else None
    if address:
        session.mount("https://", NodeAdapter(urlsplit(url).hostname or "", address, trust))
    elif trust is not None:
        session.mount("https://", TruststoreAdapter())
    try:
        with session:
            return session.get(url, timeout=timeout_s, verify=verify, allow_redirects=False)
    except requests.exceptions.RequestException as exc:
        at = f" at {address}" if address else ""
        raise ApiUnreachable(f"GET {url}{at} without credentials: no answer ({type(exc).__name__}) — check that "
                             "the site answers, as the other checks do") from None


def _schemes(header: str) -> list[str]:
    """The scheme names of a (possibly combined) WWW-Authenticate header; parameters such as realm are skipped."""
    found: list[str] = []
    for part in header.split(","):
        token = part.strip().split(" ", 1)[0]
        if token and "=" not in token and re.fullmatch(r"[A-Za-z][\w-]*", token) and token not in found:
            found.append(token)
    return found


def site_certificate(url: str, ca_bundle: str | None, timeout_s: float, address: str | None = None) -> dict[str, Any]:
    """The certificate the site presents, verified as the suite verifies it (ca_bundle or the OS trust store),
    as facts a person compares: subject, names, issuer, validity, thumbprint. `address` connects elsewhere
    while keeping the site's name (a node behind the load balancer)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    context = _context(ca_bundle)
    try:
        with socket.create_connection((address or host, port), timeout=timeout_s) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        raise ApiUnreachable(f"TLS: the certificate of {host}:{port} is not trusted ({exc.verify_message}) — set "
                             "[command] ca_bundle to the issuing CA's PEM, or fix the IIS binding") from None
    except (OSError, ssl.SSLError) as exc:
        raise ApiUnreachable(f"TLS: no handshake with {host}:{port} ({exc}) — check that the site answers") from None
    if not der:
        raise ApiUnreachable(f"TLS: {host}:{port} presented no certificate")
    cert = x509.load_der_x509_certificate(der)
    return {
        "Subject": dn_text(cert.subject),
        "DnsNames": dns_sans(cert),
        "Issuer": dn_text(cert.issuer),
        "NotBefore": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "NotAfter": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Thumbprint": thumbprint(cert),
    }


def days_left(certificate: dict[str, Any], now: dt.datetime | None = None) -> int:
    expires = dt.datetime.strptime(certificate["NotAfter"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return (expires - (now or dt.datetime.now(dt.UTC))).days


def _context(ca_bundle: str | None) -> ssl.SSLContext:
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
