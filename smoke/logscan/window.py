"""Choosing the window: given bounds, or the start of the last configuration-wizard run, or a fallback.

How a wizard run's start looks in `Command_Configuration_Log.txt` is not documented publicly, so the
rule is data (`WizardMarker`). The default reads the configuration log backwards: its entries fall into
runs separated by more than `gap` (30 minutes) without an entry, and the last run starts at its first
entry. Gaps are measured over every entry of that log by default, because an upgrade module can run
for a long time while only the upgrade's own logger writes; narrow it with `logger` (a regex searched in
the logger name, e.g. "ConfigurationWizard"). Where a run is known to start with a recognisable line,
set `start` (a regex searched in "<logger> <message>"): the last entry matching it is then the start.
A run older than `max_age` is ignored, so a suite run long after the upgrade does not read weeks of
logs; the fallback (the last 24 hours) applies then, and when no run is found.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .clock import LOCAL, LogClock, Window, parse_since
from .errors import BadWindowError, LogPathError
from .files import DEFAULT_GLOBS, PathLike, discover, matches
from .nlog import parse_header
from .seek import stamped_lines_reverse

DEFAULT_FALLBACK = timedelta(hours=24)
FUTURE_SLACK = timedelta(minutes=5)  # the server's clock may run a little ahead of this machine's


@dataclass(frozen=True)
class WizardMarker:
    files: str = "Command_Configuration_Log*"  # glob for the configuration log and its archives
    logger: str = ""  # regex searched in the logger name; "" = every entry
    start: str | None = None  # regex searched in "<logger> <message>"; replaces the gap rule when set
    gap: timedelta = timedelta(minutes=30)
    max_age: timedelta | None = timedelta(days=7)

    def compiled(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        try:
            return (
                re.compile(self.logger) if self.logger else None,
                re.compile(self.start) if self.start else None,
            )
        except re.error as exc:
            raise BadWindowError(
                f"logs: configuration-wizard marker regex is invalid ({exc}) — fix [logs] wizard_logger / wizard_start"
            ) from None


@dataclass(frozen=True)
class WizardRun:
    start: datetime
    end: datetime
    path: Path


def last_wizard_run(files: Iterable[Path], marker: WizardMarker = WizardMarker()) -> WizardRun | None:
    """The newest configuration-wizard run found in the configuration log files among `files`."""
    best: WizardRun | None = None
    for path in files:
        if matches(path, marker.files):
            run = _last_run_in(path, marker)
            if run and (best is None or run.end > best.end):
                best = run
    return best


def _last_run_in(path: Path, marker: WizardMarker) -> WizardRun | None:
    logger_re, start_re = marker.compiled()
    start: datetime | None = None
    end: datetime | None = None
    try:
        with open(path, "rb") as f:
            for _, line in stamped_lines_reverse(f, os.fstat(f.fileno()).st_size):
                header = parse_header(line)
                if header is None or (logger_re and not logger_re.search(header.logger)):
                    continue
                end = end or header.time
                if start_re is not None:
                    if start_re.search(f"{header.logger} {header.message}"):
                        return WizardRun(header.time, end, path)
                    continue
                if start is not None and start - header.time > marker.gap:
                    break
                start = header.time if start is None else min(start, header.time)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LogPathError.unreadable(path, exc) from None
    return WizardRun(start, end, path) if start is not None and end is not None else None


def default_window(
    paths: Iterable[PathLike],
    now: datetime,
    *,
    marker: WizardMarker = WizardMarker(),
    fallback: timedelta = DEFAULT_FALLBACK,
    globs: Sequence[str] = DEFAULT_GLOBS,
) -> Window:
    """From the start of the last configuration-wizard run, else the last `fallback`; `now` in the log clock."""
    run = last_wizard_run(discover(paths, globs), marker)
    if run is not None and (marker.max_age is None or now - run.start <= marker.max_age):
        return Window(run.start, None, f"start of the last configuration-wizard run in {run.path.name}")
    if run is not None:
        why = f"the last configuration-wizard run, {run.start:%Y-%m-%d %H:%M}, is older than {_span(marker.max_age)}"
    else:
        why = f"no configuration-wizard run found in {marker.files}"
    return Window(now - fallback, None, f"last {_span(fallback)}; {why}")


def resolve_window(
    paths: Iterable[PathLike],
    since: str | None = None,
    until: str | None = None,
    *,
    clock: LogClock = LOCAL,
    now: datetime | None = None,
    marker: WizardMarker = WizardMarker(),
    fallback: timedelta = DEFAULT_FALLBACK,
    globs: Sequence[str] = DEFAULT_GLOBS,
) -> Window:
    """The window from settings or the command line: `since`/`until` as ISO times or durations back
    from now; without `since`, `default_window`. `now` defaults to the current time."""
    paths = list(paths)
    now_log = clock.to_log(now) if now is not None else clock.now()
    end = parse_since(until, now_log, clock, what="until") if until is not None else None
    if since is not None:
        window = Window(parse_since(since, now_log, clock), end, f"given: {since.strip()}")
        if window.start > now_log:
            raise BadWindowError(
                f"logs: since {window.start:%Y-%m-%d %H:%M:%S} is in the future (now {now_log:%Y-%m-%d %H:%M:%S} in"
                f" the log clock, {clock.name}), so no entry could be in the window — fix --since / [logs] since"
            )
    else:
        window = default_window(paths, now_log, marker=marker, fallback=fallback, globs=globs)
        if window.start > now_log + FUTURE_SLACK:
            raise BadWindowError(
                f"logs: the last configuration-wizard run starts at {window.start:%Y-%m-%d %H:%M:%S}, in the future"
                f" (now {now_log:%Y-%m-%d %H:%M:%S} in the log clock, {clock.name}) — set [logs] timezone / --timezone"
                " to the zone the server writes its logs in, or give --since / [logs] since"
            )
        window = Window(window.start, end, window.source)
    if end is not None and end < window.start:
        raise BadWindowError(
            f"logs: until {end:%Y-%m-%d %H:%M:%S} is before the window start {window.start:%Y-%m-%d %H:%M:%S}"
            " — fix --until / [logs] until or --since"
        )
    return window


def _span(delta: timedelta | None) -> str:
    if delta is None:
        return "ever"
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size and (unit != "day" or seconds > 86400):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
