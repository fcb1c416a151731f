"""Finding places in a log file by time without reading it all.

`seek_time` binary-searches byte offsets: from any offset it resyncs to the next line that starts with a
timestamp (continuation lines of multi-line entries are skipped), so it costs a few small reads per
halving. It assumes times ascend through a file, as NLog writes them; small disorder (threads, several
processes on one file) is absorbed by the caller seeking to `start - slack` and filtering every entry by
time. `stamped_lines_reverse` reads from the end backwards, for "newest entry" questions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from .nlog import line_time

BLOCK = 16 * 1024  # one read while probing
LINEAR = 64 * 1024  # below this span, step through entries instead of halving
_STAMP_BYTES = 40  # enough bytes after a line start to recognise a timestamp (BOM + 31)


def stamped_lines(f: BinaryIO, pos: int, size: int) -> Iterator[tuple[int, datetime]]:
    """(offset, time) of each line that starts at or after `pos` (before `size`) with a timestamp."""
    if pos >= size:
        return
    base = max(pos - 1, 0)  # one byte back: is `pos` itself a line start?
    f.seek(base)
    buf = f.read(min(BLOCK, size - base))
    i: int | None = 0 if pos == 0 else _after_newline(buf, 0)
    while True:
        if i is None:  # no line start in buf: read on
            if base + len(buf) >= size:
                return
            base += len(buf)
            buf = f.read(min(BLOCK, size - base))
            if not buf:
                return
            i = _after_newline(buf, 0)
            continue
        if base + i >= size:
            return
        if len(buf) - i < _STAMP_BYTES and base + len(buf) < size:
            more = f.read(min(BLOCK, size - base - len(buf)))
            if more:
                buf, base, i = buf[i:] + more, base + i, 0
                continue
        time = line_time(buf, i)
        if time is not None:
            yield base + i, time
        i = _after_newline(buf, i)


def _after_newline(buf: bytes, pos: int) -> int | None:
    nl = buf.find(b"\n", pos)
    return nl + 1 if nl >= 0 else None


def seek_time(f: BinaryIO, size: int, target: datetime, lo: int = 0) -> int:
    """Offset of the first entry (at or after `lo`) whose time is >= target; `size` when there is none.

    Predicate over offsets p: "the first stamped line at or after p is missing or >= target". It is false
    at `lo` (checked first) and true at `size`; halving keeps that invariant until the span is small,
    then a linear walk finds the entry.
    """
    first = next(stamped_lines(f, lo, size), None)
    if first is None:
        return size
    if first[1] >= target:
        return first[0]
    lo, hi = first[0], size
    while hi - lo > LINEAR:
        mid = (lo + hi) // 2
        entry = next(stamped_lines(f, mid, hi), None)
        if entry is None or entry[1] >= target:
            hi = mid
        else:
            lo = entry[0]
    for offset, time in stamped_lines(f, lo, size):
        if time >= target:
            return offset
    return size


def stamped_lines_reverse(
    f: BinaryIO, size: int, *, max_bytes: int | None = None, block: int = 64 * 1024
) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of each line that starts with a timestamp, from the end of the file backwards.

    Stops after reading `max_bytes` when given (a file with no timestamps near its end is not a log).
    """
    pos = size  # file offset of buf[0]
    buf = b""
    cut = 0  # lines starting at buf[cut:] have been handled
    read = 0
    while True:
        nl = buf.rfind(b"\n", 0, max(cut - 1, 0))
        if nl < 0 and pos > 0:
            if max_bytes is not None and read >= max_bytes:
                return
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            read += len(chunk)
            buf, cut, pos = chunk + buf[:cut], cut + len(chunk), start
            if not cut:  # empty file
                return
            continue
        line_start = nl + 1  # 0 when nl < 0: the first line of the file
        line = buf[line_start:cut]
        if line_time(line) is not None:
            yield pos + line_start, line
        if line_start == 0:
            return
        cut = line_start
