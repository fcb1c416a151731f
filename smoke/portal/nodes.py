"""The portal's home page on one web server behind the load balancer: a browser of its own whose resolver maps the
site's name to that node's address (Chromium's --host-resolver-rules, as `curl --resolve`), so that TLS, the
sign-in and the Kerberos service name stay the site's. One browser per node: the rule belongs to the browser
process, not to a tab. Starting Playwright's driver costs more than starting a browser, so a few workers, each
with one driver, open the nodes' pages side by side, each worker's browsers one after another.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from smoke.ground.errors import SmokeError
from smoke.portal import browser
from smoke.portal.launch import BrowserUnavailable, launch_problem
from smoke.portal.page import PageLoad
from smoke.portal.pages import Portal, home_page_problem, pages_for


@dataclass
class NodeHome:
    node: str  # the address or own name it was reached at
    load: PageLoad
    answered_from: str | None  # the address the page came from, as the browser reports it
    problem: str | None  # one line: why it did not load completely, or None
    browser: str = ""

    def elsewhere(self) -> str | None:
        """One line when the page came from another address than the node's: the resolver rule did not apply."""
        if self.answered_from is None or _normal(self.answered_from) in addresses(self.node):
            return None
        return (f"the browser reached {self.answered_from}, not {self.node}: --host-resolver-rules did not apply "
                "(a proxy, or a browser that ignores the switch) — set [portal] browser = \"chromium\"")


def home_pages(settings: Any, nodes: list[str], headed: bool = False, workers: int | None = None
               ) -> dict[str, NodeHome | SmokeError]:
    """The home page on each node, or the one-line error it met (BrowserUnavailable when no browser starts: not the
    node's fault). `workers` (default: the machine's cores, at least 4: a launch also waits) share the nodes out."""
    count = min(len(nodes), workers or max(4, os.cpu_count() or 4))
    found: dict[str, NodeHome | SmokeError] = {}

    def work(share: list[str]) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        try:
            playwright = sync_playwright().start()
        except PlaywrightError as exc:
            found.update(dict.fromkeys(share, BrowserUnavailable(launch_problem(settings.portal.browser, str(exc)))))
            return
        try:
            for node in share:
                try:
                    found[node] = home_page(settings, node, headed, playwright)
                except SmokeError as exc:
                    found[node] = exc
        finally:
            playwright.stop()

    threads = [threading.Thread(target=work, args=(nodes[i::count],), name=f"node-browsers-{i}")
               for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {node: found[node] for node in nodes}


def home_page(settings: Any, node: str, headed: bool = False, playwright: Any = None) -> NodeHome:
    """Opens the portal's home page on `node` in a browser of its own, and closes that browser again. Raises
    BrowserUnavailable when no browser starts (not the node's fault)."""
    session = browser.connect(settings, headed=headed, resolve_to=node, playwright=playwright)
    portal = Portal(session, pages_for(settings))
    documents: list[Any] = []
    try:
        with session.visit(f"Portal home page on {node}") as visit:
            visit.page.on("response", lambda answer: documents.append(answer)
                          if answer.request.resource_type == "document" else None)
            visit.goto(portal.pages.url("home"))
            visit.settle()
            load = visit.snapshot()
            server = documents[0].server_addr() if documents else None
        problem = home_page_problem(load, portal.title_expected(load))
        return NodeHome(node, load, server["ipAddress"] if server else None, problem, session.description)
    finally:
        session.close()


def addresses(node: str) -> set[str]:
    """The addresses `node` stands for: itself when it is one, else what its name resolves to."""
    try:
        return {str(ipaddress.ip_address(node.strip("[]")))}
    except ValueError:
        pass
    try:
        return {_normal(str(found[4][0])) for found in socket.getaddrinfo(node, None)}
    except OSError:
        return set()


def _normal(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        return address
