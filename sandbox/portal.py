"""The Management Portal as a browser meets it: the home page, Certificate Search, the Dashboard, the Report
Manager, and the Logi application that renders reports — all behind the site's Windows authentication (the
router authenticates every route), all pages drawn by script from JSON, like the real single-page portal.

What is known and what is the sandbox's own guess (keyfactor-api-notes §2, upgrade-facts):
- known: `/KeyfactorPortal`, Certificate Search at `/KeyfactorPortal/CertificateCollection/Edit?cid=0`; Report
  Manager flow "highlight the report, Run Report, populate the parameters, Generate: the report displays in
  the open window"; Logi's `rdPage.aspx?rdReport=<name>` and `rdChart.aspx`; the dashboard's Risk Header,
  Collections and Revocation Monitoring panels; dashboard and reports answer 500 while the rest of the
  portal works when the configuration wizard's "Dashboard and Reports" tab holds wrong IP addresses;
- the sandbox's guess (unknown for 10.x, overridable in [portal] pages/selectors): the dashboard route, the
  Report Manager route, the Logi application path `/KeyfactorLogi`, the JSON routes the pages call, the markup.
  Other layouts move the pages and redraw the navigation (sandbox/portal_layouts.py, `--portal NAME`).

`GET /Reports` (API, `query.` prefix) lists the reports the Report Manager shows.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .api import KeyfactorApi, net_time
from .configuration.server import REPORT_SCHEDULES
from .faults import ActiveFaults
from .listing import Listing
from .portal_layouts import LAYOUTS, PORTAL, Layout
from .web import Request, Response, Router, html_response, json_response, service_unavailable

LOGI = "/KeyfactorLogi"  # Logi Info runs as its own IIS application next to the portal
ASSETS = Path(__file__).resolve().parent / "portal_assets"
ISSUER = "CN=CorpIssuingCA1, DC=corp, DC=example, DC=com"
CONNECTION_CLOSED = "The underlying connection was closed: Unable to connect to the remote server."

# ASP.NET's own page for an unhandled exception (the "yellow screen"), as an application answers it with 500.
SERVER_ERROR = """<!DOCTYPE html><html><head><title>{detail}</title></head>
<body bgcolor="white"><span><h1>Server Error in '{application}' Application.<hr width=100% size=1 color=silver></h1>
<h2><i>{detail}</i></h2></span>
<p><b>Description:</b> An unhandled exception occurred during the execution of the current web request. Please review
the stack trace for more information about the error and where it originated in the code.</p>
<p><b>Exception Details:</b> System.Net.WebException: {detail}</p></body></html>"""

LOGI_ERROR = """<!DOCTYPE html><html><head><title>Logi Info - Error</title></head>
<body><div id="rdErrorPage"><h2>An error has occurred.</h2>
<p>Report: {report}</p>
<p>{detail}</p>
<p>The error was written to the application's rdErrorLog folder.</p></div></body></html>"""


@dataclass(frozen=True)
class Report:
    id: int
    display_name: str
    short_name: str
    report_path: str  # the Logi report definition: rdPage.aspx?rdReport=<report_path>
    description: str
    categories: str
    uses_collection: bool = True
    in_navigator: bool = True
    favorite: bool = False

    def response(self) -> dict[str, Any]:
        """Models.Report (spec: GET /Reports)."""
        parameters = [
            {"Id": self.id * 10 + 1, "ParameterName": "CollectionId", "ParameterType": 4,
             "DisplayName": "Certificate Collection", "Description": "The collection the report covers",
             "DefaultValue": "0", "DisplayOrder": 1, "ParameterVisibility": 0},
            {"Id": self.id * 10 + 2, "ParameterName": "EvaluationDate", "ParameterType": 1,
             "DisplayName": "Report Date", "Description": "The date the report is evaluated at",
             "DefaultValue": "", "DisplayOrder": 2, "ParameterVisibility": 0},
        ]
        schedules = REPORT_SCHEDULES.get(self.id, ())
        return {
            "Id": self.id,
            "Scheduled": len(schedules),
            "DisplayName": self.display_name,
            "Description": self.description,
            "ReportPath": self.report_path,
            "VersionNumber": "10.2",
            "Categories": self.categories,
            "ShortName": self.short_name,
            "InNavigator": self.in_navigator,
            "Favorite": self.favorite,
            "RemoveDuplicates": False,
            "UsesCollection": self.uses_collection,
            "ReportParameter": parameters if self.uses_collection else parameters[1:],
            "Schedules": list(schedules),
            "AcceptedScheduleFormats": ["PDF", "Excel"],
        }


