"""Everything the checks know about the Management Portal's pages — paths, selectors, expected texts — and how a
user walks them (open Certificate Search, run a report from the Report Manager). Knows nothing of pytest.

Portal markup changes between versions, so every value here is a default that an environment file overrides:

    [portal.selectors]
    search_rows = "#certificateGrid tbody tr"

Known for 10.x (keyfactor-api-notes §2): the `/KeyfactorPortal` application, Certificate Search at
`CertificateCollection/Edit?cid=0`, the Report Manager flow (highlight the report, Run Report, fill in the
parameters, Generate: the output shows in the open window) and Logi's `rdPage.aspx?rdReport=…` report pages.
Not published, so defaults a real portal may need overridden: the dashboard and Report Manager routes, the grid
markup, the button labels. Selectors are Playwright selectors (CSS, `text=…`, `role=button[name="…"]`).
The dashboard, Certificate Search and Report Manager routes are found in the portal's own navigation by their
link texts (smoke/portal/navigation.py); the PAGES below are the fallback, a [portal] pages setting wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from smoke.ground import evidence
from smoke.ground.prerequisites import Prerequisite
from smoke.portal.navigation import Link, Route, links_from, origin, route, text_key

if TYPE_CHECKING:
    from smoke.portal.browser import BrowserSession, Visit
    from smoke.portal.page import Answer, PageLoad

# Paths: "{portal}" is [command] url + portal_path; anything else is taken as a path on [command] url.
PAGES = {
    "home": "{portal}/",
    "certificate_search": "{portal}/CertificateCollection/Edit?cid=0",
    "dashboard": "{portal}/Dashboard",
    "report_manager": "{portal}/ReportManager",
}
SELECTORS = {
    "search_rows": ".k-grid-content tbody tr",  # one element per result row of the Certificate Search grid
    "report_row": 'tr:has(td:text-is("{name}"))',  # the Report Manager grid row of report {name}
    "run_report": 'role=button[name="Run Report"]',
    "generate": 'role=button[name="Generate"]',
    "report_output": "table tr td",  # present once Logi has drawn the report's data
}
TEXTS = {
    "home_title": ["Keyfactor"],  # the home page's title contains one of these
    "logi_page": ["rdPage.aspx"],  # a report's output is the page whose URL contains one of these
    "logi_errors": [  # any of these on a report's output page means Logi failed
        "The underlying connection was closed",
        "An error has occurred",
        "rdErrorLog",
        "Server Error in '",
    ],
    # The links of the portal's navigation (read on its home page) that lead to the pages the checks visit.
    "nav_dashboard": ["Dashboard"],
    "nav_certificate_search": ["Certificate Search"],
    "nav_report_manager": ["Report Manager"],
}
REPORTS = ["Expiration Report"]  # run when [reports] names is empty: a built-in report every install has
KNOWN = {"pages": list(PAGES), "selectors": list(SELECTORS), "texts": list(TEXTS)}


@dataclass(frozen=True)
class PortalPages:
    """The page knowledge for one environment: defaults with its [portal] overrides applied."""

    server_url: str
    portal_url: str
    pages: dict[str, str]
    selectors: dict[str, str]
    texts: dict[str, list[str]]
    overridden: frozenset[str] = frozenset()  # the pages the environment file sets
    env: str = ""  # the environment's name, for messages

    def url(self, page: str) -> str:
        path = self.pages[page]
        if path.startswith("{portal}"):
            return self.portal_url + path.removeprefix("{portal}")
        if path.lower().startswith("https://"):
            return path
        return self.server_url + "/" + path.lstrip("/")

    def selector(self, key: str, **values: str) -> str:
        text = self.selectors[key]
        for key, value in values.items():
            text = text.replace("{" + key + "}", value.replace("\\", "\\\\").replace('"', '\\"'))
        return text

    def setting(self, kind: str, name: str) -> str:
        """How the user names this knowledge in the environment file, for messages."""
        return f"[portal] {kind}.{name}"


def pages_for(settings: Any) -> PortalPages:
    portal = settings.portal
    return PortalPages(
        server_url=settings.command.url,
        portal_url=settings.portal_url,
        pages={**PAGES, **(portal.pages if portal else {})},
        selectors={**SELECTORS, **(portal.selectors if portal else {})},
        texts={**TEXTS, **(portal.texts if portal else {})},
        overridden=frozenset(portal.pages if portal else ()),
        env=settings.name,
    )


def report_names(settings: Any) -> list[str]:
    return list(settings.reports.names) if settings.reports and settings.reports.names else list(REPORTS)


@dataclass
class SearchResult:
    load: PageLoad
    rows: int


@dataclass
class ReportRun:
    name: str
    load: PageLoad  # the whole run: Report Manager, the clicks, the output
    output_url: str | None = None
    address: str | None = None  # the report page, short (path and rdReport), for messages
    output_status: int | None = None
    output_title: str = ""
    output_cells: int = 0
    problem: str | None = None  # one line: why the report did not run, None when its output rendered
    kind: str = ""  # of the problem: "portal" (page did not load), "page" (markup not found), "logi" (the run failed)
    fix: str = ""  # the likely fix of the problem, one line


class Portal:
    """The portal as a user walks it, in one shared browser. When the home page itself does not arrive (no answer,
    ≥ 500, a sign-in page), later portal pages are skipped naming that cause instead of failing the same way.
    The home page is visited once per run: the portal check judges it, and the other pages are found among its
    links."""

    def __init__(self, browser: BrowserSession, pages: PortalPages) -> None:
        self.browser = browser
        self.pages = pages
        self.home_page = Prerequisite("the Management Portal")
        self.routes: dict[str, Route] = {}
        self._home: PageLoad | None = None
        self.links: list[Link] | None = None  # the home page's links; None until read, or when it did not load

    def home(self) -> PageLoad:
        self._require()
        load = self.visit_home()
        self._attach(load)
        if load.navigation_error or (load.status or 0) >= 500 or load.sign_in_page():
            self.home_page.fail(load.document_problem() or f"{load.url} answered {load.status}")
        return load

    def visit_home(self) -> PageLoad:
        """The home page, visited once per run, and its links."""
        if self._home is None:
            with self.browser.visit("Portal home page") as visit:
                visit.goto(self.pages.url("home"))
                visit.settle()
                found = visit.links()
                load = visit.snapshot()
            self._home = load
            if load.document_problem() is None:
                self.links = links_from(found, load.url or load.requested)
        return self._home

    def route(self, page: str) -> Route:
        """Where `page` is and how that was found (the [portal] pages setting, the navigation, the default), noted
        in the report. Reading the navigation costs the home page's visit, once per run."""
        if page in self.routes:
            return self.routes[page]
        overridden = page in self.pages.overridden
        problem = None if overridden else self.visit_home().document_problem()
        found = route(page, self.pages.url(page), overridden, self.pages.texts[text_key(page)],
                      None if overridden else self.links, problem)
        self.routes[page] = found
        server = origin(self.pages.server_url)
        evidence.note_fact(f"Portal page {page}", f"{found.url.removeprefix(server)} ({found.how})")
        links = "\n".join(f"  {link.shown(server)}" for link in found.links or [])
        evidence.attach_text(f"Route of {page}", f"{found.url}\n{found.how}"
                                                 + (f"\n\nlinks on the home page:\n{links}" if links else ""))
        return found

    def status(self, url: str, name: str) -> str:
        """How `url` answers a visit: its status ("200", "404"), or why it did not load."""
        with self.browser.visit(name) as visit:
            load = visit.goto(url)
        return load.navigation_error or str(load.status)

    def title_expected(self, load: PageLoad) -> str | None:
        """The expected title texts when the page's title has none of them, else None."""
        wanted = self.pages.texts["home_title"]
        return None if any(w.lower() in load.title.lower() for w in wanted) else " or ".join(map(repr, wanted))

    def certificate_search(self, min_rows: int) -> SearchResult:
        self._require()
        where = self.route("certificate_search")
        with self.browser.visit("Certificate Search") as visit:
            visit.goto(where.url)
            rows = visit.settle(ready=self.pages.selector("search_rows"), count=min_rows)
            load = visit.snapshot()
        self._attach(load)
        return SearchResult(load, rows)

    def dashboard(self) -> PageLoad:
        self._require()
        where = self.route("dashboard")
        with self.browser.visit("Dashboard") as visit:
            visit.goto(where.url)
            visit.settle()
            load = visit.snapshot()
        self._attach(load)
        return load

    def run_report(self, name: str, timeout_s: float) -> ReportRun:
        """Report Manager → highlight the report → Run Report → Generate → the output renders (or not)."""
        self._require()
        where = self.route("report_manager")
        with self.browser.visit(f"Report {name}") as visit:
            run = ReportRun(name, visit.load)
            visit.goto(where.url)
            if visit.load.navigation_error or (visit.load.status or 0) >= 400:
                visit.snapshot()
                self._manager_not_loaded(run)
            else:
                output_page = self._generate(visit, run, timeout_s)
                visit.snapshot(output_page)
                if run.kind == "page" and visit.load.document_problem():  # an error or sign-in page, not the grid
                    self._manager_not_loaded(run)
        failing = failed_requests(run.load)
        if failing:  # named whatever else the page showed, with the "Dashboard and Reports" fix
            run.problem = f"{len(failing)} request(s) failed: {listed(failing)}" + (f"; {run.problem}"
                                                                                   if run.problem else "")
            run.kind, run.fix = "logi", self.wizard_fix()
        elif run.kind == "page":
            run.fix = ("the Report Manager's markup differs from what the suite expects: compare the screenshot and "
                       "set [portal] selectors (report_row, run_report, generate)")
        elif run.kind == "logi":
            run.fix = self.wizard_fix()
        self._attach(run.load)
        return run

    def _manager_not_loaded(self, run: ReportRun) -> None:
        load = run.load
        run.problem, run.kind = load.document_problem(), "portal"
        run.fix = "" if load.navigation_error else self.page_fix(load, "report_manager")  # an error names its own

    # --- what went wrong, and the likely fix ------------------------------------------------------------------
    def not_loaded(self, what: str, load: PageLoad, page: str) -> str | None:
        """not_loaded() of `page`, whose 404 names the route setting and the closest navigation links."""
        problem = load.document_problem()
        if problem is None or load.navigation_error:
            return problem
        return f"{what} did not load: {problem} — {self.page_fix(load, page)}"

    def page_fix(self, load: PageLoad, page: str) -> str:
        if load.status != 404 or page not in self.routes:
            return document_fix(load)
        where = self.routes[page]
        closest = where.closest_links(origin(self.pages.server_url))
        listing = f"; `pytest --env {self.pages.env or '<env>'} --portal-map` lists them all" if where.links else ""
        more = f" ({closest}{listing})" if closest else ""
        if where.source == "setting":
            return f"nothing at the address {where.setting} names: correct it{more}"
        if self._home is not None and self._home.document_problem() is None:
            return f"the route differs on this server (the home page loads): set {where.setting} to its address{more}"
        return f"nothing at that address: check [command] portal_path and {where.setting}{more}"

    def wizard_fix(self) -> str:
        """The "Dashboard and Reports" fix — unless the portal's home page fails too: then the portal is the cause."""
        home = self._home
        problem = home.document_problem() if home else None
        if home is None or problem is None:
            return WIZARD_FIX
        return f"the portal home page fails too ({problem}): {document_fix(home)}"

    def _generate(self, visit: Visit, run: ReportRun, timeout_s: float) -> Any:
        from playwright.sync_api import Error as PlaywrightError

        page = visit.page
        row = self.pages.selector("report_row", name=run.name)
        if visit.settle(ready=row) == 0:
            run.problem = (f"not in the Report Manager grid at {page.url} (no element matches "
                           f"{self.pages.setting('selectors', 'report_row')} = {row!r})")
            run.kind = "page"
            return page
        step = "run_report"
        try:
            page.locator(row).first.click()
            page.locator(self.pages.selector("run_report")).first.click()
            step = "generate"
            logi = [t.lower() for t in self.pages.texts["logi_page"]]
            with page.context.expect_event(
                "response", timeout=timeout_s * 1000,
                predicate=lambda r: r.request.resource_type == "document" and any(t in r.url.lower() for t in logi),
            ) as answered:
                page.locator(self.pages.selector("generate")).first.click()
                step = "answer"
        except PlaywrightError as exc:
            if step == "answer":
                run.problem = (f"no answer from Logi within {timeout_s:g}s after Generate (no page matching "
                               f"{' or '.join(self.pages.texts['logi_page'])} was loaded)")
                run.kind = "logi"
            else:
                run.problem = (f"could not click {self.pages.setting('selectors', step)} = "
                               f"{self.pages.selector(step)!r} on {page.url} ({str(exc).splitlines()[0][:120]})")
                run.kind = "page"
            return page
        response = answered.value
        frame = response.frame
        run.kind = "logi"  # from here on, a problem is Logi's
        run.output_url, run.output_status = response.url, response.status
        run.address = report_address(response.url)
        try:
            frame.wait_for_load_state("load", timeout=timeout_s * 1000)
            run.output_title = frame.title()
            text = frame.locator("body").inner_text(timeout=5000)
        except PlaywrightError:
            run.problem = f"status {response.status} but its page never finished loading"
            return frame.page
        shown = f"{run.output_title}\n{text}".lower()
        failed = next((e for e in self.pages.texts["logi_errors"] if e.lower() in shown), None)
        if failed:
            run.problem = f"Logi's error page ({_line_with(text, failed)!r})"
        elif response.status >= 400:
            run.problem = f"status {response.status} ({run.output_title or 'no title'!r})"
        else:
            output = self.pages.selector("report_output")
            try:
                frame.locator(output).first.wait_for(state="attached", timeout=timeout_s * 1000)
            except PlaywrightError:
                run.problem = (f"status {response.status} but no output rendered within "
                               f"{timeout_s:g}s (no element matches {self.pages.setting('selectors', 'report_output')}"
                               f" = {output!r})")
            run.output_cells = visit.count(output, frame)
        if run.problem is None:
            run.kind = ""
        return frame.page

    def _require(self) -> None:
        self.home_page.check()

    @staticmethod
    def _attach(load: PageLoad) -> None:
        if load.screenshot:
            evidence.attach_png(f"{load.name} (screenshot)", load.screenshot)
        evidence.attach_text(f"{load.name}: answers and errors", load.as_text())


