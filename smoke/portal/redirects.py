"""The browser follows no redirect away from the server's origin.

Chromium follows a 3xx by itself, and Playwright carries the headers a route added (our Basic credentials) along to
wherever it leads — another host, plain http. So every answer from the server's origin is looked at before the
browser acts on it (DevTools' Fetch domain, at the response stage, one session per tab), and a redirect to another
origin is stopped there and remembered, for the check to name where it went. Only a tab the guard watched from
before its first request is covered: a new window's first page goes without credentials (browser.py sends them only
where the guard watches) and is loaded again once the guard watches its tab.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit


@dataclass(frozen=True)
class Redirect:
    url: str  # the request the server redirected
    status: int
    target: str  # where it pointed

    def describe(self) -> str:
        plain = " (plain http)" if self.target.lower().startswith("http:") else ""
        return f"{self.url} was redirected ({self.status}) to {self.target}{plain}"


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class RedirectGuard:
    def __init__(self, server_url: str) -> None:
        self.origin = origin(server_url)
        scheme, host, port = self.origin
        shown = f"[{host}]" if ":" in host else host
        self.pattern = f"{scheme}://{shown}{'' if port == 443 else f':{port}'}/*"
        self._tabs: dict[int, tuple[Any, Any, list[Redirect]]] = {}  # id(page) -> (page, DevTools session, stopped)
        self._held: list[tuple[Any, str]] = []  # (tab or None when not known yet, URL) of pages sent unsigned
        self._blank: list[Any] = []  # new windows adopted before their first page arrived

    def watch(self, page: Any) -> None:
        """Watches every answer of the server in `page` (before it loads anything, for full cover)."""
        if id(page) in self._tabs:
            return
        session = page.context.new_cdp_session(page)
        stopped: list[Redirect] = []
        self._tabs[id(page)] = (page, session, stopped)
        session.on("Fetch.requestPaused", lambda event: self._paused(session, stopped, event))
        session.send("Fetch.enable", {"patterns": [{"urlPattern": self.pattern, "requestStage": "Response"}]})

    def adopt(self, page: Any) -> None:
        """A new window (a report opened in a popup): watched from now on, and its first page, if it went without
        credentials, loaded again."""
        self.watch(page)
        held = next((h for h in self._held if h[0] is page), None) or next((h for h in self._held if h[0] is None),
                                                                           None)
        if held:
            self._held.remove(held)
            _reload(page, held[1])
        elif page.url in ("", "about:blank"):
            self._blank.append(page)

    def hold(self, page: Any, url: str) -> None:
        """A page requested without credentials in a tab the guard does not watch yet: loaded again in that tab once
        adopt() watches it."""
        if page is not None and self.watches(page):
            _reload(page, url)
        elif page is None and self._blank:
            _reload(self._blank.pop(0), url)
        else:
            self._held.append((page, url))

    def watches(self, page: Any) -> bool:
        return id(page) in self._tabs

    def stopped(self, page: Any) -> list[Redirect]:
        """The redirects stopped in `page`, in order."""
        return self._tabs[id(page)][2] if id(page) in self._tabs else []

    def forget(self, page: Any) -> None:
        self._tabs.pop(id(page), None)
        self._held = [h for h in self._held if h[0] is not page]
        self._blank = [p for p in self._blank if p is not page]

    def _paused(self, session: Any, stopped: list[Redirect], event: dict[str, Any]) -> None:
        from playwright.sync_api import Error as PlaywrightError

        status = int(event.get("responseStatusCode") or 0)
        location = next((h.get("value", "") for h in event.get("responseHeaders") or []
                         if str(h.get("name", "")).lower() == "location"), "")
        url = event["request"]["url"]
        target = urljoin(url, location) if 300 <= status < 400 and location else ""
        try:
            if target and origin(target) != self.origin:
                stopped.append(Redirect(url, status, target))
                session.send("Fetch.failRequest", {"requestId": event["requestId"], "errorReason": "BlockedByClient"})
            else:
                session.send("Fetch.continueRequest", {"requestId": event["requestId"]})
        except PlaywrightError:  # the tab closed meanwhile: nothing left to let through
            pass


def _reload(page: Any, url: str) -> None:
    """Loads `url` again in a watched tab; a failure (a redirect stopped, say) is the tab's own evidence."""
    from playwright.sync_api import Error as PlaywrightError

    with suppress(PlaywrightError):
        page.goto(url, wait_until="commit")