REPORTS = (
    Report(1, "Expiration Report", "ExpirationReport", "Keyfactor.ExpirationReport",
           "Certificates expiring and expired within the next 12 weeks", "Certificates, Expiration", favorite=True),
    Report(2, "Expiration Report by Days", "ExpirationReportByDays", "Keyfactor.ExpirationReportByDays",
           "Certificates expiring within a number of days", "Certificates, Expiration"),
    Report(3, "PKI Status for Collection", "PKIStatus", "Keyfactor.PKIStatusForCollection",
           "Active, expired and revoked certificates of a collection", "Certificates"),
    Report(4, "Certificate Count by Template", "CertCountByTemplate", "Keyfactor.CertificateCountByTemplate",
           "How many certificates each template issued", "Certificates, Templates"),
    Report(5, "Monthly Executive Report", "MonthlyExecutive", "Keyfactor.MonthlyExecutiveReport",
           "Issuance, expiration and revocation trends", "Executive", uses_collection=False),
)


@dataclass(frozen=True)
class Certificate:
    id: int
    cn: str
    not_after: dt.datetime
    template: str
    revoked: bool = False

    def status(self, now: dt.datetime) -> str:
        if self.revoked:
            return "Revoked"
        return "Expired" if self.not_after < now else "Active"

    def row(self, now: dt.datetime) -> dict[str, Any]:
        return {"Id": self.id, "IssuedCN": self.cn, "IssuerDN": ISSUER, "NotAfter": net_time(self.not_after),
                "TemplateDisplayName": self.template, "Status": self.status(now)}


def certificates(now: dt.datetime) -> list[Certificate]:
    """The inventory the portal shows: a spread of expiry dates around today, a few revoked."""
    templates = ("Web Server", "Web Server", "Client Authentication", "Code Signing")
    found = []
    for n in range(1, 26):
        found.append(Certificate(
            id=1000 + n,
            cn=f"web{n:02}.corp.example.com" if n % 4 else f"svc-app{n:02}",
            not_after=(now + dt.timedelta(days=n * 11 - 40)).replace(microsecond=0),
            template=templates[n % 4],
            revoked=n % 9 == 0,
        ))
    return found


def _asset(name: str, content_type: str) -> Response:
    path = ASSETS / name
    if not path.is_file() or path.parent != ASSETS:
        return html_response(404, "<html><head><title>404 - File or directory not found.</title></head>"
                                  "<body><h2>404 - File or directory not found.</h2></body></html>")
    return Response(200, path.read_bytes(), content_type)


class Portal:
    def __init__(self, api: KeyfactorApi, layout: Layout) -> None:
        self.api = api
        self.faults: ActiveFaults = api.faults
        self.layout = layout

    def _page(self, title: str, current: str, body: str, script: str | None = None) -> Response:
        tag = f'<script src="{PORTAL}/Scripts/{script}"></script>' if script else ""
        footer = (f'<footer><a href="{PORTAL}/Help">Help</a> <a href="{PORTAL}/Home/About">About</a></footer>'
                  if self.layout.tile_links else "")
        return html_response(200, f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(self.layout.title(title))}</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="{PORTAL}/Content/portal.css"></head>
<body><header><span class="brand">Keyfactor Command</span>{self.layout.navigation(current)}</header>
<main>{body}</main>{footer}{tag}</body></html>""")

    def mount(self) -> None:
        router: Router = self.api.router
        router.front.append(self._front)
        router.add("GET", PORTAL, self.home)
        router.add("GET", PORTAL + "/Home/Summary", self.summary)
        router.add("GET", self.layout.certificate_search, self.certificate_search)
        router.add("GET", PORTAL + "/CertificateCollection/Query", self.certificate_query)
        router.add("GET", self.layout.dashboard, self.dashboard)
        router.add("GET", PORTAL + r"/Dashboard/Panel/(?P<name>\w+)", self.panel)
        router.add("GET", self.layout.report_manager, self.report_manager)
        router.add("GET", PORTAL + r"/Scripts/(?P<name>[\w-]+\.js)",
                   lambda request, name: _asset(name, "application/javascript; charset=utf-8"))
        router.add("GET", PORTAL + "/Content/portal.css", lambda request: _asset("portal.css", "text/css"))
        router.add("GET", LOGI + "/rdPage.aspx", self.logi_report)
        router.add("GET", LOGI + "/rdChart.aspx", self.logi_chart)
        reports = Listing("query.", lambda: REPORTS, Report.response, {
            "id": lambda r: r.id,
            "displayname": lambda r: r.display_name,
            "shortname": lambda r: r.short_name,
            "categories": lambda r: r.categories,
            "innavigator": lambda r: r.in_navigator,
            "favorite": lambda r: r.favorite,
        }, "Id")
        self.api.get("/Reports", reports.answer)

    # --- the site's front: HTTP.sys answers for a stopped application pool ---------------------------------
    def _front(self, request: Request) -> Response | None:
        if self.faults.on("portal-down") and request.path.lower().startswith(PORTAL.lower()):
            return service_unavailable()
        return None

    # --- portal pages -------------------------------------------------------------------------------------
    def home(self, request: Request) -> Response:
        return self._page("Home", "", """<h1>Welcome, <span id="welcome-user">…</span></h1>
