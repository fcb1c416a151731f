"""What one page showed a person at the screen: its status, every answer, script and console errors, the title
and a screenshot, and whether it is an IIS/ASP.NET error page or a sign-in page instead of the portal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from smoke.portal.text import one_line

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


def _line_around(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return one_line(text[start:end if end != -1 else None])[:160]
