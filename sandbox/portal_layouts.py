"""Where the sandbox's portal puts its pages and how it draws its navigation (`python -m sandbox --portal NAME`).

The routes of the dashboard and the Report Manager are not published for 10.x, and Certificate Search's only for
12.5 (keyfactor-api-notes §2), so a real portal may well differ from the sandbox's guess. The other layouts let the
self-tests show that the suite finds the pages through the navigation's link texts, and what it says when it
cannot:
- default: the sandbox's guess, a plain bar of links;
- other: the pages elsewhere, in a Kendo-style menu whose submenus stay closed until hovered (the links are in the
  page but hidden), link texts with icons and a badge around the words, and home page tiles that are links;
- other-nonav: the same pages and tiles, without the menu (the navigation is not in the home page at all).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

PORTAL = "/KeyfactorPortal"


@dataclass(frozen=True)
class Layout:
    name: str
    dashboard: str
    certificate_search: str  # the page; its link adds ?cid=0 (the "All certificates" collection)
    report_manager: str
    menu: bool  # whether the pages carry the navigation
    tile_links: bool  # whether the home page's tiles link to pages

    def title(self, page: str) -> str:
        return f"{page} - Keyfactor Command" if self.name == "default" else f"Keyfactor Command | {page}"

    def navigation(self, current: str) -> str:
        if self.name == "default":
            links = [("Dashboard", self.dashboard), ("Certificate Search", f"{self.certificate_search}?cid=0"),
                     ("Report Manager", self.report_manager)]
            return "<nav>" + "".join(f'<a href="{href}"{" class=current" if name == current else ""}>{name}</a>'
                                     for name, href in links) + "</nav>"
        if not self.menu:
            return ""
        return f"""<ul class="k-menu" role="menubar">
<li class="k-item"><a class="k-link" href="{self.dashboard}"><span class="k-icon icon-dashboard" aria-hidden="true">
</span> Dashboard</a></li>
{_submenu("Certificates", [("Certificate Search", f"{self.certificate_search}?cid=0"),
                           ("Certificate Collection Manager", f"{PORTAL}/CertificateCollection/Manage"),
                           ("Add Certificate", f"{PORTAL}/Certificates/Add")])}
{_submenu("Orchestrators", [("Orchestrator Management", f"{PORTAL}/Agents/Management"),
                            ("Orchestrator Job Status", f"{PORTAL}/AgentJobStatus/Index")])}
{_submenu("Reports", [("Report Manager <span class='k-badge'>5</span>", self.report_manager),
                      ("Scheduled Reports", f"{PORTAL}/Reporting/Schedules")])}
{_submenu("Alerts", [("Expiration Alerts", f"{PORTAL}/Alerts/Expiration")])}
</ul>"""


def _submenu(title: str, items: list[tuple[str, str]]) -> str:
    """A menu entry whose links are in the page but hidden until the entry is hovered. `items` hold trusted markup."""
    links = "".join(f'<li class="k-item"><a class="k-link" href="{html.escape(href)}">{text}</a></li>'
                    for text, href in items)
    return (f'<li class="k-item k-menu-parent"><span class="k-link">{html.escape(title)} ▾</span>'
            f'<ul class="k-menu-group" role="menu">{links}</ul></li>')


LAYOUTS = {
    layout.name: layout
    for layout in [
        Layout("default", f"{PORTAL}/Dashboard", f"{PORTAL}/CertificateCollection/Edit", f"{PORTAL}/ReportManager",
               menu=True, tile_links=False),
        Layout("other", f"{PORTAL}/Home/Dashboard", f"{PORTAL}/Certificates/Search", f"{PORTAL}/Reporting/Manager",
               menu=True, tile_links=True),
        Layout("other-nonav", f"{PORTAL}/Home/Dashboard", f"{PORTAL}/Certificates/Search",
               f"{PORTAL}/Reporting/Manager", menu=False, tile_links=True),
    ]
}
