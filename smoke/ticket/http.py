"""The HTTP calls to a ticket system: a timeout on every call, TLS verified (the OS trust store or [ticket]
ca_bundle), no redirects followed (credentials go to the configured origin only), and retries with backoff on
429 and 5xx answers, honouring Retry-After. A failure is one TicketError line."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from smoke.ground import evidence
from smoke.ground.errors import SmokeError
from smoke.ground.tls import TruststoreAdapter

ATTEMPTS = 3
BACKOFF_S = (1.0, 2.0)  # before the 2nd and the 3rd attempt, when the answer names no Retry-After
LONGEST_WAIT_S = 60.0
# Answers that say "not processed, try again". A 500 may have done the work: only a read is repeated after it.
RETRIED = {429, 502, 503, 504}


class TicketError(SmokeError):
    """Attaching to the change ticket failed: one line naming the cause and the fix."""


def retry_delay(attempt: int, retry_after: str | None, now: dt.datetime | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1`: the answer's Retry-After (seconds or an HTTP date), else the
    backoff; never more than LONGEST_WAIT_S."""
    wait = BACKOFF_S[min(attempt, len(BACKOFF_S)) - 1]
    if retry_after:
        text = retry_after.strip()
        if text.isdigit():
            wait = float(text)
        else:
            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                wait = max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
    return min(wait, LONGEST_WAIT_S)


class TicketHttp:
    def __init__(self, url: str, ca_bundle: str | None, timeout_s: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url.rstrip("/")
        self.where = urlsplit(self.url).netloc
        self.ca_bundle = ca_bundle
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.retries = 0  # how many calls were repeated, for the line that says it worked
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if ca_bundle is None:
            self.session.mount("https://", TruststoreAdapter())

    def call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """One call, repeated on 429/5xx; `what` says in the failure line what was being done."""
        url = self.url + path
        for attempt in range(1, ATTEMPTS + 1):
            try:
                # verify on every call: a session-level one loses to REQUESTS_CA_BUNDLE (requests #3829).
                response = self.session.request(method, url, timeout=self.timeout_s, verify=self.ca_bundle or True,
                                                allow_redirects=False, **kwargs)
            except requests.exceptions.SSLError as exc:
                raise self._tls(exc) from None
            except requests.exceptions.Timeout:
                # Not repeated: the wait was long already, and a POST that timed out may have landed.
                raise TicketError(f"no answer from {self.where} within {self.timeout_s:g}s ({what}) — the instance is "
                                  "slow or unreachable; raise [ticket] timeout_s if it is only slow") from None
            except requests.exceptions.ConnectionError as exc:
                if method == "GET" and attempt < ATTEMPTS:
                    self._wait(attempt, None)
                    continue
                raise TicketError(f"cannot reach {self.where} ({what}): {_cause(exc)} — check [ticket] url and the "
                                  "network path to it (proxy, firewall)") from None
            if response.status_code in RETRIED or (response.status_code == 500 and method == "GET"):
                if attempt < ATTEMPTS:
                    self._wait(attempt, response.headers.get("Retry-After"))
                    continue
                raise TicketError(f"{what}: {self.where} answered {response.status_code} {ATTEMPTS} times — the "
                                  "instance is unavailable or limits this account's requests; try again later")
            if 300 <= response.status_code < 400:
                raise TicketError(f"{what}: {self.where} redirected ({response.status_code}) to "
                                  f"{response.headers.get('Location', '?')} — a sign-in page or proxy is in the way; "
                                  "set [ticket] url to the instance's own address")
            return response
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        self.retries += 1
        self.sleep(retry_delay(attempt, retry_after))

    def _tls(self, exc: Exception) -> TicketError:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text and "match" in text.lower():
            return TicketError(f"TLS: the certificate of {self.where} does not match that host name — use the name the "
                               "certificate was issued for in [ticket] url")
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return TicketError(f"TLS: the certificate of {self.where} is not trusted — set [ticket] ca_bundle to the "
                               "PEM file of its root CA (verification is never switched off)")
        return TicketError(f"TLS: handshake with {self.where} failed ({_cause(exc)}) — check [ticket] url")


def error_text(response: requests.Response) -> str:
    """The one-line reason an answer gives: ServiceNow's error, Jira's errorMessages, else the status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    found: list[str] = []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # ServiceNow: {"error": {"message", "detail"}, "status": "failure"}
            found += [str(error[key]) for key in ("message", "detail") if error.get(key)]
        elif error:  # an OAuth answer: {"error", "error_description"}
            found += [str(error), str(body.get("error_description") or "")]
        found += [str(message) for message in body.get("errorMessages") or []]  # Jira
        errors = body.get("errors")
        if isinstance(errors, dict):
            found += [f"{key}: {value}" for key, value in errors.items()]
    elif "html" not in response.headers.get("Content-Type", ""):
        found.append(response.text)
    line = " ".join(" ".join(found).split())[:200]
    return evidence.redact(line) or f"HTTP {response.status_code} {response.reason or ''}".strip()


def _cause(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "getaddrinfo failed", "Connection reset",
                  "No route to host", "Network is unreachable"):
        if known in text:
            return known.lower()
    return " ".join(text.split())[:160]


class BearerAuth(requests.auth.AuthBase):
    """Authorization: Bearer — a Jira Data Center personal access token, or a ServiceNow OAuth access token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request
