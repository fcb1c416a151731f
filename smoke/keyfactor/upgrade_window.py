"""Since when the server's work is judged: the same window as the logs check — `[operations] since`, else the start
of the last configuration-wizard run found in the logs ([logs]), else the last 24 hours.

Knows nothing of pytest. The logs are read through the logscan wing's face; a log folder that cannot be read does
not stop these checks: they fall back to the last 24 hours and say why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from smoke.ground.errors import SmokeError
from smoke.keyfactor.formats import time_zone
from smoke.logscan import LogClock, WizardMarker, parse_since, resolve_window

FALLBACK = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Since:
    start: dt.datetime  # an aware instant
    source: str  # how it was chosen, for the report

    def describe(self) -> str:
        return f"since {self.start.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC ({self.source})"


def since_the_upgrade(settings: Any, now: dt.datetime | None = None) -> Since:
    """`settings`: the environment (its [operations] and [logs])."""
    now = now or dt.datetime.now(dt.UTC)
    operations = settings.operations
    if operations is not None and operations.since:
        clock = LogClock(operations.zoneless_times, time_zone(operations.zoneless_times))
        return Since(clock.from_log(parse_since(operations.since, now, clock)),
                     f"[operations] since = {operations.since!r}")
    logs = settings.logs
    if logs is None or not logs.paths:
        return Since(now - FALLBACK, "the last 24 hours: neither [operations] since nor [logs] paths is set")
    clock = LogClock.parse(logs.timezone)
    try:
        window = resolve_window(logs.paths, logs.since, clock=clock, now=now,
                                marker=WizardMarker(logger=logs.wizard_logger, start=logs.wizard_start))
    except SmokeError as exc:
        return Since(now - FALLBACK, f"the last 24 hours: the logs' window could not be read ({exc})")
    return Since(clock.from_log(window.start), f"the logs' window: {window.source}")