# --- what the checks say: failing requests and the likely fix --------------------------------------------

PORTAL_LOG = "Command_Portal_Log.txt and the Application event log"
WIZARD_FIX = ("check the IP addresses on the configuration wizard's \"Dashboard and Reports\" tab (Logi reaches the "
              "Keyfactor API through them), then iisreset")


def describe_answers(load: PageLoad, found: list[Answer], limit: int = 6) -> str:
    """"GET /KeyfactorPortal/x → 500, …": the page's own origin left out, long query strings cut."""
    shown = [_cut(load.short(str(a)), 140) for a in found[:limit]]
    return ", ".join(shown) + (f" (and {len(found) - limit} more)" if len(found) > limit else "")


def unanswered(load: PageLoad) -> list[str]:
    """Requests that got no answer at all (the connection closed, reset, refused); navigations cut short by the
    page itself (ERR_ABORTED) are not failures."""
    return [_cut(load.short(f), 140) for f in load.failed_requests if "ERR_ABORTED" not in f]


def failed_requests(load: PageLoad) -> list[str]:
    """Every request that answered ≥ 500 and every one that got no answer, described."""
    return [_cut(load.short(str(a)), 140) for a in load.server_errors] + unanswered(load)


def listed(items: list[str], limit: int = 6) -> str:
    return ", ".join(items[:limit]) + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def failures(load: PageLoad) -> str:
    """Each failing request with its status, every uncaught script error, in one line."""
    parts = []
    failing = [a for a in load.answers if a.status >= 400]
    if failing:
        parts.append(f"failing requests: {describe_answers(load, failing)}")
    broken = unanswered(load)
    if broken:
        parts.append(f"requests without an answer: {', '.join(broken[:4])}")
    if load.page_errors:
        parts.append(f"uncaught script error(s): {load.short('; '.join(load.page_errors[:2]))}")
        calls = [a for a in load.answers if a.kind in ("xhr", "fetch") and a.status < 400]
        if calls and not failing:
            parts.append(f"its data calls: {describe_answers(load, calls, limit=3)}")
    return "; ".join(parts)