<p>Keyfactor Command <span id="product-version"></span></p><div class="tiles" id="summary-tiles"></div>""",
                     "home.js")

    def summary(self, request: Request) -> Response:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        found = certificates(now)
        soon = now + dt.timedelta(days=30)
        search, manager = f"{self.layout.certificate_search}?cid=0", self.layout.report_manager
        tiles: list[dict[str, Any]] = [
            {"Label": "Active certificates", "Count": sum(c.status(now) == "Active" for c in found), "Url": search},
            {"Label": "Expiring in 30 days", "Count": sum(now <= c.not_after <= soon for c in found), "Url": search},
            {"Label": "Reports", "Count": len(REPORTS), "Url": manager},
        ]
        if not self.layout.tile_links:
            tiles = [{k: v for k, v in tile.items() if k != "Url"} for tile in tiles]
        answer: dict[str, Any] = {"Version": self.api.reported_version, "Tiles": tiles,
                                  "User": {"DisplayName": request.user or "", "Name": request.user}}
        if self.faults.on("portal-js-error"):
            # An answer shaped for another build of the script: the stale bundle dereferences a missing object.
            answer = {"Version": self.api.reported_version, "Tiles": tiles, "CurrentUser": request.user}
        return json_response(200, answer)

    def certificate_search(self, request: Request) -> Response:
        cid = request.param("cid", "0") or "0"
        if not cid.isdigit():
            return html_response(400, "<html><head><title>Bad Request</title></head><body>Bad Request</body></html>")
        headers = "".join(f"<th>{h}</th>" for h in ("Issued CN", "Issuer DN", "Expiration", "Template", "Status"))
        return self._page("Certificate Search", "Certificate Search", f"""<h1>Certificate Search</h1>
<div class="toolbar"><input id="searchQuery" size="60" placeholder="Query" value=""><button>Search</button></div>
<div id="certificateGrid" class="k-grid" data-cid="{cid}">
<table><thead><tr>{headers}</tr></thead></table>
<div class="k-grid-content"><table><tbody></tbody></table></div>
<div class="k-loading">Loading…</div><div class="k-pager-info"></div></div>""", "certificate-search.js")

    def certificate_query(self, request: Request) -> Response:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        try:
            page = max(int(request.param("page", "1") or 1), 1)
            size = max(int(request.param("pageSize", "50") or 50), 1)
        except ValueError:
            return json_response(400, {"Message": "The request is invalid."})
        found = certificates(now)
        body = json.dumps({"Total": len(found),
                           "Certificates": [c.row(now) for c in found[(page - 1) * size: page * size]]}).encode()
        if self.faults.on("portal-partial"):
            # The answer stops part-way, as when the connection behind the portal closes mid-response.
            body = body[: len(body) // 3]
        return Response(200, body, "application/json; charset=utf-8")

    def dashboard(self, request: Request) -> Response:
        panels = [("RiskHeader", "Risk Header", " risk-header"), ("Collections", "Collections", ""),
                  ("RevocationMonitoring", "Revocation Monitoring", "")]
        body = "".join(f'<section class="dashboard-panel{extra}" data-panel="{name}"><h2>{title}</h2>'
                       f'<div class="panel-body">Loading…</div></section>' for name, title, extra in panels)
        return self._page("Dashboard", "Dashboard", f'<h1>Dashboard</h1><div class="dashboard">{body}</div>',
                          "dashboard.js")

    def panel(self, request: Request, name: str) -> Response:
        if self.faults.on("dashboard-500"):
            # The panel's server side cannot reach the API: ASP.NET's error page, which the script shows in the panel.
            return html_response(500, SERVER_ERROR.format(application=PORTAL, detail=CONNECTION_CLOSED))
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        found = certificates(now)
        if name == "RiskHeader":
            counts = {
                "Active": sum(c.status(now) == "Active" for c in found),
                "Expiring in 7 days": sum(now <= c.not_after <= now + dt.timedelta(days=7) for c in found),
                "Expiring in 30 days": sum(now <= c.not_after <= now + dt.timedelta(days=30) for c in found),
                "Expired": sum(c.status(now) == "Expired" for c in found),
                "Revoked": sum(c.revoked for c in found),
                "Weak keys": 0,
            }
            return json_response(200, {"Notes": [{"Label": k, "Count": v} for k, v in counts.items()]})
        if name == "Collections":
            rows = [{"Label": "All Certificates", "Count": len(found)},
                    {"Label": "Web Server", "Count": sum(c.template == "Web Server" for c in found)}]
            return json_response(200, {"Rows": rows, "Chart": f"{LOGI}/rdChart.aspx?rdChart=Collections"})
        if name == "RevocationMonitoring":
            return json_response(200, {"Rows": [{"Label": "CorpIssuingCA1 CRL", "Count": "valid for 6 days"}]})
        return json_response(404, {"Message": f"No panel named '{name}'."})

    def report_manager(self, request: Request) -> Response:
        headers = "".join(f"<th>{h}</th>" for h in ("Display Name", "Description", "Categories"))
        return self._page("Report Manager", "Report Manager", f"""<h1>Report Manager</h1>
