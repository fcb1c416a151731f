"""A real browser for the portal checks: finds one, starts it once per run, authenticates the way the portal
expects, loads pages and records what a person at the screen would notice — the final status, every answer,
uncaught script errors, console errors, the title, a screenshot — and recognises IIS/ASP.NET error pages and
sign-in pages. Knows nothing of pytest and nothing of Keyfactor's markup (that is smoke/portal_pages.py).

Browsers: Playwright's own Chromium when installed, else a system Chromium, Chrome or Edge; `chrome`/`msedge`
as Playwright channels; or a path. Authentication:
- Kerberos: the browser is given no password, only the ticket: the portal host allow-listed for Negotiate, the
  ticket cache handed over in the environment (copied to a file when it lives in memory: the browser is another
  process), and a profile that has "seen" Negotiate before, so that Chromium on Linux loads GSSAPI for the
  very first request (platform-notes: otherwise it fails with ERR_UNSUPPORTED_AUTH_SCHEME);
- Basic: the API's credentials, sent with every request to the server's origin and to nothing else.
TLS is verified by the browser: on Linux, [command] ca_bundle goes into a private NSS database (where
Chromium looks for locally trusted CAs); elsewhere the OS trust store decides.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from smoke.ground.errors import SmokeError
from smoke.ground.prerequisites import Prerequisite

CHROMIUM_FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",  # otherwise Chromium keeps dialling out to Google's services
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]
VIEWPORT = {"width": 1366, "height": 900}
IDLE_CAP_S = 15.0  # a page that polls never goes idle: stop waiting for quiet after this long
RENDER_GRACE_S = 5.0  # after the network went quiet, how long a script may still take to draw what we look for

INSTALL_HINT = ("install one: `playwright install chromium` (or your OS package: chromium / Google Chrome / "
                "Microsoft Edge) and set [portal] browser = \"chromium\", \"chrome\", \"msedge\" or the browser's path")

# What IIS, ASP.NET and HTTP.sys put on their own error pages (title or first lines).
_ERROR_PAGE_SIGNS = (
    (re.compile(r"Server Error in '.*' Application", re.I), "an ASP.NET error page"),
    (re.compile(r"\bRuntime Error\b", re.I), "an ASP.NET runtime error page"),
    (re.compile(r"HTTP Error \d{3}(\.\d+)?", re.I), "an IIS error page"),
    (re.compile(r"\b(40\d|50\d)(\.\d+)? - [A-Z][\w ]+\.", re.I), "an IIS error page"),
    (re.compile(r"^Service Unavailable$", re.I | re.M), "HTTP.sys' Service Unavailable page"),
    (re.compile(r"Internal Server Error", re.I), "an Internal Server Error page"),
    (re.compile(r"The page cannot be displayed", re.I), "an IIS error page"),
)
_SIGN_IN_SIGNS = re.compile(r"\b(sign[ -]?in|log[ -]?in|log ?on|401 - Unauthorized|Access is denied)\b", re.I)
_SIGN_IN_URL = re.compile(r"/(login|signin|logon|adfs|oauth2?|saml|auth)(/|\?|$)", re.I)


class BrowserUnavailable(SmokeError):
    """No browser could be started; the API checks are not affected."""


@dataclass(frozen=True)
class Answer:
    method: str
    url: str
    status: int
    kind: str  # Playwright's resource type: document, xhr, fetch, script, image…

    def __str__(self) -> str:
        return f"{self.method} {self.url} → {self.status}"


@dataclass
class PageLoad:
    """What one page showed: the evidence a check asserts on."""

    name: str
    requested: str
    url: str = ""
    status: int | None = None
    title: str = ""
    text: str = ""  # the start of the visible text
    answers: list[Answer] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    navigation_error: str | None = None  # one line: the page did not load at all
    screenshot: bytes | None = None
    elapsed_ms: int = 0

    def short(self, text: str) -> str:
        """`text` with this page's own origin left out of its URLs (https://kf/KeyfactorPortal → /KeyfactorPortal)."""
        parts = urlsplit(self.requested)
        return text.replace(f"{parts.scheme}://{parts.netloc}", "") if parts.netloc else text

    @property
    def server_errors(self) -> list[Answer]:
        """Every answer ≥ 500 while the page loaded (the document, scripts, XHR, images, frames)."""
        return [a for a in self.answers if a.status >= 500]

    def error_page(self) -> str | None:
        """"an IIS error page ('HTTP Error 503. The service is unavailable.')" when the page is one."""
        head = f"{self.title}\n{self.text[:600]}"
        for pattern, kind in _ERROR_PAGE_SIGNS:
            found = pattern.search(head)
            if found:
                return f"{kind} ({_line_around(head, found.start())!r})"
        return None

    def sign_in_page(self) -> str | None:
        """Why this looks like a sign-in or 401 page instead of the portal, or None."""
        if self.status in (401, 407):
            return f"a {self.status} page ({self.title or 'no title'!r})"
        if _SIGN_IN_URL.search(urlsplit(self.url).path + ("?" if urlsplit(self.url).query else "")):
            return f"a sign-in page at {self.url}"
        if self.title and _SIGN_IN_SIGNS.search(self.title):
            return f"a sign-in page ({self.title!r})"
        return None

    def document_problem(self) -> str | None:
        """One line when the page itself did not arrive: no answer, an error status, an error or sign-in page."""
        if self.navigation_error:
            return self.navigation_error
        if self.status is not None and self.status >= 400:
            named = self.error_page() or self.sign_in_page() or f"{self.title!r}"
            return f"{self.url} answered {self.status}: {named}"
        problem = self.sign_in_page() or self.error_page()
        return f"{self.url} showed {problem} (status {self.status})" if problem else None

    def as_text(self) -> str:
        """The evidence as text for the report: every answer, error and console message."""
        lines = [f"{self.name}: {self.requested}", f"final URL: {self.url}", f"status: {self.status}",
                 f"title: {self.title!r}", f"loaded in {self.elapsed_ms} ms"]
        if self.navigation_error:
            lines.append(f"navigation error: {self.navigation_error}")
        lines += ["", f"answers ({len(self.answers)}):"] + [f"  {a.status} {a.kind:9} {a.method} {a.url}"
                                                           for a in self.answers]
        for title, items in (("uncaught page errors", self.page_errors), ("console errors", self.console_errors),
                             ("failed requests", self.failed_requests)):
            if items:
                lines += ["", f"{title}:"] + [f"  {item}" for item in items]
        return "\n".join(lines)


