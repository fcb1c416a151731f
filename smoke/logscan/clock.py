"""The log clock and the scan window.

NLog writes the server's local wall-clock time without a zone. The scanner therefore compares naive
datetimes "in the log clock"; `LogClock` turns real instants into that clock and back, given the
timezone setting: "local" (this machine's zone), "UTC", a fixed offset ("+02:00"), or an IANA zone
name ("Europe/Berlin", where this machine has zone data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smoke.ground import durations

from .errors import BadWindowError, LogScanError

_OFFSET_RE = re.compile(r"([+-])(\d\d):?(\d\d)")
MAX_WINDOW = timedelta(days=365)  # a duration back from now: logs older than a year are no upgrade's business


@dataclass(frozen=True)
class LogClock:
    name: str
    tz: tzinfo | None  # None: the local zone of the machine running the scan

    @classmethod
    def parse(cls, text: str) -> LogClock:
        """'local', 'UTC', '+02:00' / '-0530', or an IANA zone name; anything else is a BadWindowError."""
        value = text.strip()
        if value.lower() == "local":
            return cls("local", None)
        if value.upper() in ("UTC", "Z", "GMT"):
            return cls("UTC", UTC)
        offset = _OFFSET_RE.fullmatch(value)
        if offset:
            sign, hours, minutes = offset.groups()
            delta = timedelta(hours=int(hours), minutes=int(minutes))
            if delta >= timedelta(hours=24):
                raise _bad_timezone(text)
            return cls(value, timezone(-delta if sign == "-" else delta))
        try:
            return cls(value, ZoneInfo(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad_timezone(text) from None

    def to_log(self, moment: datetime) -> datetime:
        """An aware instant as the naive time the server's log would show; a naive one is taken as is."""
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def from_log(self, naive: datetime) -> datetime:
        """A naive log-clock time as an aware instant."""
        if self.tz is None:
            return naive.astimezone()  # naive datetimes are local time to astimezone()
        return naive.replace(tzinfo=self.tz)

    def now(self) -> datetime:
        return self.to_log(datetime.now(UTC))


LOCAL = LogClock("local", None)


def _bad_timezone(text: str) -> BadWindowError:
    return BadWindowError(
        f"logs: timezone {text!r} is not 'local', 'UTC', an offset like '+02:00' or a known zone name"
        " — fix --timezone or [logs] timezone"
    )


def checked_since(since: str | None, setting: str) -> str | None:
    """A `since` setting as written, or ValueError (for the section models) naming `setting`, e.g. "[logs] since"."""
    if since is not None:
        try:
            parse_since(since, datetime(2000, 1, 1))
        except LogScanError as exc:
            raise ValueError(str(exc).removeprefix("logs: ").replace("--since or [logs] since", setting)) from None
    return since


def parse_since(text: str, now: datetime, clock: LogClock = LOCAL, *, what: str = "since") -> datetime:
    """A window bound in the log clock, from a duration back from `now` (at most MAX_WINDOW) or an ISO time.

    An ISO time without an offset is read as log-clock time (as copied from the log); one with an offset
    ("2026-11-27T01:00+01:00", "...Z") is converted. `now` may be aware (converted to the log clock) or
    naive (taken to be in the log clock already).
    """
    value = text.strip()
    fix = f"fix --{what} or [logs] {what}"
    if not value:
        raise BadWindowError(f"logs: {what} is empty: give an ISO time (2026-11-27T01:00) or a duration (90s, 30m, 2h,"
                             f" 1d), or leave it out — {fix}")
    if durations.looks_like_duration(value):
        try:
            return clock.to_log(now) - durations.parse_duration(value, f"logs: {what}", MAX_WINDOW)
        except durations.DurationError as exc:
            raise BadWindowError(f"{exc} — {fix}") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadWindowError(
            f"logs: {what} {text!r} is neither an ISO time (2026-11-27T01:00, optionally with +02:00)"
            f" nor a duration (90s, 30m, 2h, 1d) — {fix}"
        ) from None
    try:
        return clock.to_log(moment)
    except (OverflowError, OSError, ValueError):  # an offset that carries the time past year 1 or 9999
        raise BadWindowError(f"logs: {what} {text!r} falls outside the calendar in the log clock — {fix}") from None


@dataclass(frozen=True)
class Window:
    """Entries with start <= time (<= end, when given) are in the window; times are in the log clock."""

    start: datetime
    end: datetime | None = None
    source: str = ""  # how the start was chosen, for the report

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or (self.end is not None and self.end.tzinfo is not None):
            raise BadWindowError(
                "logs: window times must be naive log-clock times — convert them with LogClock.to_log()"
            )

    def __contains__(self, time: datetime) -> bool:
        return self.start <= time and (self.end is None or time <= self.end)

    def describe(self) -> str:
        text = f"since {_shown(self.start)}"
        return text + (f" until {_shown(self.end)}" if self.end else "")


def _shown(time: datetime) -> str:
    """2026-11-27 01:00:00; also year 1 with its four digits, which strftime's %Y gives as "1" on some platforms."""
    return time.isoformat(sep=" ", timespec="seconds")
