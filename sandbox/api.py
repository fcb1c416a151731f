"""The Keyfactor API (v1, 10.x era) routes, shaped by the vendor's OpenAPI document and corrected by the public
evidence in keyfactor-api-notes ("Evidence added 2026-12-01": Keyfactor's own validation scripts for 10.2.1/10.4).

Strictness kept on purpose (never easier than IIS + ASP.NET Web API, never stricter than the evidence):
- `x-keyfactor-requested-with` is required on every POST/PUT/DELETE (the spec marks it required); GETs without
  it are answered, as 10.2.1 answers them;
- `x-keyfactor-api-version` may be absent, "1" or "1.0";
- list endpoints send `X-Total-Count` (sandbox/listing.py); `--total-count absent|high|low` omits it, or makes
  it one more or one fewer than the items, so that the suite's paging is tried without it and with a wrong one;
- date-times as .NET writes them, sometimes without a zone;
- endpoints the 10.x documentation describes but the OpenAPI file lacks are marked so (`outside_openapi`), and
  the self-tests validate them against the documented shape instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from .faults import ActiveFaults
from .web import Request, Response, Router, html_response, json_response, service_unavailable

HEALTHY_VERSION = "10.2.1.0"
TOTAL_COUNT = "X-Total-Count"
# What `--total-count` does to the header: sent as counted, left out, or off by one either way.
TOTAL_COUNT_MODES = {"sent": 0, "absent": None, "high": 1, "low": -1}
STALE_VERSION = "10.1.1.0"
LICENCE_ISSUED, LICENCE_EXPIRES = dt.datetime(2026, 6, 19), dt.datetime(2031, 6, 30)

PROXY_SIGN_IN = """<!DOCTYPE html><html><head><title>Sign in - Corporate Web Gateway</title></head>
<body><form method="post" action="/gateway/login"><h1>Sign in to continue</h1>
<label>User name <input name="username"></label><label>Password <input type="password" name="password">
</label><button>Sign in</button></form></body></html>"""


def error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"ErrorCode": code, "Message": message})


def net_time(when: dt.datetime, zone: bool = True) -> str:
    """.NET's round-trip format: 7 fractional digits; `Z` for UTC kinds, nothing for unspecified."""
    text = when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"
    return text + "Z" if zone else text


@dataclass
class KeyfactorApi:
    router: Router
    faults: ActiveFaults
    base: str = "/KeyfactorAPI"
    total_count: str = "sent"  # one of TOTAL_COUNT_MODES
    endpoints: list[str] = field(default_factory=list)
    # "GET /Security/Roles" -> where the 10.x documentation describes it (the OpenAPI file does not)
    outside_openapi: dict[str, str] = field(default_factory=dict)
    version: str = HEALTHY_VERSION  # python -m sandbox --version: the server before the upgrade

    @property
    def reported_version(self) -> str:
        return STALE_VERSION if self.faults.on("version-mismatch") else self.version

    def mount(self) -> None:
        self.router.front.append(self._proxy_front)
        self.get("/Status/Endpoints", self.status_endpoints)
        self.get("/License", self.license)

    def get(self, path: str, handler: Callable[..., Response], outside_openapi: str | None = None) -> None:
        """`outside_openapi`: the documentation that describes this endpoint, which the OpenAPI file lacks."""
        self.route("GET", path, handler)
        if outside_openapi:
            self.outside_openapi[f"GET {path}"] = outside_openapi

    def route(self, method: str, path: str, handler: Callable[..., Response]) -> None:
        self.endpoints.append(f"{method} {path}")

        def guarded(request: Request, **params: str) -> Response:
            problem = self._header_problem(request)
            return problem or self._counted(handler(request, **params))

        self.router.add(method, self.base + path, guarded)

    def _counted(self, response: Response) -> Response:
        """`--total-count`: the header as counted, left out, or off by one."""
        offset = TOTAL_COUNT_MODES[self.total_count]
        if offset == 0:
            return response
        kept = [(name, value) for name, value in response.headers if name != TOTAL_COUNT]
        if offset is not None:
            kept += [(name, str(max(int(value) + offset, 0))) for name, value in response.headers
                     if name == TOTAL_COUNT]
        response.headers = kept
        return response

    def _header_problem(self, request: Request) -> Response | None:
        if request.method != "GET" and not request.header("x-keyfactor-requested-with"):
            return error(400, "0xA0110001", "The 'x-keyfactor-requested-with' header is required.")
        version = request.header("x-keyfactor-api-version")
        if version not in (None, "1", "1.0"):
            return error(400, "0xA0110001", f"API version '{version}' is not supported.")
        if request.method in ("POST", "PUT") and "json" not in (request.header("content-type") or ""):
            return json_response(415, {"Message": "The request entity's media type is not supported."})
        return None

    def _proxy_front(self, request: Request) -> Response | None:
        if self.faults.on("proxy-login-page") and request.path.lower().startswith(self.base.lower()):
            return html_response(200, PROXY_SIGN_IN)
        if self.faults.on("api-pool-stopped") and request.path.lower().startswith(self.base.lower()):
            return service_unavailable()
        return None

    def status_endpoints(self, request: Request) -> Response:
        return json_response(200, sorted(self.endpoints))

    def license(self, request: Request) -> Response:
        # A licence file's dates, the same at every start: they are configuration a baseline keeps.
        issued, expires = LICENCE_ISSUED, LICENCE_EXPIRES
        version = self.reported_version
        return json_response(200, {
            "KeyfactorVersion": version,
            "LicenseData": {
                "LicenseId": "5f1c2a9e-sandbox",
                "Customer": {"Name": "Sandbox Corp", "Id": "1001"},
                "IssuedDate": net_time(issued, zone=False),
                "ExpirationDate": net_time(expires, zone=False),
                "LicensedProducts": [{
                    "ProductId": "KeyfactorCommand",
                    "DisplayName": "Keyfactor Command",
                    # The licence file is for the 10.x product line: an upgrade within it keeps the licence.
                    "MajorRev": "10",
                    "MinorRev": "0",
                    "LicensedFeatures": [
                        {"FeatureID": "Enrollment", "DisplayName": "Enrollment", "Enabled": True,
                         "Quantity": 0, "ExpirationDate": net_time(expires, zone=False)},
                        {"FeatureID": "Orchestrators", "DisplayName": "Orchestrators", "Enabled": True,
                         "Quantity": 10000, "ExpirationDate": net_time(expires, zone=False)},
                    ],
                }],
            },
        })
