"""Revocation since the upgrade: every endpoint under Revocation Monitoring (GET /Monitoring/Revocation, paged with
`pagedQuery.`) checked from here — a CRL downloaded, parsed, signed by its CA and valid for the margin; an OCSP
responder asked a well-formed question and its answer signed and current. LDAP locations are listed, not checked.

Knows nothing of pytest. The endpoints are checked in parallel (at most WORKERS at once), one attempt each, so an
endpoint that hangs costs one `[command] timeout_s` in all, not one per endpoint or per retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from smoke.ground.errors import ApiUnexpectedAnswer
from smoke.keyfactor import crl, ocsp
from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.finding import Finding
from smoke.keyfactor.issuers import Issuers
from smoke.keyfactor.revocation_http import Answer, Http, Unanswered

MONITORING = "/Monitoring/Revocation"
CRL, OCSP = "CRL", "OCSP"
ENDPOINT_TYPES = {1: CRL, 2: OCSP}  # the query language's numbers; answers name them
OK, FAILED, NOT_CHECKED = "ok", "FAILED", "not checked"
WORKERS = 16
OCSP_REQUEST = "application/ocsp-request"


@dataclass(frozen=True)
class Endpoint:
    id: Any
    name: str
    kind: str
    location: str
    ocsp_parameters: Any

    @classmethod
    def from_api(cls, item: Any) -> Endpoint:
        if not isinstance(item, dict):
            raise ApiUnexpectedAnswer(f"GET {MONITORING} listed {str(item)[:80]!r}, not a revocation monitoring "
                                      "endpoint")
        kind = item.get("EndpointType")
        kind = ENDPOINT_TYPES.get(kind, str(kind)) if isinstance(kind, int) else str(kind or "").strip().upper()
        return cls(item.get("Id"), str(item.get("Name") or f"endpoint {item.get('Id')}"), kind,
                   str(item.get("Location") or "").strip(), item.get("OCSPParameters"))


@dataclass(frozen=True)
class Verdict:
    endpoint: Endpoint
    state: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.endpoint.name} ({self.endpoint.kind} {self.endpoint.location}): {self.detail} — {self.fix}"


def monitored(client: KeyfactorClient, page_size: int) -> list[Endpoint]:
    return [Endpoint.from_api(item) for item in client.pages(MONITORING, page_size=page_size)]


@dataclass(frozen=True)
class RevocationCheck:
    http: Http
    issuers: Issuers
    min_left: dt.timedelta
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def all(self, endpoints: Sequence[Endpoint]) -> list[Verdict]:
        if not endpoints:
            return []
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(endpoints)), thread_name_prefix="revocation") as pool:
            return list(pool.map(self.one, endpoints))

    def one(self, endpoint: Endpoint) -> Verdict:
        scheme = urlsplit(endpoint.location).scheme.lower()
        if scheme in ("ldap", "ldaps"):
            return Verdict(endpoint, NOT_CHECKED, "an LDAP location: the suite reads revocation data over HTTP only",
                           "check it from a domain member (certutil -URL), or monitor the HTTP location clients use")
        if scheme not in ("http", "https"):
            return Verdict(endpoint, FAILED, "not an http(s) or LDAP URL",
                           "correct the location in Alerts > Revocation Monitoring")
        try:
            if endpoint.kind == CRL:
                finding = self._crl(endpoint)
            elif endpoint.kind == OCSP:
                finding = self._ocsp(endpoint)
            else:
                return Verdict(endpoint, NOT_CHECKED, f"endpoint type {endpoint.kind!r} is neither CRL nor OCSP")
        except Unanswered as exc:
            finding = Finding(False, str(exc), "check the web server at this location, the firewall and DNS from the "
                                               "places that use it (and HTTP_PROXY/NO_PROXY here)")
        except ValueError as exc:  # what cryptography raises on a malformed structure inside a parsed answer
            finding = Finding(False, f"an unreadable answer ({' '.join(str(exc).split())[:160]})",
                              "a proxy or a broken publication answers at this location — fetch it by hand and check")
        return Verdict(endpoint, OK if finding.ok else FAILED, finding.detail, finding.fix)

    def _crl(self, endpoint: Endpoint) -> Finding:
        answer = self.http.get(endpoint.location)
        if answer.status != 200:
            return _refused(answer, "the CRL is no longer published at this location: check the CA's CDP "
                                    "publishing, the IIS virtual directory or the copy job")
        return crl.judge(answer.content, answer.content_type, self.issuers, self.min_left, self.now())

    def _ocsp(self, endpoint: Endpoint) -> Finding:
        asked = ocsp.question(endpoint.ocsp_parameters, self.issuers)
        if isinstance(asked, Finding):
            return asked
        answer = self.http.post(endpoint.location, asked.request(), OCSP_REQUEST)
        if answer.status != 200:
            return _refused(answer, ocsp.RESPONDER)
        return ocsp.judge(answer.content, answer.content_type, asked, self.now())


def _refused(answer: Answer, missing: str) -> Finding:
    if answer.status == 404:
        return Finding(False, "not found (404)", missing)
    if answer.status >= 500:
        return Finding(False, f"answered {answer.status}: the service behind this location is down",
                       "start it (IIS application pool, Online Responder service) and check its event log")
    return Finding(False, f"answered {answer.status}", missing)
