"""How the checks find the portal's own pages: the links on the home page, read once, matched by their text.

Routes beyond the home page differ between portal versions (keyfactor-api-notes §2: only Certificate Search's is
documented, and for 12.5), so the dashboard, Certificate Search and the Report Manager are looked up by the link
texts of [portal.texts] nav_<page>. An explicit [portal] pages.<page> wins; with neither, today's route is the
fallback. Each route remembers how it was found, and the links closest to the text when none matched, for the
messages. Knows nothing of pytest and nothing of the browser (the links arrive as text and address).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from urllib.parse import urlsplit

from smoke.portal.text import one_line

NAVIGATED = ("dashboard", "certificate_search", "report_manager")  # the pages found through the navigation
CLOSEST = 3  # links named when none matches


def text_key(page: str) -> str:
    """The [portal.texts] key holding the link texts of `page`."""
    return f"nav_{page}"


@dataclass(frozen=True)
class Link:
    text: str  # what the link reads (else its title or aria-label), on one line
    url: str  # absolute, as the browser resolved it

    def shown(self, server: str = "") -> str:
        return f"{self.text!r} → {self.url.removeprefix(server) or '/'}"


def links_from(found: list[tuple[str, str, str, str]], home_url: str) -> list[Link]:
    """The home page's links to pages of the same server, each once, in document order: (text, href, title,
    aria-label) as the browser read them. Menu openers (`#`, `javascript:`), anchors within the page and other
    servers' links are left out; a single-page application's route (`#/…`) is kept."""
    home = origin(home_url)
    page = home_url.split("#", 1)[0]
    seen: set[tuple[str, str]] = set()
    links = []
    for text, href, title, label in found:
        name = one_line(text) or one_line(title) or one_line(label)
        base, anchor, fragment = href.partition("#")
        spa_route = fragment.startswith(("/", "!/"))
        url = href if spa_route else base
        if not name or not url or origin(url) != home or (anchor and not spa_route and base == page) \
                or (name, url) in seen:
            continue
        seen.add((name, url))
        links.append(Link(name, url))
    return links


def find(links: list[Link], wanted: list[str]) -> tuple[Link, str] | None:
    """The link reading one of `wanted` (case and spacing aside), else the shortest one containing it; with the
    text that matched."""
    for text in wanted:
        exact = [link for link in links if _fold(link.text) == _fold(text)]
        if exact:
            return exact[0], text
    for text in wanted:
        containing = [link for link in links if _fold(text) in _fold(link.text)]
        if containing:
            return min(containing, key=lambda link: len(link.text)), text
    return None


def closest(links: list[Link], wanted: list[str], count: int = CLOSEST) -> list[Link]:
    """The links whose text comes closest to one of `wanted`, closest first."""
    def score(link: Link) -> float:
        return max(SequenceMatcher(None, _fold(text), _fold(link.text)).ratio() for text in wanted)

    return sorted(links, key=score, reverse=True)[:count]


@dataclass
class Route:
    """Where a page was looked for, and how that address was chosen."""

    page: str  # "dashboard", "certificate_search", "report_manager"
    url: str
    source: str  # "setting" | "navigation" | "default"
    how: str  # for the report: "found in the navigation: link 'Dashboard'"
    wanted: list[str] = field(default_factory=list)  # the link texts looked for
    links: list[Link] | None = None  # the home page's links; None when they were not read

    @property
    def setting(self) -> str:
        return f"[portal] pages.{self.page}"

    def closest_links(self, server: str) -> str:
        """"closest navigation links to 'Dashboard': 'Dash' → /x, …" (or why there are none)."""
        if self.links is None:
            return ""
        if not self.links:
            return "the home page shows no links"
        named = ", ".join(link.shown(server) for link in closest(self.links, self.wanted))
        return f"links on the home page closest to {' or '.join(map(repr, self.wanted))}: {named}"


def route(page: str, url: str, overridden: bool, wanted: list[str], links: list[Link] | None,
          home_problem: str | None = None) -> Route:
    """The page's route: the [portal] pages setting, else the navigation link, else `url` (the default)."""
    if overridden:
        return Route(page, url, "setting", f"set in [portal] pages.{page}", wanted, links)
    found = find(links or [], wanted)
    if found:
        link, text = found
        matched = "" if _fold(link.text) == _fold(text) else f", which contains {text!r}"
        return Route(page, link.url, "navigation", f"found in the navigation: link {link.text!r}{matched}", wanted,
                     links)
    if links is None:
        why = f"the home page did not load ({home_problem})" if home_problem else "the home page's links were not read"
    else:
        why = f"no link on the home page reads {' or '.join(map(repr, wanted))}"
    return Route(page, url, "default", f"the default route: {why}", wanted, links)


def _fold(text: str) -> str:
    return one_line(text).casefold()


def origin(url: str) -> str:
    """scheme://host[:port] of `url`, lower-case."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
