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
    try:
        when = dt.datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micro)
    except ValueError:  # shaped like a date-time, but month 13 or 25 o'clock
        return None
    if not zone:
        return when.replace(tzinfo=zoneless)
    if zone.upper() == "Z":
        return when.replace(tzinfo=dt.UTC)
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[-2:])
    return when.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes)))


_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})$", re.IGNORECASE)


def time_zone(name: str) -> dt.tzinfo:
    """"UTC", an offset ("+02:00", "-0500") or an IANA zone name ("Europe/Berlin"); ValueError otherwise."""
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return dt.UTC
    found = _OFFSET.match(text)
    if found:
        sign, hours, minutes = found.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        if offset > dt.timedelta(hours=14):
            raise ValueError(f"{name!r} is not a UTC offset (at most ±14:00)")
        return dt.timezone(offset if sign == "+" else -offset)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone: use \"UTC\", an offset such as \"+02:00\", or a zone "
                         "name such as \"Europe/Berlin\" (zone names on Windows need the tzdata package)") from None


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


def query_time(moment: dt.datetime, zone: dt.tzinfo = dt.UTC) -> str:
    """A time for Keyfactor's query language (`OperationStart -ge "…"`): the wall clock of `zone` to the second,
    without a zone, as the portal's searches write it."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")