def home_page_problem(load: PageLoad, title_expected: str | None) -> str | None:
    """One line: why the portal home page did not load completely (it did not arrive, a request answered ≥ 500, an
    uncaught script error, not the portal's title), else None."""
    problem = not_loaded("the portal home page", load)
    if problem:
        return problem
    problems = []
    if load.server_errors:
        problems.append(f"{len(load.server_errors)} request(s) answered ≥ 500 while it loaded: "
                        f"{describe_answers(load, load.server_errors)} — check {PORTAL_LOG}")
    if load.page_errors:
        problems.append(f"uncaught script error(s): {load.short('; '.join(load.page_errors[:3]))} — a stale or "
                        "mixed script bundle after the upgrade: recycle the KeyfactorPortal application pool, clear "
                        f"the browser cache and check {PORTAL_LOG}")
    if title_expected:
        problems.append(f"its title is {load.title!r}, not one containing {title_expected} — something other than "
                        "the portal answers there (the IIS default site?): check [command] portal_path, or set "
                        "[portal] texts.home_title")
    return f"the portal home page {load.url} loaded with problems: " + "; ".join(problems) if problems else None


def not_loaded(what: str, load: PageLoad) -> str | None:
    """"<what> did not load: <problem> — <likely fix>" when the page itself did not arrive, else None."""
    problem = load.document_problem()
    if problem is None:
        return None
    return problem if load.navigation_error else f"{what} did not load: {problem} — {document_fix(load)}"


