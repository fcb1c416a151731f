"""Durations as an administrator types them — `90s`, `10m`, `2h`, `1d`, `1w`, `1h30m`, `1.5h` — read one way
wherever the suite takes one (the log window, `python -m smoke.logscan --since/--until`, `--wait-ready`), each with
an upper bound that the message names, so that no value is too large for a clock."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from smoke.ground.errors import SmokeError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
FORMS = "90s, 10m, 2h, 1d or 1h30m"
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class DurationError(SmokeError):
    """A duration that cannot be used; str() names the option, the value and what was expected (the caller adds
    where to fix it)."""


def looks_like_duration(text: str) -> bool:
    """True for `2h`, `1h30m`… (whatever its size): a value to read with parse_duration, not as a time of day."""
    return _WHOLE.fullmatch(text.strip()) is not None


def parse_duration(text: str, what: str, most: timedelta, *, bare_seconds: bool = False) -> timedelta:
    """`text` as a duration of more than zero and at most `most`; `bare_seconds` also takes a plain number (`90`)
    as seconds. `what` names the value in the message (`--wait-ready`, `since`)."""
    value = text.strip()
    if not value:
        raise DurationError(f"{what} is empty: give a duration such as {FORMS}")
    if bare_seconds and _NUMBER.fullmatch(value):
        seconds = float(value)
    elif _WHOLE.fullmatch(value):
        seconds = sum(float(number) * UNITS[unit.lower()] for number, unit in _PART.findall(value))
    else:
        raise DurationError(f"{what} {text!r}: expected a duration such as {FORMS}")
    if not math.isfinite(seconds) or seconds > most.total_seconds():
        raise DurationError(f"{what} {text!r}: longer than {describe(most)}, the most it accepts")
    if seconds <= 0:
        raise DurationError(f"{what} {text!r}: the duration must be more than zero")
    return timedelta(seconds=seconds)


def describe(delta: timedelta) -> str:
    """`delta` as parse_duration reads it, in its largest whole unit (a single day as 24h): 24h, 365d, 90s."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0 and (unit != "d" or seconds > size):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
