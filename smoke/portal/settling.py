"""When a page is ready to be judged: it shows what the check needs (a selector, when it names one), and none of its
requests is still in flight — with a short quiet spell after the last one started or ended, so that a request a
script starts once another has answered (a panel's chart after its data) is seen too.

Playwright's own "networkidle" waits a fixed half second of silence after every page. Here the requests in flight
are counted from the page's request events instead: a settled page costs only the quiet spell, and a late request
that is still running when the selector appears is waited for, so that its failure is recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

QUIET_S = 0.15  # no request in flight for this long: the page's scripts have nothing left to ask for
POLL_MS = 20  # how often the events are looked at while waiting (Playwright delivers them during the wait)
IDLE_CAP_S = 15.0  # a page that polls never goes quiet: stop waiting for quiet after this long
RENDER_GRACE_S = 5.0  # after the network went quiet, how long a script may still take to draw what we look for


class Traffic:
    """The requests a visit saw start (Playwright's request events), those not finished yet, and when the last one
    started or ended."""

    def __init__(self) -> None:
        self.seen: set[Any] = set()
        self.in_flight: set[Any] = set()
        self.last_change = time.monotonic()

    def started(self, request: Any) -> None:
        self.seen.add(request)
        self.in_flight.add(request)
        self.last_change = time.monotonic()

    def ended(self, request: Any) -> bool:
        """False for a request this visit did not see start (the tab's previous page's)."""
        self.in_flight.discard(request)
        self.last_change = time.monotonic()
        return request in self.seen

    def quiet_for(self, since: float) -> float:
        """Seconds without a request in flight, counted from `since` at the earliest (a script may start one as
        the page finishes loading); 0 while one is in flight."""
        if self.in_flight:
            return 0.0
        return time.monotonic() - max(self.last_change, since)


def wait_until_settled(page: Any, traffic: Traffic, timeout_s: float, shown: Callable[[], bool],
                       failed: Callable[[], bool]) -> None:
    """Returns once the network is quiet (or still busy after IDLE_CAP_S) and the page `shown()` what the check
    needs — or it `failed()` already, or it stayed without it for RENDER_GRACE_S of quiet."""
    started = time.monotonic()
    busy_until = started + min(timeout_s, IDLE_CAP_S)
    grace = min(timeout_s, RENDER_GRACE_S)
    quiet_since: float | None = None
    while True:
        now = time.monotonic()
        if traffic.quiet_for(started) >= QUIET_S or now >= busy_until:
            quiet_since = quiet_since or now
            if shown() or failed() or now - quiet_since >= grace:
                return
        else:
            quiet_since = None  # a script asked for more: what it draws from the answer is yet to come
        page.wait_for_timeout(POLL_MS)