@dataclass
class BrowserOptions:
    browser: str  # "chromium" | "chrome" | "msedge" | a path
    headless: bool
    timeout_s: float
    server_url: str  # https://host[:port]: the origin to authenticate to
    auth_method: str  # "kerberos" | "basic"
    username: str | None = None
    password: str | None = None
    ca_bundle: Path | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.server_url).hostname or ""

    def auth_hint(self) -> str:
        """What to check when the browser could not sign in."""
        if self.auth_method == "basic":
            return (f"the server refused the Basic credentials of {self.username}: check the password in the variable "
                    "named by [auth] password_env and that Basic authentication is enabled on the portal in IIS")
        return (f"Kerberos: check the ticket (klist), the SPN HTTP/{self.host} on the app-pool account and Windows "
                "Authentication with the Negotiate provider on the portal in IIS")


class Visit:
    """One tab: navigates, and records every answer, error and console message until it is closed."""

    def __init__(self, page: Any, name: str, timeout_s: float, auth_hint: str = "") -> None:
        self.page = page
        self.timeout_s = timeout_s
        self.auth_hint = auth_hint
        self.load = PageLoad(name, requested="")
        self._started = time.monotonic()
        self._watch(page)
        page.on("popup", self._watch)  # a report opened in a new window is part of the same visit

    def _watch(self, page: Any) -> None:
        page.on("response", self._answer)
        page.on("pageerror", lambda exc: self.load.page_errors.append(script_error(exc)))
        page.on("console", self._console)
        page.on("requestfailed", lambda request: self.load.failed_requests.append(
            f"{request.method} {request.url}: {request.failure or 'failed'}"))

    def _answer(self, response: Any) -> None:
        self.load.answers.append(Answer(response.request.method, response.url, response.status,
                                        response.request.resource_type))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.load.console_errors.append(_one_line(message.text))

    def goto(self, url: str) -> PageLoad:
        """Opens `url`; the main document's status and any navigation error land on `self.load`."""
        from playwright.sync_api import Error as PlaywrightError

        self.load.requested = url
        try:
            response = self.page.goto(url, wait_until="load", timeout=self.timeout_s * 1000)
            self.load.status = response.status if response else None
        except PlaywrightError as exc:
            self.load.navigation_error = navigation_problem(url, str(exc), self.timeout_s, self.auth_hint)
        return self.load

    def settle(self, ready: str | None = None, count: int = 1) -> int:
        """Waits until the page's own requests are over (and, with `ready`, until `count` elements match it, unless
        the page already failed); returns how many elements match `ready`."""
        from playwright.sync_api import Error as PlaywrightError

        if self.load.navigation_error:
            return 0
        with suppress(PlaywrightError):  # still busy (polling, a slow panel): judge what arrived so far
            self.page.wait_for_load_state("networkidle", timeout=min(self.timeout_s, IDLE_CAP_S) * 1000)
        if not ready:
            return 0
        found = self.count(ready)
        if found < count and not (self.load.page_errors or self.load.server_errors):
            with suppress(PlaywrightError):
                self.page.locator(ready).nth(count - 1).wait_for(state="attached",
                                                                 timeout=min(self.timeout_s, RENDER_GRACE_S) * 1000)
            found = self.count(ready)
        return found

    def count(self, selector: str, frame: Any = None) -> int:
        from playwright.sync_api import Error as PlaywrightError

        try:
            return int((frame or self.page).locator(selector).count())
        except PlaywrightError as exc:
            if "selector" not in str(exc).lower():
                raise
            raise SmokeError(f"Browser: the selector {selector!r} is not valid ({_one_line(str(exc))[:120]}) — "
                             "fix it in the [portal] selectors of the environment file") from None

    def snapshot(self, page: Any = None) -> PageLoad:
        """Title, text, final URL and a screenshot of `page` (default: this visit's tab) onto `self.load`."""
        from playwright.sync_api import Error as PlaywrightError

        page = page or self.page
        load = self.load
        load.elapsed_ms = int((time.monotonic() - self._started) * 1000)
        try:
            load.url = page.url
            load.title = page.title()
            load.text = page.locator("body").inner_text(timeout=2000)[:4000]
        except PlaywrightError:
            pass
        try:
            load.screenshot = page.screenshot(full_page=True, timeout=10_000)
        except PlaywrightError:
            load.screenshot = None
        return load