<div class="toolbar"><button id="runReport" disabled>Run Report</button><button disabled>Edit</button>
<button disabled>Delete</button></div>
<div id="reportGrid" class="k-grid" data-logi="{LOGI}"><table><thead><tr>{headers}</tr></thead></table>
<div class="k-grid-content"><table><tbody></tbody></table></div><div class="k-loading">Loading…</div></div>
<div id="runReportDialog" class="dialog" role="dialog" hidden><h2>Run Report: <span class="report-name"></span></h2>
<label>Certificate Collection <select id="reportCollection"><option value="0">All Certificates</option></select></label>
<label>Report Date <input id="reportDate" type="date"></label> <button id="generateReport">Generate</button></div>
<iframe id="reportViewer" title="Report" hidden></iframe>""", "report-manager.js")

    # --- Logi -------------------------------------------------------------------------------------------
    def logi_report(self, request: Request) -> Response:
        name = request.param("rdReport") or ""
        report = next((r for r in REPORTS if r.report_path.lower() == name.lower()), None)
        if self.faults.on("reports-500"):
            return html_response(500, SERVER_ERROR.format(application=LOGI, detail=CONNECTION_CLOSED))
        if self.faults.on("logi-down"):
            # Logi answers its own error page (with 200): it cannot reach the Keyfactor API it reads from.
            return html_response(200, LOGI_ERROR.format(report=html.escape(name), detail=CONNECTION_CLOSED))
        if report is None:
            return html_response(200, LOGI_ERROR.format(report=html.escape(name),
                                                        detail="the report definition was not found."))
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = "".join(
            f"<tr><td>{html.escape(c.cn)}</td><td>{html.escape(ISSUER)}</td><td>{c.not_after:%Y-%m-%d}</td>"
            f"<td>{html.escape(c.template)}</td><td>{c.status(now)}</td></tr>"
            for c in sorted(certificates(now), key=lambda c: c.not_after)[:12]
        )
        date = request.param("EvaluationDate") or f"{now:%Y-%m-%d}"
        return html_response(200, f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(report.display_name)}</title>
<style>body{{font-family:Arial,sans-serif;font-size:12px;margin:12px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px}} th{{background:#dde6ee}}</style></head>
<body><div id="rdReportHeader"><h2>{html.escape(report.display_name)}</h2>
<p>Collection: All Certificates &middot; Report date: {html.escape(date)}</p></div>
<img src="{LOGI}/rdChart.aspx?rdChart={quote(report.short_name)}" alt="chart">
<table id="dt{report.short_name}" class="rdDataTable"><thead><tr><th>Issued CN</th><th>Issuer DN</th>
<th>Expiration</th><th>Template</th><th>Status</th></tr></thead><tbody>{rows}</tbody></table>
<div class="rdExport"><button>Export to Excel</button> <button>Export to PDF</button></div></body></html>""")

    def logi_chart(self, request: Request) -> Response:
        name = html.escape(request.param("rdChart") or "chart")
        bars = "".join(f'<rect x="{10 + i * 34}" y="{90 - h}" width="24" height="{h}" fill="#2f7fb8"/>'
                       for i, h in enumerate((30, 55, 42, 70, 25, 60)))
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="220" height="100"><title>{name}</title>'
               f'{bars}<line x1="5" y1="90" x2="215" y2="90" stroke="#333"/></svg>')
        return Response(200, svg.encode(), "image/svg+xml")


def mount(api: KeyfactorApi, layout: str = "default") -> None:
    Portal(api, LAYOUTS[layout]).mount()
