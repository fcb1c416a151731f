"""A real browser for the portal checks: finds one, starts it once per run, authenticates the way the portal
expects, loads pages and records what a person at the screen would notice — the final status, every answer,
uncaught script errors, console errors, the title, a screenshot — and recognises IIS/ASP.NET error pages and
sign-in pages. Knows nothing of pytest and nothing of Keyfactor's markup (that is smoke/portal/pages.py).
What a page showed: smoke/portal/page.py; finding and starting the browser: smoke/portal/launch.py.

Browsers: Playwright's own Chromium when installed, else a system Chromium, Chrome or Edge; `chrome`/`msedge`
as Playwright channels; or a path. Authentication:
- Kerberos: the browser is given no password, only the ticket: the server's https origin allow-listed for Negotiate, the
  ticket cache handed over in the environment (copied to a file when it lives in memory: the browser is another
  process), and a profile that has "seen" Negotiate before, so that Chromium on Linux loads GSSAPI for the
  very first request (platform-notes: otherwise it fails with ERR_UNSUPPORTED_AUTH_SCHEME);
- Basic: the API's credentials, sent with the requests to the server's origin and to nothing else; no redirect away
  from that origin is followed (smoke/portal/redirects.py), so they never travel on to another host or to plain http.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from smoke.ground import tls
from smoke.ground.errors import SmokeError
from smoke.ground.prerequisites import Prerequisite
from smoke.portal.launch import (
    CHROMIUM_FLAGS,
    NODE_LOCAL_STATE,
    VIEWPORT,
    BrowserUnavailable,
    file_ticket_cache,
    launch_problem,
    locate,
    node_flags,
    trust_ca_bundle,
)
from smoke.portal.page import Answer, PageLoad
from smoke.portal.redirects import Redirect, RedirectGuard, origin
from smoke.portal.settling import Traffic, wait_until_settled
from smoke.portal.text import one_line


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
    resolve_to: str | None = None  # one node behind the load balancer: the site's name is mapped to its address

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
    """One page in the session's tab: navigates, and records every answer, error and console message of the
    requests it started, until it ends."""

    def __init__(self, page: Any, name: str, timeout_s: float, auth_hint: str = "",
                 guard: RedirectGuard | None = None, ca_bundle: Path | None = None) -> None:
        self.page = page
        self.timeout_s = timeout_s
        self.auth_hint = auth_hint
        self.guard = guard or RedirectGuard("https://")  # without one: a guard that watches no tab
        self.ca_bundle = ca_bundle
        self.load = PageLoad(name, requested="")
        self._document_failure: str | None = None
        self._started = time.monotonic()
        self.traffic = Traffic()
        self._listening: list[tuple[Any, str, Callable[..., object]]] = []
        self._watch(page)
        self._listen(page, "popup", self._popup)  # a report opened in a new window is part of the same visit

    def _watch(self, page: Any) -> None:
        self._listen(page, "request", self.traffic.started)
        self._listen(page, "requestfinished", self.traffic.ended)  # a redirect ends its request; the next one starts
        self._listen(page, "requestfailed", lambda request: self._failed(page, request))
        self._listen(page, "response", self._answer)
        self._listen(page, "pageerror", lambda exc: self.load.page_errors.append(script_error(exc)))
        self._listen(page, "console", self._console)

    def _listen(self, page: Any, event: str, handler: Callable[..., object]) -> None:
        page.on(event, handler)
        self._listening.append((page, event, handler))

    def end(self) -> None:
        """Stops recording: what the tab does afterwards belongs to no visit."""
        for page, event, handler in self._listening:
            with suppress(Exception):  # a tab already closed
                page.remove_listener(event, handler)
        self._listening.clear()

    def _popup(self, page: Any) -> None:
        self._watch(page)
        self.guard.adopt(page)

    def _failed(self, page: Any, request: Any) -> None:
        if not self.traffic.ended(request):
            return  # started by the page before this visit
        failure = self._failure(page, request)
        self.load.failed_requests.append(f"{request.method} {request.url}: {failure}")
        if request.is_navigation_request() and page is self.page:
            self._document_failure = failure  # a page cut short may never fire "load": this is why it did not come

    def _failure(self, page: Any, request: Any) -> str:
        failure = request.failure or "failed"
        if "ERR_BLOCKED_BY_CLIENT" in failure:
            stopped = [r for r in self.guard.stopped(page) if r.url == request.url]
            if stopped:
                return f"{stopped[-1].describe()}, not followed (another origin)"
        return str(failure)

    def _answer(self, response: Any) -> None:
        if response.request not in self.traffic.seen:
            return  # started by the page before this visit
        self.load.answers.append(Answer(response.request.method, response.url, response.status,
                                        response.request.resource_type))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.load.console_errors.append(one_line(message.text))

    def goto(self, url: str) -> PageLoad:
        """Opens `url`; the main document's status and any navigation error land on `self.load`."""
        from playwright.sync_api import Error as PlaywrightError

        self.load.requested = url
        earlier = len(self.guard.stopped(self.page))
        try:
            response = self.page.goto(url, wait_until="load", timeout=self.timeout_s * 1000)
            self.load.status = response.status if response else None
        except PlaywrightError as exc:
            stopped = self.guard.stopped(self.page)[earlier:]
            self.load.navigation_error = redirected_away(stopped[0]) if stopped else navigation_problem(
                url, self._document_failure or str(exc), self.timeout_s, self.auth_hint, self.ca_bundle)
        return self.load

    def settle(self, ready: str | None = None, count: int = 1) -> int:
        """Waits until the page's own requests are over (and, with `ready`, until `count` elements match it, unless
        the page already failed); returns how many elements match `ready` (smoke/portal/settling.py)."""
        from playwright.sync_api import Error as PlaywrightError

        if self.load.navigation_error:
            return 0
        with suppress(PlaywrightError):  # the tab went away while waiting: judge what arrived so far
            wait_until_settled(self.page, self.traffic, self.timeout_s,
                               shown=lambda: not ready or self.count(ready) >= count,
                               failed=lambda: bool(self.load.page_errors or self.load.server_errors))
        return self.count(ready) if ready else 0

    def count(self, selector: str, frame: Any = None) -> int:
        from playwright.sync_api import Error as PlaywrightError

        try:
            return int((frame or self.page).locator(selector).count())
        except PlaywrightError as exc:
            if "selector" not in str(exc).lower():
                raise
            raise SmokeError(f"Browser: the selector {selector!r} is not valid ({one_line(str(exc))[:120]}) — "
                             "fix it in the [portal] selectors of the environment file") from None

    def links(self) -> list[tuple[str, str, str, str]]:
        """Every link of this tab's page, hidden ones (a closed menu) included: (text, absolute href, title,
        aria-label). Empty when the page did not load."""
        from playwright.sync_api import Error as PlaywrightError

        if self.load.navigation_error:
            return []
        try:
            found = self.page.eval_on_selector_all(
                "a[href]", "all => all.map(a => [a.innerText || a.textContent || '', a.href || '', "
                           "a.getAttribute('title') || '', a.getAttribute('aria-label') || ''])")
        except PlaywrightError:
            return []
        return [tuple(str(value) for value in link) for link in found]  # type: ignore[misc]

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

    def __init__(self, options: BrowserOptions, preflight: Callable[[], None] | None = None,
                 playwright: Any = None) -> None:
        self.options = options
        self.preflight = preflight
        self._shared = playwright  # a running Playwright of this thread to start the browser with, kept on close
        self.prerequisite = Prerequisite("the browser")
        self.description = ""  # which browser, for the report
        self.guard = RedirectGuard(options.server_url)
        self._playwright: Any = None
        self._context: Any = None
        self._tab: Any = None  # the tab every visit uses
        self._dir: Path | None = None

    @contextmanager
    def visit(self, name: str) -> Iterator[Visit]:
        """One page, in the session's tab (a new tab costs a renderer process; the pages follow each other in it as
        a user walks the portal), left on about:blank afterwards; every other tab is closed. The browser failing
        underneath (it crashed, it was closed) ends the visit with one line, and the later ones are skipped naming
        it."""
        from playwright.sync_api import Error as PlaywrightError

        context = self._ensure()
        visit: Visit | None = None
        try:
            visit = Visit(self._own_tab(context), name, self.options.timeout_s, self.options.auth_hint(), self.guard,
                          self.options.ca_bundle)
            yield visit
        except PlaywrightError as exc:
            self._drop_tab()
            died = BrowserUnavailable(f"Browser: {self.description or self.options.browser} failed during {name}: "
                                      f"{one_line(str(exc).splitlines()[0])[:160]} — rerun; if it persists, run "
                                      "with --headed to watch")
            self.prerequisite.fail(died)
            raise died from None
        finally:
            if visit:
                visit.end()
            with suppress(PlaywrightError):
                for opened in list(context.pages):
                    if opened is not self._tab:
                        self.guard.forget(opened)
                        opened.close()
            self._reset_tab()

    def _own_tab(self, context: Any) -> Any:
        if self._tab is not None and self._tab.is_closed():  # the page closed itself (window.close())
            self._drop_tab()
        if self._tab is None:
            self._tab = context.pages[0] if context.pages else context.new_page()  # the one the browser opened with
            self.guard.watch(self._tab)
        return self._tab

    def _reset_tab(self) -> None:
        """Ends the page's scripts and requests; a tab that cannot go blank is replaced at the next visit."""
        from playwright.sync_api import Error as PlaywrightError

        if self._tab is None:
            return
        try:
            self._tab.goto("about:blank", timeout=10_000)
        except PlaywrightError:
            self._drop_tab()

    def _drop_tab(self) -> None:
        tab, self._tab = self._tab, None
        if tab is not None:
            self.guard.forget(tab)
            with suppress(Exception):  # a browser that already died
                tab.close()

    def close(self) -> None:
        try:
            if self._context:
                self._context.close()
        except Exception:  # a browser that already died: nothing left to close
            pass
        if self._playwright and self._playwright is not self._shared:
            self._playwright.stop()
        self._context = self._playwright = self._tab = None
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
        located = locate(options.browser)  # before anything starts: a missing binary is the commonest problem
        self._dir = Path(tempfile.mkdtemp(prefix="kf-smoke-browser-"))
        profile = self._dir / "profile"
        profile.mkdir()
        environ = dict(os.environ)
        args = list(CHROMIUM_FLAGS)
        if options.auth_method == "kerberos":
            state: dict[str, Any] = {"net": {"received_http_auth_negotiate_headers": True}}
            if options.resolve_to:
                state["auth"] = NODE_LOCAL_STATE
            (profile / "Local State").write_text(json.dumps(state))
            args.append(f"--auth-server-allowlist={allowlisted(options.server_url)}")
            environ.update(file_ticket_cache(self._dir))
        if options.ca_bundle:
            environ.update(trust_ca_bundle(self._dir, options.ca_bundle))
        if options.resolve_to:
            args += node_flags(options.host, options.resolve_to)
        try:
            self._playwright = self._shared or sync_playwright().start()
            launch = located(self._playwright)
            self.description = launch.pop("_description")
            context = self._playwright.chromium.launch_persistent_context(
                str(profile), headless=options.headless, args=args, env=environ, viewport=VIEWPORT,
                ignore_https_errors=False, timeout=max(options.timeout_s, 30) * 1000, **launch,
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(launch_problem(options.browser, str(exc))) from None
        context.set_default_timeout(options.timeout_s * 1000)
        if options.auth_method == "basic":
            context.route("**/*", _basic_signer(options, self.guard))
        return context


def _basic_signer(options: BrowserOptions, guard: RedirectGuard) -> Callable[[Any], None]:
    """Sends the Basic credentials with the requests to the server's origin that the redirect guard covers, and with
    nothing else.

    Chromium answers a challenge offering NTLM and Basic with NTLM (IIS offers both), and command-line switches no
    longer change that; sending Basic up front means the server never has to challenge. A new window's first request
    comes before the guard can watch its tab: it goes without credentials, and is sent again once the guard watches
    the tab (adopt)."""
    from playwright.sync_api import Error as PlaywrightError

    token = base64.b64encode(f"{options.username or ''}:{options.password or ''}".encode()).decode()
    server = origin(options.server_url)

    def sign(route: Any) -> None:
        request = route.request
        if origin(request.url) != server:
            route.continue_()
            return
        try:
            frame = request.frame
        except PlaywrightError:  # a new window's first request, or a service worker's
            frame = None
        page = frame.page if frame is not None else None
        if page is not None and guard.watches(page):
            if _in_tab_process(frame, server):
                route.continue_(headers={**request.headers, "authorization": f"Basic {token}"})
            else:
                route.continue_()
        else:
            route.continue_()
            if request.is_navigation_request() and request.method == "GET":
                guard.hold(page, request.url)

    return sign


def _in_tab_process(frame: Any, server: tuple[str, str, int]) -> bool:
    """Whether the guard sees this frame's requests: the tab's main frame, or frames that are the server's or blank
    all the way up (a frame of another site runs in a process of its own, out of the guard's sight)."""
    while frame.parent_frame is not None:
        url = frame.url or "about:blank"
        if not url.startswith("about:") and origin(url) != server:
            return False
        frame = frame.parent_frame
    return True


def allowlisted(server_url: str) -> str:
    """The one origin Chromium may answer a Negotiate challenge for: the server's, over https, on its port."""
    scheme, host, port = origin(server_url)
    return f"{scheme}://{host}:{port}"


def redirected_away(redirect: Redirect) -> str:
    return (f"{redirect.describe()} — a sign-in page or proxy is in the way; call the portal directly (the browser "
            "did not follow it: the credentials go only to [command] url)")


def navigation_problem(url: str, text: str, timeout_s: float, auth_hint: str = "",
                       ca_bundle: Path | None = None) -> str:
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
    if name.startswith("ERR_CERT_"):
        kind = tls.kind_of(None, name)
        line = tls.diagnose(url, kind, f"net::{name}", ca_bundle, timeout_s)
        os_store = kind == "issuer" and not sys.platform.startswith("linux")
        return f"{url}: {line}" + (" (on Windows and macOS the browser trusts the OS store: import the CA there)"
                                   if os_store else "")
    if name in ("ERR_SSL_PROTOCOL_ERROR", "ERR_BAD_SSL_CLIENT_AUTH_CERT", "ERR_SSL_VERSION_OR_CIPHER_MISMATCH"):
        return (f"{url}: TLS: handshake with {where} failed ({name}) — check the IIS https binding (its certificate "
                "and the TLS versions it allows)")
    if name in ("ERR_INVALID_AUTH_CREDENTIALS", "ERR_UNSUPPORTED_AUTH_SCHEME", "ERR_MISSING_AUTH_CREDENTIALS",
                "ERR_UNEXPECTED_SECURITY_LIBRARY_STATUS", "ERR_MISCONFIGURED_AUTH_ENVIRONMENT"):
        return f"{url}: the browser could not sign in ({name}) — {auth_hint or 'check the authentication settings'}"
    if name in ("ERR_EMPTY_RESPONSE", "ERR_CONNECTION_CLOSED", "ERR_CONNECTION_RESET"):
        return (f"{url}: {where} broke off the connection without a page ({name}) — check the IIS site, the app "
                "pool's event log and any proxy in between")
    if name in ("ERR_CONTENT_LENGTH_MISMATCH", "ERR_INCOMPLETE_CHUNKED_ENCODING"):
        return (f"{url}: {where} broke off the connection in the middle of the page ({name}) — a proxy, a firewall "
                "or the server cut it: rerun, and check the proxy and the server's HTTPERR log if it persists")
    if name == "ERR_TIMED_OUT" or name == "ERR_CONNECTION_TIMED_OUT":
        return f"{url}: no answer from {where} ({name}) — the server is down or a firewall drops the traffic"
    return f"{url}: the browser could not load it ({name or one_line(text)[:120]})"


def connect(settings: Any, headed: bool = False, resolve_to: str | None = None, playwright: Any = None
            ) -> BrowserSession:
    """A browser session for the environment: same server, same credentials as the API client. `resolve_to`: the
    address (or own name) of one node behind the load balancer, reached under the site's name; `playwright`: a
    running Playwright of the calling thread to start it with (one driver for several browsers)."""
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
        resolve_to=resolve_to,
    )
    return BrowserSession(options, preflight, playwright)


def script_error(exc: Any) -> str:
    """An uncaught page error as "TypeError: … (at https://…/home.js:15)"."""
    name = getattr(exc, "name", "") or ""
    message = one_line(getattr(exc, "message", "") or str(exc))
    text = message if not name or message.startswith(name) else f"{name}: {message}"
    text = text if len(text) <= 110 else text[:109] + "…"
    where = re.search(r"(https?://[^\s()]+?):(\d+):\d+", getattr(exc, "stack", "") or "")
    return f"{text} (at {where.group(1)}:{where.group(2)})" if where else text


