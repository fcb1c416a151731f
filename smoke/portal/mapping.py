"""The portal's map (`pytest --env NAME --portal-map`): signs in like the checks, reads the links on the home page,
finds the pages the checks visit the way they do, opens each once to show how it answers, and writes the
[portal.pages] lines that pin them. Knows nothing of pytest."""

from __future__ import annotations

from smoke.ground.errors import SmokeError
from smoke.portal.navigation import NAVIGATED, Route, origin
from smoke.portal.pages import Portal, PortalPages, document_fix


def walk(portal: Portal, env_file: str) -> list[str]:
    """The map as lines to print; a SmokeError (one line) when the home page or the browser fails."""
    home = portal.visit_home()
    problem = home.document_problem()
    if problem:
        raise SmokeError(problem if home.navigation_error else f"the portal home page did not load: {problem} — "
                                                               f"{document_fix(home)}")
    server = origin(portal.pages.server_url)
    links = portal.links or []
    width = min(max((len(link.text) for link in links), default=0), 48)
    lines = [f"Links on the portal's home page {home.url} ({len(links)}):"]
    lines += [f"  {link.text:<{width}} → {link.url.removeprefix(server)}" for link in links] or ["  none"]
    lines += ["", "Pages the checks visit:"]
    paste = []
    for page in NAVIGATED:
        where = portal.route(page)
        status = portal.status(where.url, page)
        lines.append(f"  {page:<18} {where.url.removeprefix(server)} → {status} ({where.how})")
        paste.append(_paste_line(portal.pages, where, status))
    lines += ["", f"To pin them, paste into {env_file} (a [portal.pages] setting wins over the navigation):",
              "[portal.pages]", *paste]
    return lines


def _paste_line(pages: PortalPages, where: Route, status: str) -> str:
    value = f'{where.page} = "{as_setting(pages, where.url)}"'
    if status.startswith("2") or status.startswith("3"):
        return value
    closest = where.closest_links(origin(pages.server_url))
    return f"# {value}  ← answers {status}: set the page's address" + (f"; {closest}" if closest else "")


def as_setting(pages: PortalPages, url: str) -> str:
    """A [portal] pages value for `url`: {portal}/… inside the portal, a path elsewhere on the server."""
    if url.lower().startswith(pages.portal_url.lower()):
        return "{portal}" + url[len(pages.portal_url):]
    server = origin(pages.server_url)
    return url.removeprefix(server) if url.lower().startswith(server) else url
