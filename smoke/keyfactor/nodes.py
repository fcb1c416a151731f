"""One web server behind the load balancer, reached under the site's name: the connection goes to the node's
address, while the TLS server name (SNI), the certificate's name check, the Host header and so the Kerberos
service name stay those of the site — what `curl --resolve` does. requests and urllib3 do not offer it; this
adapter does, one session per node (urllib3 keys its connection pools by host)."""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from smoke.ground.errors import ConfigError

_HOST_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                        r"[A-Za-z0-9])?)*\.?$")


class NodeAdapter(HTTPAdapter):
    """Sends every request for the site to `address` instead; TLS is verified against the site's name."""

    def __init__(self, site: str, address: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.site = site.lower()
        self.address = address
        self.ssl_context = ssl_context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self.ssl_context is not None:
            kwargs["ssl_context"] = self.ssl_context
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(self, request: PreparedRequest, verify: Any, cert: Any = None
                                             ) -> Any:
        found = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any] = dict(found[0])
        pool_kwargs: dict[str, Any] = dict(found[1])
        if (host_params.get("host") or "").lower() == self.site:
            host_params["host"] = self.address
            # SNI and OpenSSL's own name check (urllib3's assert_hostname would raise its own error instead of the
            # verification error that names the cause)
            pool_kwargs["server_hostname"] = self.site
        return host_params, pool_kwargs

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        if (urlsplit(request.url or "").hostname or "").lower() == self.site:
            netloc = urlsplit(request.url or "").netloc.rsplit("@", 1)[-1]
            request.headers["Host"] = netloc
            kwargs["proxies"] = {}  # a proxy would resolve the site's name itself: the node is reached directly
        response = super().send(request, *args, **kwargs)
        response.headers["X-Kf-Smoke-Node"] = self.address  # which address answered, for the evidence
        return response


def check_nodes(nodes: list[str], site: str) -> list[str]:
    """The [command] nodes as given, or one ConfigError line: each an address or a host name, no duplicates, and
    each resolvable (a name that resolves nowhere would fail every check the same way)."""
    seen: set[str] = set()
    for node in nodes:
        text = node.strip()
        if not text:
            raise ConfigError("[command] nodes: an empty entry — list each web server by address or host name")
        if not _is_address(text) and not _HOST_NAME.match(text):
            raise ConfigError(f"[command] nodes: {node!r} is neither an IP address nor a host name — list each web "
                              "server by address (10.20.0.11) or its own name (kf01.corp.example.com)")
        if text.lower() in seen:
            raise ConfigError(f"[command] nodes: {node!r} is listed twice — list each web server once")
        seen.add(text.lower())
        if not _is_address(text):
            try:
                socket.getaddrinfo(text, None)
            except OSError:
                raise ConfigError(f"[command] nodes: {node!r} does not resolve — check the name, or list the node's "
                                  "address instead") from None
    return [node.strip() for node in nodes]


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def site_listed(nodes: list[str], site: str) -> str | None:
    """One line when the load-balanced name itself is listed as a node: allowed, but it checks whichever server the
    load balancer picks."""
    listed = [node for node in nodes if node.strip().rstrip(".").lower() == site.rstrip(".").lower()]
    if not listed:
        return None
    return (f"[command] nodes lists {listed[0]}, the load-balanced name itself: that entry checks whichever web "
            "server the load balancer picks, not one node — list each server by its address or its own name")


def labels(nodes: list[str], site: str, timeout_s: float = 2.0) -> dict[str, str]:
    """How the messages name each node: "kf02 (10.20.0.12)" (its reverse DNS name, when it has one other than the
    site's), "kf03.corp.example.com (10.20.0.13)" for a node listed by name, else the address alone. Lookups run
    side by side and are given up after `timeout_s` (socket lookups take no timeout of their own)."""
    found: dict[str, str] = {node: node for node in nodes}

    def name(node: str) -> None:
        try:
            if _is_address(node):
                reverse = socket.gethostbyaddr(node.strip("[]"))[0].rstrip(".")
                if reverse.lower() != site.lower() and not _is_address(reverse) and reverse.lower() != "localhost":
                    found[node] = f"{reverse.split('.')[0]} ({node})"
            else:
                address = socket.getaddrinfo(node, None)[0][4][0]
                found[node] = f"{node} ({address})"
        except (OSError, IndexError):
            pass

    lookups = [threading.Thread(target=name, args=(node,), daemon=True) for node in nodes]
    for lookup in lookups:
        lookup.start()
    for lookup in lookups:
        lookup.join(timeout_s)
    return dict(found)