def document_fix(load: PageLoad) -> str:
    """The likely fix when the page itself did not arrive (a navigation error carries its own)."""
    status = load.status or 0
    if status == 503:
        return ("the KeyfactorPortal application pool is stopped or keeps failing: start it in IIS Manager (or "
                f"iisreset) and check {PORTAL_LOG}")
    if status == 404:
        return "nothing at that address: check [command] portal_path and the [portal] pages paths"
    if status >= 500 or load.error_page():
        return f"the portal application fails on the server: check {PORTAL_LOG}"
    if status in (401, 407) or load.sign_in_page():
        return ("the browser could not sign in: with Kerberos check the ticket (klist), the SPN HTTP/<host> on the "
                "app-pool account and Windows Authentication (Negotiate) on the KeyfactorPortal application; a "
                "sign-in page means a proxy or identity provider sits in front of the portal")
    return f"check {PORTAL_LOG}"


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def report_address(url: str) -> str:
    """A report page's address without the server and the run's own parameters: /Logi/rdPage.aspx?rdReport=X."""
    parts = urlsplit(url)
    report = [f"{k}={v}" for k, v in parse_qsl(parts.query) if k.lower() == "rdreport"]
    return parts.path + (f"?{report[0]}" if report else "")


def _line_with(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle.lower() in line.lower():
            return " ".join(line.split())[:200]
    return needle
