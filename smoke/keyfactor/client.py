"""The Keyfactor API session: Keyfactor's headers, a timeout on every call, TLS always verified,
Kerberos (mutually authenticated) or Basic, paging by the endpoint's query prefix, and odd answers
turned into one-line errors. Knows nothing of pytest.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from smoke.ground import evidence, tls
from smoke.ground.errors import (
    ApiAuthenticationFailed,
    ApiError,
    ApiFailing,
    ApiIntercepted,
    ApiUnexpectedAnswer,
    ApiUnreachable,
    KerberosError,
)
from smoke.ground.kerberos_ticket import ticket_service
from smoke.ground.prerequisites import Prerequisite
from smoke.ground.tls import TruststoreAdapter
from smoke.keyfactor.nodes import NodeAdapter

# requests-kerberos logs its failures itself; the client turns them into one-line errors instead.
logging.getLogger("requests_kerberos").setLevel(logging.CRITICAL)

KEYFACTOR_HEADERS = {
    "x-keyfactor-requested-with": "APIClient",
    "x-keyfactor-api-version": "1",
    "Accept": "application/json",
}

# Query-parameter prefix per list endpoint: the 10.x OpenAPI document, and where it lacks the endpoint the 10.x
# documentation and Keyfactor's own scripts (keyfactor-api-notes §1.4 and "Evidence added 2026-12-01").
PAGING_PREFIX = {
    **dict.fromkeys(("/Agents", "/AgentBluePrint", "/AgentPools", "/AgentPools/Agents", "/Audit", "/Certificates",
                     "/CertificateAuthority", "/CertificateCollections", "/CertificateStoreContainers",
                     "/JobTypes/Custom", "/MetadataFields", "/OrchestratorJobs/JobHistory",
                     "/OrchestratorJobs/ScheduledJobs", "/SSL", "/Workflow/Instances",
                     "/Workflow/Instances/AssignedToMe"), "pq."),
    **dict.fromkeys(("/Templates", "/CSRGeneration/Pending", "/SSL/Networks"), "sq."),
    **dict.fromkeys(("/Alerts/Expiration", "/Alerts/Pending", "/Alerts/Issued", "/Alerts/Denied",
                     "/Alerts/KeyRotation", "/Monitoring/Revocation", "/Workflow/Certificates/Pending",
                     "/Workflow/Certificates/Denied"), "pagedQuery."),
    **dict.fromkeys(("/Reports", "/Reports/Custom", "/Workflow/Definitions", "/Workflow/Definitions/Steps",
                     "/Workflow/Definitions/Types"), "query."),
    "/CertificateStoreTypes": "cstquery.",
    "/Workflow/Instances/My": "instanceQuery.",
    "/CertificateStores": "certificateStoreQuery.",  # not in the OpenAPI file: Keyfactor's store scripts
    "/Security/Roles": "",  # not in the OpenAPI file: the 10.3/10.5 documentation lists the names unprefixed
}
TOTAL_COUNT = "X-Total-Count"

_KRB5_OID = bytes.fromhex("2a864886f712010202")  # 1.2.840.113554.1.2.2 inside a SPNEGO token
_TITLE = re.compile(rb"<title>\s*(.*?)\s*</title>", re.I | re.S)


@dataclass
class Exchange:
    """One HTTP round trip, redacted, for the report."""

    method: str
    url: str
    status: int
    elapsed_ms: int
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    request_body: str
    response_body: str
    kerberos_service: str | None = None  # the service the Kerberos ticket sent was for: HTTP/<site>@REALM

    def as_text(self) -> str:
        lines = [f"{self.method} {self.url}"]
        lines += [f"{k}: {v}" for k, v in self.request_headers.items()]
        if self.kerberos_service:
            lines.append(f"(the Kerberos ticket sent is for {self.kerberos_service})")
        if self.request_body:
            lines += ["", self.request_body]
        lines += ["", f"HTTP {self.status} ({self.elapsed_ms} ms)"]
        lines += [f"{k}: {v}" for k, v in self.response_headers.items()]
        lines += ["", self.response_body]
        return evidence.redact("\n".join(lines))


@dataclass
class AuthConfig:
    method: str  # "kerberos" | "basic"
    username: str | None = None
    password: str | None = None
    principal: str | None = None
    spn_host: str | None = None


@dataclass
class KeyfactorClient:
    api_url: str
    auth: AuthConfig
    ca_bundle: str | None
    timeout_s: float
    preflight: Callable[[], None] | None = None  # runs before the first call (the Kerberos pre-check)
    node: str | None = None  # one web server behind the load balancer, reached under the site's name
    exchanges: list[Exchange] = field(default_factory=list)
    scheme_used: str | None = None
    prerequisite: Prerequisite = field(default_factory=lambda: Prerequisite("the Keyfactor API"))
    answered: bool = False  # some call got an answer below 500: a 5xx from now on is that endpoint's own failure

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")
        self.host = urlsplit(self.api_url).hostname or ""
        self.session = requests.Session()
        self.session.headers.update(KEYFACTOR_HEADERS)
        if self.node:
            # The response header X-Kf-Smoke-Node names the address that answered, in each exchange's evidence.
            self.session.mount("https://", NodeAdapter(self.host, self.node, None if self.ca_bundle else _truststore()))
        elif self.ca_bundle is None:
            # The OS trust store (Windows certificate store, macOS keychain, /etc/ssl) where internal CAs live.
            self.session.mount("https://", TruststoreAdapter())
        self.session.auth = self._auth()

    def _auth(self) -> Any:
        if self.auth.method == "basic":
            evidence.register_secret(self.auth.password)
            return requests.auth.HTTPBasicAuth(self.auth.username or "", self.auth.password or "")
        return _kerberos_auth(self.auth.spn_host, self.auth.principal)

    @property
    def verify(self) -> str | bool:
        # Passed on every call: a session-level `verify` loses to REQUESTS_CA_BUNDLE (requests #3829).
        return self.ca_bundle or True

    # --- calls -------------------------------------------------------------------------------
    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._json(self.request("GET", path, params=params))

    def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self._json(self.request("POST", path, json_body=body, headers=headers))

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, json_body: Any = None,
                headers: dict[str, str] | None = None, expect: tuple[int, ...] = (200, 204)) -> requests.Response:
        self.prerequisite.check()
        try:
            if self.preflight:
                preflight, self.preflight = self.preflight, None
                preflight()
            return self._request(method, path, params, json_body, headers, expect)
        except (KerberosError, ApiUnreachable, ApiAuthenticationFailed, ApiIntercepted, ApiFailing) as exc:
            self.prerequisite.fail(exc)  # the server or our credentials: every later call would meet the same
            raise

    def _request(self, method: str, path: str, params: dict[str, Any] | None, json_body: Any,
                 headers: dict[str, str] | None, expect: tuple[int, ...]) -> requests.Response:
        url = self.api_url + path
        response = self._send(method, url, params, json_body, headers)
        if response.status_code in (401, 403):
            raise self._refused(method, url, response)
        if 300 <= response.status_code < 400:
            where = response.headers.get("Location", "?")
            raise ApiIntercepted(f"{method} {url} was redirected ({response.status_code}) to {where} — a sign-in "
                                      "page or proxy is in the way; call the Keyfactor server directly")
        if response.status_code not in expect:
            if response.status_code >= 500 and not self.answered:
                self._fails_every_call(method, path, response)
            raise ApiError(f"{method} {url} answered {response.status_code}: {_explain(response)}")
        self.scheme_used = self.scheme_used or self.scheme_of(response)
        return response

    def _send(self, method: str, url: str, params: dict[str, Any] | None = None, json_body: Any = None,
              headers: dict[str, str] | None = None) -> requests.Response:
        """One round trip, recorded; ApiUnreachable (or ApiIntercepted) when no whole HTTP answer came back."""
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, params=params, json=json_body, headers=headers, timeout=self.timeout_s,
                verify=self.verify, allow_redirects=False,
            )
        except requests.exceptions.ChunkedEncodingError as exc:
            raise ApiUnexpectedAnswer(f"Keyfactor API: {urlsplit(url).netloc} broke off the connection in the middle "
                                      f"of its answer to {method} {url} ({_cut_short(str(exc))}) — a proxy, a "
                                      "firewall or the server cut it: rerun, and check the proxy and the server's "
                                      "HTTPERR log if it persists") from None
        except requests.exceptions.RequestException as exc:
            intercepted = getattr(exc, "response", None)
            if intercepted is not None and "json" not in intercepted.headers.get("Content-Type", ""):
                # requests-kerberos refuses an answer that is not mutually authenticated: often not Keyfactor's.
                raise ApiIntercepted(_intercepted(method, url, intercepted)) from None
            raise self._unreachable(method, url, exc) from None
        self._record(response, started)
        self.answered = self.answered or response.status_code < 500
        return response

    def _fails_every_call(self, method: str, path: str, failed: requests.Response) -> None:
        """Before any call succeeded, a 5xx may be the whole API failing: another endpoint is asked once, and when it
        fails too, ApiFailing is the run's root cause (the later calls are skipped naming it)."""
        other = "/License" if path.rstrip("/").lower() == "/status/endpoints" else "/Status/Endpoints"
        try:
            probe = self._send("GET", self.api_url + other)
        except ApiError:
            return
        if probe.status_code >= 500:
            raise ApiFailing(f"Keyfactor API: every call fails — {method} {self.api_url}{path} answered "
                             f"{failed.status_code} ({_explain(failed)}) and GET {other} {probe.status_code} — the "
                             "KeyfactorAPI application pool is stopped or failing: start it in IIS Manager (or "
                             "iisreset) and check Command_API_Log.txt and the Application event log")

    def pages(self, path: str, page_size: int = 100, query: str | None = None, sort_field: str | None = None,
              prefix: str | None = None, max_pages: int = 10_000) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, page by page.

        With `X-Total-Count` (10.2.1 sends it), the listing ends once that many items have come: no request for a
        page after the last. A count the items disagree with is noted in one line for the report, and paging goes
        on as without it, until a short page (a count too low by whole pages cannot be told from a right one
        without the request it saves). A server that caps returnLimit below `page_size` would make every page look
        short, so without a count the first short page is confirmed by asking for the next one; a server that keeps
        answering the same page (it ignores this prefix) is named rather than paged through forever.
        """
        prefix = PAGING_PREFIX.get(path, "pq.") if prefix is None else prefix
        cap: int | None = None
        previous_first: Any = None
        listed = 0
        trusted = True  # the count, until the items disagree with it
        for page in range(1, max_pages + 1):
            params: dict[str, Any] = {f"{prefix}pageReturned": page, f"{prefix}returnLimit": page_size}
            if query:
                params[f"{prefix}queryString"] = query
            if sort_field:
                params[f"{prefix}sortField"] = sort_field
                params[f"{prefix}sortAscending"] = 0
            response = self.request("GET", path, params=params)
            items = self._json(response)
            if not isinstance(items, list):
                raise ApiUnexpectedAnswer(f"GET {self.api_url}{path} page {page} answered {type(items).__name__}, "
                                          "not a JSON list — check [command] api_path and the paging prefix")
            if items and page > 1 and _identity(items[0]) == previous_first:
                raise ApiUnexpectedAnswer(f"GET {self.api_url}{path} answers the same items for page {page} as for "
                                          f"page {page - 1} — the server ignores {prefix}pageReturned; check the "
                                          "paging prefix for this endpoint")
            previous_first = _identity(items[0]) if items else None
            listed += len(items)
            yield from items
            total = _total_count(response) if trusted else None
            if total == listed:
                return
            if total is not None and listed > total:
                trusted = False
                self._count_disagrees(path, total, listed)
            if len(items) >= (cap or page_size):
                continue
            if not items or cap is not None:
                if trusted and total is not None:  # fewer items than the count said
                    self._count_disagrees(path, total, listed)
                return
            cap = len(items)  # the last page, or the server's own limit: the next page tells
        raise ApiUnexpectedAnswer(f"GET {self.api_url}{path}: still full pages after {max_pages} pages — "
                                  f"the server may ignore {prefix}pageReturned; check the paging prefix")

    def count(self, path: str, query: str | None = None, prefix: str | None = None) -> int | None:
        """How many items a list endpoint holds (for `query`): X-Total-Count of a one-item page; None without it."""
        prefix = PAGING_PREFIX.get(path, "pq.") if prefix is None else prefix
        params: dict[str, Any] = {f"{prefix}pageReturned": 1, f"{prefix}returnLimit": 1}
        if query:
            params[f"{prefix}queryString"] = query
        return _total_count(self.request("GET", path, params=params))

    def _count_disagrees(self, path: str, total: int, listed: int) -> None:
        """One line for the report: the count is wrong, and the listing did not rely on it."""
        evidence.note_fact(f"{TOTAL_COUNT} of GET {path}", f"said {total}, the pages held {listed} — the server's "
                           "count disagrees with its items; every page was read until a short page, so none was "
                           "missed")

    # --- interpretation ------------------------------------------------------------------------
    def _json(self, response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        content_type = response.headers.get("Content-Type", "")
        if "json" not in content_type:
            intercepted = _intercepted(response.request.method or "", response.url, response)
            if response.status_code == 200:
                raise ApiIntercepted(intercepted)
            raise ApiUnexpectedAnswer(intercepted)
        try:
            return response.json()
        except ValueError:
            raise ApiUnexpectedAnswer(f"{response.request.method} {response.url} answered {response.status_code} "
                                      f"with malformed JSON: {_excerpt(response.text)!r}") from None

    def scheme_of(self, response: requests.Response) -> str | None:
        """The scheme that authenticated this answer: Kerberos, NTLM inside Negotiate, Basic."""
        sent = response.request.headers.get("Authorization", "")
        scheme, _, token = sent.partition(" ")
        if scheme == "Negotiate":
            try:
                raw = base64.b64decode(token)
            except ValueError:
                raw = b""
            if raw.startswith(b"NTLMSSP"):
                return "NTLM (inside Negotiate)"
            return "Kerberos (Negotiate, mutually authenticated)" if _KRB5_OID in raw else "Negotiate"
        return scheme or None

    def _unreachable(self, method: str, url: str, exc: Exception) -> ApiUnreachable:
        text = str(exc)
        where = urlsplit(url).netloc + (f" at {self.node}" if self.node else "")
        if isinstance(exc, requests.exceptions.SSLError):
            return ApiUnreachable(self._tls_problem(url, exc))
        if isinstance(exc, requests.exceptions.Timeout):
            return ApiUnreachable(f"Keyfactor API: no answer from {where} within {self.timeout_s:g}s — the server is "
                                  "down, overloaded or a firewall drops the traffic (raise [command] timeout_s?)")
        if "Connection refused" in text or "ConnectionRefused" in text:
            return ApiUnreachable(f"Keyfactor API: connection refused by {where} — is IIS running and bound to that "
                                  "port? (check the server, the site bindings and [command] url)")
        if "Name or service not known" in text or "getaddrinfo failed" in text or "NameResolution" in text:
            return ApiUnreachable(f"Keyfactor API: the host name in {url} does not resolve — check [command] url "
                                  "and DNS")
        if "RemoteDisconnected" in text or "Connection reset" in text or "ConnectionResetError" in text:
            return ApiUnreachable(f"Keyfactor API: {where} broke off the connection without answering {method} {url} "
                                  "— a proxy, a firewall or IIS itself (an application pool that crashes) cuts it: "
                                  "check the server's HTTPERR log and the Application event log")
        if "MutualAuthenticationError" in type(exc).__name__ or "mutual" in text.lower():
            return ApiUnreachable(f"Kerberos: the server's answer could not be mutually authenticated ({_short(text)})"
                                  " — a proxy may be terminating the connection; call the server directly")
        return ApiUnreachable(f"Keyfactor API: {method} {url} failed: {_short(text)}")

    def _tls_problem(self, url: str, exc: Exception) -> str:
        verify = tls.verify_error(exc)
        if verify is not None:
            detail = verify.verify_message or _short(str(verify))
            return tls.diagnose(url, tls.kind_of(verify, detail), detail, self.ca_bundle, self.timeout_s, self.node)
        bundle = tls.bundle_problem(self.ca_bundle) if self.ca_bundle else None
        return bundle or (f"TLS: handshake with {urlsplit(url).netloc} failed ({_short(str(exc))}) — check the IIS "
                          "https binding (its certificate and the TLS versions it allows)")

    def _refused(self, method: str, url: str, response: requests.Response) -> ApiAuthenticationFailed:
        offered = ", ".join(sorted({c.split(" ")[0].strip(",") for c in
                                    response.headers.get("WWW-Authenticate", "").split(", ") if c})) or "none"
        sent = response.request.headers.get("Authorization", "").split(" ")[0]
        if response.status_code == 403:
            return ApiAuthenticationFailed(f"{method} {url} answered 403: the account authenticated but lacks the "
                                           "Keyfactor role permission for this call — grant it in Security Roles")
        if self.auth.method == "basic":
            return ApiAuthenticationFailed(f"Basic: {url} refused {self.auth.username} (401) — check the password in "
                                           "the variable named by [auth] password_env and that IIS has Basic "
                                           f"authentication enabled (server offers: {offered})")
        if sent == "Negotiate":
            return ApiAuthenticationFailed(f"Kerberos: the server refused our ticket for HTTP/{self.host} (401 after "
                                           "Negotiate) — the app pool cannot decrypt it: check that the SPN is on the "
                                           f"app-pool account (setspn -Q HTTP/{self.host}) and that the account's "
                                           "key is current; Basic would show whether the account itself works")
        if "Negotiate" not in offered:
            return ApiAuthenticationFailed(f"Kerberos: {url} does not offer Negotiate (offers: {offered}) — enable "
                                           "Windows Authentication with the Negotiate provider in IIS")
        return ApiAuthenticationFailed(f"Kerberos: no ticket could be obtained for HTTP/{self.host}, so the request "
                                       "went unauthenticated (401) — run kinit, or check the SPN (setspn -Q)")

    def _record(self, response: requests.Response, started: float) -> None:
        for leg in [*response.history, response]:
            body = leg.request.body
            request_body = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
            self.exchanges.append(Exchange(
                method=leg.request.method or "",
                url=leg.url,
                status=leg.status_code,
                elapsed_ms=int((time.monotonic() - started) * 1000),
                request_headers=evidence.redact_headers(dict(leg.request.headers)),
                response_headers=evidence.redact_headers(dict(leg.headers)),
                # Redacting only what is kept: a page of thousands of orchestrators is megabytes.
                request_body=evidence.redact(request_body[:8000])[:4000],
                response_body=evidence.redact(leg.text[:8000])[:4000],
                kerberos_service=ticket_service(leg.request.headers.get("Authorization", "")),
            ))


def _total_count(response: requests.Response) -> int | None:
    text = response.headers.get(TOTAL_COUNT, "").strip()
    return int(text) if text.isdigit() else None


def _identity(item: Any) -> Any:
    """What names a listed item across calls (an agent's LastSeen changes between two identical requests)."""
    if isinstance(item, dict):
        for key in ("Id", "AgentId", "JobHistoryId"):
            if key in item:
                return item[key]
    return json.dumps(item, sort_keys=True, default=str)


def _intercepted(method: str, url: str, response: requests.Response) -> str:
    return (f"{method} {url} answered {response.status_code} with {_describe_body(response)} instead of the API's "
            "JSON — a proxy, sign-in page or IIS error page is in the way; call the Keyfactor server directly "
            "(check proxy settings / NO_PROXY and [command] url)")


def _excerpt(text: str, size: int = 120) -> str:
    return " ".join(text.split())[:size]


def _short(text: str) -> str:
    found = re.search(r"\]\s*([^\]()']{8,}?)\s*(?:\(|'|\)|$)", text)
    return _excerpt(found.group(1) if found else text, 160)


def _cut_short(text: str) -> str:
    found = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected", text)
    return f"{found.group(1)} bytes came, {found.group(2)} more were announced" if found else _short(text)


def _describe_body(response: requests.Response) -> str:
    title = _TITLE.search(response.content[:4096])
    kind = "an HTML page" if b"<html" in response.content[:2048].lower() else "a non-JSON body"
    named = f" titled {title.group(1).decode('utf-8', 'replace')!r}" if title else ""
    return f"{kind}{named} ({response.headers.get('Content-Type', 'no Content-Type')})"


def _explain(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _describe_body(response)
    if isinstance(body, dict) and ("Message" in body or "ErrorCode" in body):
        code = f"{body.get('ErrorCode')} " if body.get("ErrorCode") else ""
        return f"{code}{body.get('Message', '')}".strip()
    return _excerpt(json.dumps(body))


def _kerberos_auth(spn_host: str | None, principal: str | None) -> requests.auth.AuthBase:
    from requests_kerberos import REQUIRED, HTTPKerberosAuth
    from requests_kerberos.exceptions import MutualAuthenticationError

    class KerberosAuth(HTTPKerberosAuth):  # type: ignore[misc]
        """Keeps the refused answer on the error, so that we can say what answered instead of the server."""

        def handle_other(self, response: requests.Response) -> requests.Response:
            try:
                return super().handle_other(response)
            except MutualAuthenticationError as exc:
                exc.response = response
                raise

    # Error bodies stay readable: Keyfactor's {"ErrorCode", "Message"} is the most useful line we can show.
    return KerberosAuth(mutual_authentication=REQUIRED, hostname_override=spn_host, principal=principal,
                        sanitize_mutual_error_response=False)


def _truststore() -> ssl.SSLContext:
    import truststore

    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def connect(settings: Any, node: str | None = None) -> KeyfactorClient:
    """A client for the environment's API; with Kerberos, the ticket pre-check runs before its first call. `node`:
    one web server behind the load balancer, by address or its own name (the site's name is kept for TLS, the Host
    header and the Kerberos service)."""
    from smoke.ground import kerberos

    auth = settings.auth
    preflight = None
    if auth.method == "kerberos":
        preflight = kerberos.preflight(auth, settings.command.url)
        config = AuthConfig("kerberos", spn_host=auth.spn)
    else:
        config = AuthConfig("basic", username=auth.username, password=settings.password())
    bundle = str(settings.command.ca_bundle) if settings.command.ca_bundle else None
    return KeyfactorClient(settings.api_url, config, bundle, settings.command.timeout_s, preflight=preflight,
                           node=node)
