"""A page is judged once it shows what the check needs and its requests are over — not after a fixed half second
of network silence — and a request a script starts late is still waited for, so that its failure is recorded: one
started as the rows appear (the selector is already there), one chained after another request answered on a page
without a selector, and one still running when the page's selector appears. Real Chromium, a small real HTTPS
server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from smoke.portal.browser import BrowserOptions, BrowserSession
from smoke.portal.page import PageLoad
from tests.hostile_servers import LoopbackServer, Received, Reply, ThrowawayCA

ROWS = 'tr.row'
PAGES = {
    # Draws its rows from /rows, then asks /late, which answers 500 a while later.
    "/rows-then-late": """fetch("/rows").then(r => r.json()).then(rows => {
        const body = document.querySelector("tbody");
        rows.forEach(n => { const tr = document.createElement("tr"); tr.className = "row";
                            tr.innerHTML = "<td>" + n + "</td>"; body.appendChild(tr); });
        fetch("/late?slow=1");
    });""",
    # No selector to wait for: /first answers after a while, and only then the script asks /late.
    "/chained": """fetch("/first?slow=1").then(r => r.text()).then(() => fetch("/late"));""",
    # The rows are in the page from the start; a request started with them is still running.
    "/shown-while-loading": """fetch("/late?slow=1");""",
}
SHOWN = "<tr class=row><td>1</td></tr><tr class=row><td>2</td></tr><tr class=row><td>3</td></tr>"


def answer(received: Received) -> Reply:
    path, _, query = received.path.partition("?")
    if "slow=1" in query:
        time.sleep(0.8)  # longer than the quiet spell: the request is in flight when the page looks settled
    if path in PAGES:
        rows = SHOWN if path == "/shown-while-loading" else ""
        return Reply.html(f"<html><head><title>Keyfactor</title><link rel='icon' href='data:,'></head><body>"
                          f"<table><tbody>{rows}</tbody></table><script>{PAGES[path]}</script></body></html>")
    if path == "/rows":
        return Reply.json([1, 2, 3])
    if path == "/first":
        return Reply.json({})
    if path == "/late":
        return Reply.html("<title>Runtime Error</title>", 500)
    return Reply.html("<title>404</title>", 404)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[LoopbackServer, BrowserSession]]:
    ca = ThrowawayCA(tmp_path_factory.mktemp("ca"))
    with LoopbackServer(answer, tls=ca.server_context(["localhost"]), name="localhost") as server:
        session = BrowserSession(BrowserOptions("chromium", True, 10, server.origin, "basic", "CORP\\svc",
                                                "pw-12345", ca.bundle))
        try:
            yield server, session
        finally:
            session.close()


def settled(site: tuple[LoopbackServer, BrowserSession], path: str, ready: str | None = None) -> tuple[PageLoad, int]:
    server, session = site
    with session.visit(path) as visit:
        visit.goto(server.origin + path)
        found = visit.settle(ready=ready, count=3)
        return visit.snapshot(), found


def late(load: PageLoad) -> list[str]:
    return [f"{a.status} {a.url.removeprefix(load.requested.rsplit('/', 1)[0])}" for a in load.server_errors]


def test_a_request_started_as_the_rows_appear_is_waited_for_and_its_500_recorded(site):
    load, rows = settled(site, "/rows-then-late", ready=ROWS)
    assert rows == 3
    assert late(load) == ["500 /late?slow=1"], load.as_text()


def test_a_request_chained_after_another_answered_is_recorded_on_a_page_without_a_selector(site):
    load, _ = settled(site, "/chained")
    assert late(load) == ["500 /late"], load.as_text()


def test_a_request_still_running_when_the_selector_is_already_there_is_waited_for(site):
    load, rows = settled(site, "/shown-while-loading", ready=ROWS)
    assert rows == 3
    assert late(load) == ["500 /late?slow=1"], load.as_text()