class BrowserSession:
    """One browser per run, started at first use. When it cannot start, the first check says why in one line and
    the later ones are skipped naming that cause (the API checks never depend on it)."""

    def __init__(self, options: BrowserOptions, preflight: Callable[[], None] | None = None) -> None:
        self.options = options
        self.preflight = preflight
        self.prerequisite = Prerequisite("the browser")
        self.description = ""  # which browser, for the report
        self._playwright: Any = None
        self._context: Any = None
        self._dir: Path | None = None

    @contextmanager
    def visit(self, name: str) -> Iterator[Visit]:
        """A fresh tab for one page; every tab is closed afterwards. The browser failing underneath (it crashed,
        it was closed) ends the visit with one line, and the later ones are skipped naming it."""
        from playwright.sync_api import Error as PlaywrightError

        context = self._ensure()
        try:
            page = context.new_page()
            yield Visit(page, name, self.options.timeout_s, self.options.auth_hint())
        except PlaywrightError as exc:
            died = BrowserUnavailable(f"Browser: {self.description or self.options.browser} failed during {name}: "
                                      f"{_one_line(str(exc).splitlines()[0])[:160]} — rerun; if it persists, run "
                                      "with --headed to watch")
            self.prerequisite.fail(died)
            raise died from None
        finally:
            with suppress(PlaywrightError):
                for opened in list(context.pages):
                    opened.close()

    def close(self) -> None:
        try:
            if self._context:
                self._context.close()
        except Exception:  # a browser that already died: nothing left to close
            pass
        if self._playwright:
            self._playwright.stop()
        self._context = self._playwright = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # --- start -----------------------------------------------------------------------------------------
    def _ensure(self) -> Any:
        self.prerequisite.check()
        if self._context is None:
            try:
                with self.prerequisite.attempt():
                    if self.preflight:
                        self.preflight()
                    self._context = self._launch()
            except SmokeError:
                self.close()
                raise
        return self._context

    def _launch(self) -> Any:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        options = self.options
        located = _locate(options.browser)  # before anything starts: a missing binary is the commonest problem
        self._dir = Path(tempfile.mkdtemp(prefix="kf-smoke-browser-"))
        profile = self._dir / "profile"
        profile.mkdir()
        environ = dict(os.environ)
        args = list(CHROMIUM_FLAGS)
        if options.auth_method == "kerberos":
            (profile / "Local State").write_text(json.dumps({"net": {"received_http_auth_negotiate_headers": True}}))
            args.append(f"--auth-server-allowlist={options.host}")
            environ.update(_file_ticket_cache(self._dir))
        if options.ca_bundle:
            environ.update(_trust_ca_bundle(self._dir, options.ca_bundle))
        try:
            self._playwright = sync_playwright().start()
            launch = located(self._playwright)
            self.description = launch.pop("_description")
            context = self._playwright.chromium.launch_persistent_context(
                str(profile), headless=options.headless, args=args, env=environ, viewport=VIEWPORT,
                ignore_https_errors=False, timeout=max(options.timeout_s, 30) * 1000, **launch,
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(_launch_problem(options.browser, str(exc))) from None
        context.set_default_timeout(options.timeout_s * 1000)
        if options.auth_method == "basic":
            context.route("**/*", _basic_signer(options))
        return context


def _basic_signer(options: BrowserOptions) -> Callable[[Any], None]:
    """Sends the Basic credentials with every request to the server's origin, and to nothing else.

    Chromium answers a challenge offering NTLM and Basic with NTLM (IIS offers both), and command-line switches no
    longer change that; sending Basic up front means the server never has to challenge."""
    token = base64.b64encode(f"{options.username or ''}:{options.password or ''}".encode()).decode()
    server = _origin(options.server_url)

    def sign(route: Any) -> None:
        request = route.request
        if _origin(request.url) == server:
            route.continue_(headers={**request.headers, "authorization": f"Basic {token}"})
        else:
            route.continue_()

    return sign


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def _locate(browser: str) -> Callable[[Any], dict[str, Any]]:
    """How to launch [portal] browser: Playwright launch arguments (resolved once Playwright runs)."""
    if browser in ("chrome", "msedge", "chrome-beta", "msedge-beta", "msedge-dev"):
        return lambda playwright: {"channel": browser, "_description": f"{browser} (installed channel)"}
    if browser != "chromium":
        path = Path(browser).expanduser()
        if not path.is_file():
            raise BrowserUnavailable(f"Browser: [portal] browser = \"{browser}\" does not exist — {INSTALL_HINT}")
        return lambda playwright: {"executable_path": str(path), "_description": str(path)}

    def chromium(playwright: Any) -> dict[str, Any]:
        own = Path(playwright.chromium.executable_path)
        if own.is_file():
            # channel "chromium" = the full build in new headless mode (no separate headless-shell download needed)
            return {"channel": "chromium", "_description": f"Playwright's Chromium ({own})"}
        system = system_chromium()
        if system is None:
            raise BrowserUnavailable("Browser: no Chromium-based browser found (Playwright's Chromium is not "
                                     f"installed and no system Chromium, Chrome or Edge was found) — {INSTALL_HINT}")
        return {"executable_path": system, "_description": system}

    return chromium


def system_chromium() -> str | None:
    """A Chromium-based browser installed on this machine, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge",
                 "microsoft-edge-stable", "chrome", "msedge"):
        found = shutil.which(name)
        if found:
            return found
    candidates: list[Path] = []
    if sys.platform == "win32":
        for base in filter(None, (os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)"),
                                  os.environ.get("LOCALAPPDATA"))):
            candidates += [Path(base, "Google", "Chrome", "Application", "chrome.exe"),
                           Path(base, "Microsoft", "Edge", "Application", "msedge.exe"),
                           Path(base, "Chromium", "Application", "chrome.exe")]
    elif sys.platform == "darwin":
        candidates += [Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
                       Path("/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"),
                       Path("/Applications/Chromium.app/Contents/MacOS/Chromium")]
    return next((str(c) for c in candidates if c.is_file()), None)


def _launch_problem(browser: str, text: str) -> str:
    first = _one_line(text.split("\n")[0].removeprefix("BrowserType.launch_persistent_context: "))[:200]
    if "is not found at" in text or "distribution" in text.lower():
        return f"Browser: [portal] browser = \"{browser}\" is not installed on this machine ({first}) — {INSTALL_HINT}"
    if "Missing X server" in text or "$DISPLAY" in text:
        return ("Browser: a visible (--headed) browser needs a display and none is available — run headless "
                "(drop --headed, [portal] headless = true)")
    if "missing dependencies" in text.lower() or "error while loading shared libraries" in text:
        return (f"Browser: {browser} cannot start: system libraries are missing ({first}) — run "
                "`playwright install-deps chromium` (Linux) or install the OS package of the browser")
    if "Executable doesn't exist" in text:
        return f"Browser: Playwright's Chromium is not installed ({first}) — {INSTALL_HINT}"
    return f"Browser: {browser} did not start: {first} — {INSTALL_HINT}"


def _file_ticket_cache(directory: Path) -> dict[str, str]:
    """The environment that points the browser at our Kerberos tickets. A MEMORY: cache (from a keytab) lives
    only in this process, so its tickets are copied into a private file cache the browser can read."""
    cache = os.environ.get("KRB5CCNAME", "")
    if not cache.upper().startswith("MEMORY:"):
        return {}
    try:
        import gssapi  # type: ignore[import-not-found]

        target = directory / "krb5cc"
        creds = gssapi.Credentials(usage="initiate")
        gssapi.raw.store_cred_into({b"ccache": f"FILE:{target}".encode()}, creds, usage="initiate", overwrite=True)
    except Exception as exc:  # GSSError, ImportError: say which cache could not be handed over
        raise BrowserUnavailable(f"Kerberos: the tickets in {cache} could not be copied to a file the browser "
                                 f"can read ({_one_line(str(exc))[:120]}) — run kinit instead of using [auth] "
                                 "keytab") from None
    return {"KRB5CCNAME": f"FILE:{target}"}


def _trust_ca_bundle(directory: Path, ca_bundle: Path) -> dict[str, str]:
    """On Linux Chromium trusts extra CAs from $HOME/.pki/nssdb: a private HOME whose NSS database trusts the
    bundle's certificates for TLS servers. Elsewhere the OS trust store decides (nothing to do here)."""
    if not sys.platform.startswith("linux"):
        return {}
    from smoke.portal import nssdb

    home = directory / "home"
    try:
        nssdb.trust_for_tls(home / ".pki" / "nssdb", ca_bundle)
    except nssdb.NssError as exc:
        raise BrowserUnavailable(f"TLS: could not give the browser [command] ca_bundle {ca_bundle}: {exc} — "
                                 "install libnss3 (Chromium needs it anyway)") from None
    return {"HOME": str(home)}


def navigation_problem(url: str, text: str, timeout_s: float, auth_hint: str = "") -> str:
    """A Playwright navigation error as one line with its likely fix."""
    where = urlsplit(url).netloc
    code = re.search(r"net::(ERR_[A-Z_]+)", text)
    name = code.group(1) if code else ""
    if "Timeout" in text and not name:
        return (f"{url}: no page within {timeout_s:g}s — the server is overloaded or a proxy holds the request "
                "(raise [portal] timeout_s?)")
    if name == "ERR_CONNECTION_REFUSED":
        return f"{url}: connection refused by {where} — is IIS running and bound to that port?"
    if name == "ERR_NAME_NOT_RESOLVED":
        return f"{url}: the host name does not resolve — check [command] url and DNS"
    if name.startswith("ERR_CERT_") or name in ("ERR_SSL_PROTOCOL_ERROR", "ERR_BAD_SSL_CLIENT_AUTH_CERT"):
        return (f"{url}: the browser does not trust the server's TLS certificate ({name}) — set [command] ca_bundle "
                "to the issuing CA's PEM (on Windows/macOS: import that CA into the OS trust store); "
                "verification is never switched off")
    if name in ("ERR_INVALID_AUTH_CREDENTIALS", "ERR_UNSUPPORTED_AUTH_SCHEME", "ERR_MISSING_AUTH_CREDENTIALS",
                "ERR_UNEXPECTED_SECURITY_LIBRARY_STATUS", "ERR_MISCONFIGURED_AUTH_ENVIRONMENT"):
        return f"{url}: the browser could not sign in ({name}) — {auth_hint or 'check the authentication settings'}"
    if name in ("ERR_EMPTY_RESPONSE", "ERR_CONNECTION_CLOSED", "ERR_CONNECTION_RESET"):
        return f"{url}: the underlying connection was closed ({name}) — check the IIS site and the app pool's event log"
    if name == "ERR_TIMED_OUT" or name == "ERR_CONNECTION_TIMED_OUT":
        return f"{url}: no answer from {where} ({name}) — the server is down or a firewall drops the traffic"
    return f"{url}: the browser could not load it ({name or _one_line(text)[:120]})"


def connect(settings: Any, headed: bool = False) -> BrowserSession:
    """A browser session for the environment: same server, same credentials as the API client."""
    from smoke.ground import kerberos

    portal = settings.portal
    auth = settings.auth
    preflight = kerberos.preflight(auth, settings.command.url) if auth.method == "kerberos" else None

    options = BrowserOptions(
        browser=portal.browser,
        headless=portal.headless and not headed,
        timeout_s=portal.timeout_s or settings.command.timeout_s,
        server_url=settings.command.url,
        auth_method=auth.method,
        username=auth.username if auth.method == "basic" else None,
        password=settings.password() if auth.method == "basic" else None,
        ca_bundle=settings.command.ca_bundle,
    )
    return BrowserSession(options, preflight)


def script_error(exc: Any) -> str:
    """An uncaught page error as "TypeError: … (at https://…/home.js:15)"."""
    name = getattr(exc, "name", "") or ""
    message = _one_line(getattr(exc, "message", "") or str(exc))
    text = message if not name or message.startswith(name) else f"{name}: {message}"
    text = text if len(text) <= 110 else text[:109] + "…"
    where = re.search(r"(https?://[^\s()]+?):(\d+):\d+", getattr(exc, "stack", "") or "")
    return f"{text} (at {where.group(1)}:{where.group(2)})" if where else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _line_around(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return _one_line(text[start:end if end != -1 else None])[:160]
