"""Keyfactor's formats: .NET date-times and product versions. Knows nothing of HTTP or pytest."""

from __future__ import annotations

import datetime as dt
import re

_NET_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)


def parse_net_time(value: object, zoneless: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """What .NET emits: up to 7 fractional digits, `Z`, an offset, or no zone at all (then `zoneless`)."""
    if not isinstance(value, str):
        return None
    found = _NET_TIME.match(value.strip())
    if not found:
        return None
    day, clock, fraction, zone = found.groups()
    micro = int((fraction or "0").ljust(7, "0")[:6])
    when = dt.datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micro)
    if not zone:
        return when.replace(tzinfo=zoneless)
    if zone.upper() == "Z":
        return when.replace(tzinfo=dt.UTC)
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[-2:])
    return when.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes)))


def version_parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def version_matches(reported: str, expected: str) -> bool:
    """`10.2` matches 10.2, 10.2.1, 10.2.1.0, but not 10.20 or 10.1."""
    want = version_parts(expected)
    return bool(want) and version_parts(reported)[: len(want)] == want


def version_at_least(reported: str, minimum: str) -> bool:
    have, want = version_parts(reported), version_parts(minimum)
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) >= want + (0,) * (width - len(want))
