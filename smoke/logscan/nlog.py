"""The NLog line layout Keyfactor writes, on bytes, and what makes two errors "the same".

    2022-12-07 10:19:07.5078 Keyfactor.Sql.Management.Upgrade.UpgradePlan [Error] - Failed to run ...
    2022-12-07 10:19:07.5078 3f2a1c9e-0000-4d2b-9c1e-0a1b2c3d4e5f CSS.CMS.Foo [Info] - ...   (CA Connector)
       at CSS.CMS.Install.Upgrade...                                                          (continuation)

An entry starts at a line that begins with a timestamp (`yyyy-MM-dd HH:mm:ss` plus 0-7 fractional
digits); every other line belongs to the entry above. Everything here works on bytes, so undecodable
input never raises; only what is reported is decoded, with errors="replace".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from .errors import LogScanError

BOM = b"\xef\xbb\xbf"
LEVELS = ("Trace", "Debug", "Info", "Warn", "Error", "Fatal")
SEVERITY = {name: rank for rank, name in enumerate(LEVELS)}
SEVERITY_BYTES = {name.encode("ascii"): rank for name, rank in SEVERITY.items()}

_TIMESTAMP = rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,7})?"
# Optional BOM, so the first line of a file needs no special case.
TIMESTAMP_RE = re.compile(rb"(?:\xef\xbb\xbf)?(" + _TIMESTAMP + rb")(?=\s|\Z)")
# Groups: 1 timestamp, 2 correlation id (CA Connector; any one token), 3 logger, 4 level, 5 message.
HEADER_RE = re.compile(
    rb"(?:\xef\xbb\xbf)?(" + _TIMESTAMP + rb")[ \t]+(?:(\S+)[ \t]+)??(\S+)[ \t]+\[(\w+)\][ \t]*(?:-[ \t]?)?([^\r\n]*)"
)
LEVEL_GROUP = 4


class Header(NamedTuple):
    time: datetime
    logger: str
    level: str
    message: str  # the first line only; continuation lines are read for excerpts


def parse_timestamp(raw: bytes) -> datetime | None:
    """`2022-12-07 10:19:07.5078` -> datetime (fraction cut to microseconds); None if not a real date."""
    # fromisoformat is the fast path; an hour of 24 it reads as the next midnight on newer Pythons, and a
    # fraction of 7 digits it refuses on some: those go the slow way.
    if raw[11:13] != b"24":
        try:
            return datetime.fromisoformat(raw.decode("ascii"))
        except ValueError:
            pass
    try:
        fraction = raw[20:27]
        return datetime(
            int(raw[0:4]), int(raw[5:7]), int(raw[8:10]),
            int(raw[11:13]), int(raw[14:16]), int(raw[17:19]),
            int(fraction[:6].ljust(6, b"0")) if fraction else 0,
        )  # fmt: skip
    except ValueError:
        return None


def line_time(buf: bytes, pos: int = 0) -> datetime | None:
    """The time of the line starting at buf[pos], or None when it does not start with a timestamp."""
    match = TIMESTAMP_RE.match(buf, pos)
    return parse_timestamp(match.group(1)) if match else None


def decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def parse_header(buf: bytes, pos: int = 0) -> Header | None:
    """The header of the entry whose first line starts at buf[pos], or None if it is not one."""
    match = HEADER_RE.match(buf, pos)
    if not match:
        return None
    time = parse_timestamp(match.group(1))
    if time is None:
        return None
    return Header(time, decode(match.group(3)), decode(match.group(LEVEL_GROUP)), decode(match.group(5)))


def holds_entries(head: bytes) -> bool:
    """Whether the start of a file holds at least one NLog entry header (not binary, not some other text)."""
    lines = (line for line in head.split(b"\n") if line[:1].isdigit() or line[:1] == BOM[:1])
    return any(parse_header(line) is not None for line in lines)


def check_levels(levels: Sequence[str]) -> tuple[str, ...]:
    """The level names, refused in one line unless each is a plain word like Error."""
    for level in levels:
        if not re.fullmatch(r"[A-Za-z]+", level):
            raise LogScanError(
                f"logs: {level!r} is not a level name like {', '.join(LEVELS)} — fix --level / [logs] levels"
            )
    return tuple(levels)


# The normalisers, applied in this order by `signature`, each only when the characters it needs are in the message.
# Patterns that would begin with \b or a lookbehind begin with a character class instead, the lookbehind after it
# (same matches): CPython's sre then skips ahead to candidates instead of trying each place.
_SINGLE_QUOTED = re.compile(r"'[^']*'")
_DOUBLE_QUOTED = re.compile(r'"[^"]*"')
_GUID = re.compile(r"[0-9a-fA-F](?<!\w[0-9a-fA-F])[0-9a-fA-F]{7}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?!\w)")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+")
_WINDOWS_PATH = re.compile(r"(?:\b[A-Za-z]:|\\\\[^\\\s]+)\\[^\s'\"]*")
_POSIX_PATH = re.compile(r"(?<![\w.])/(?:[^\s/'\"]+/)+[^\s'\"]*")
_HEX = re.compile(r"0x(?<!\w0x)[0-9a-fA-F]+\b")
# Thumbprints, serial numbers: long hex runs that mix digits and letters (a digit first and a letter after it,
# or a letter first and a digit after it).
_LONG_HEX = re.compile(
    r"[0-9a-fA-F](?<!\w[0-9a-fA-F])"
    r"(?:(?<=[0-9])(?=[0-9a-fA-F]*[a-fA-F])|(?<=[a-fA-F])(?=[0-9a-fA-F]*[0-9]))"
    r"[0-9a-fA-F]{7,}(?!\w)"
)
# Numbers, also dotted/colon-separated (IPs, times, versions), unless glued to a name (X509, Module2).
_NUMBER = re.compile(r"\d(?<![A-Za-z_\d]\d)\d*(?:[.:,]\d+)*")
_DIGIT = re.compile(r"\d")
SIGNATURE_CHARS = 300


def signature(message: str) -> str:
    """The message with its variable parts replaced, so the same error groups together."""
    if "'" in message:
        message = _SINGLE_QUOTED.sub("'<s>'", message)
    if '"' in message:
        message = _DOUBLE_QUOTED.sub('"<s>"', message)
    if message.count("-") >= 4:
        message = _GUID.sub("<guid>", message)
    if "://" in message:
        message = _URL.sub("<url>", message)
    if ":\\" in message or "\\\\" in message:  # C:\... or \\server\... (not CORP\user)
        message = _WINDOWS_PATH.sub("<path>", message)
    if message.count("/") >= 2:
        message = _POSIX_PATH.sub("<path>", message)
    if "0x" in message:
        message = _HEX.sub("<hex>", message)
    if _DIGIT.search(message):
        message = _NUMBER.sub("<n>", _LONG_HEX.sub("<hex>", message))
    return " ".join(message.split())[:SIGNATURE_CHARS]  # whitespace runs as one space, none at either end
