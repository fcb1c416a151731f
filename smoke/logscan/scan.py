"""The scan: Error/Fatal entries in the window, grouped, with waivers applied.

Per file the cost follows the window, not the file: a binary search by timestamp finds the window's
first byte (and its last, when the window has an end), then the window is read in large binary chunks
and `search` finds the `[Error]`/`[Fatal]` tags (stringzilla, else `re`). Only lines holding a tag are
parsed; a tag counts only when it is the level of an entry header (not inside a message or a stack
trace). The next chunk is read in a second thread while the current one is searched (reads release the
GIL), so I/O and searching overlap. Entries are counted by their raw (logger, message) bytes; decoding,
waivers and the signature cost once per distinct message, not once per entry. A large range is shared with a
helper process on another CPU (`parts`): cut into slices at entry starts, this process scans from the front, the
helper from the back, and the helper's groups are merged after this process's.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import BinaryIO

from smoke.ground.collector import no_cycle_collection

from . import parts as helpers
from . import search
from .clock import LOCAL, LogClock, Window
from .errors import LogPathError
from .files import DEFAULT_GLOBS, PathLike, discover, order
from .nlog import (
    BOM,
    HEADER_RE,
    LEVEL_GROUP,
    SEVERITY_BYTES,
    check_levels,
    decode,
    holds_entries,
    line_time,
    parse_timestamp,
    signature,
)
from .results import FileScan, FindingGroup, ScanResult, Waiver
from .search import Buffer, Finder, tag_finder
from .seek import seek_time

DEFAULT_LEVELS = ("Error", "Fatal")
CHUNK = 4 * 1024 * 1024
# Entries a little out of order (threads, several processes on one file) must not be missed at the edges.
SEEK_SLACK = timedelta(minutes=5)
# A file last written this long before the window start holds nothing in it (margin for share clocks).
MTIME_SLACK = timedelta(hours=2)
# A file with no entry header in its first bytes is no NLog file (binary, another format, UTF-16).
HEAD = 64 * 1024
NOT_A_LOG = "no NLog entries"
EXCERPT_LINES = 30
EXCERPT_CHARS = 4000

_Collect = Callable[[int, "re.Match[bytes]"], None]  # (file offset of the entry, its header)


def scan(
    paths: Iterable[PathLike],
    window: Window | datetime,
    *,
    waivers: Sequence[Waiver] = (),
    globs: Sequence[str] = DEFAULT_GLOBS,
    levels: Sequence[str] = DEFAULT_LEVELS,
    clock: LogClock = LOCAL,
    today: date | None = None,
    seek: bool = True,
    chunk_size: int = CHUNK,
    processes: int | None = None,
    split_from: int = helpers.SPLIT_FROM,
) -> ScanResult:
    """Scan the log files under `paths` for `levels` entries in `window` (log-clock times).

    `clock` only serves to compare file modification times with the window (to skip old files unread);
    `today` decides which waivers have expired (default: this machine's date). `seek=False` reads every
    file from its first byte (for files whose timestamps are known to jump back). A file range of at least
    `split_from` bytes is shared by `processes` processes (default: one per CPU, at most `parts.MOST`).
    """
    if isinstance(window, datetime):
        window = Window(window)
    today = today or date.today()
    active = [waiver for waiver in waivers if not waiver.expired(today)]
    expired = [waiver for waiver in waivers if waiver.expired(today)]
    levels = check_levels(levels)
    tags = tag_finder(levels)
    groups = _Groups(active, levels, window)
    patterns = [(waiver.pattern, waiver.justification) for waiver in active]
    job = helpers.Job(window.start, window.end, levels, patterns, search.ENGINE, min(chunk_size, helpers.SHARED_CHUNK))
    share = helpers.Share(helpers.default_processes() if processes is None else processes, split_from, chunk_size, job)
    oldest_mtime = _instant(clock, _shift(window.start, -MTIME_SLACK)) if seek else None

    files = discover(paths, globs)
    with no_cycle_collection():  # many small objects, no cycles
        scans = [_scan_file(path, window, tags, groups, oldest_mtime, seek, share) for path in files]
        strangers = [str(s.path) for s in scans if s.skipped == NOT_A_LOG]
        if strangers and len(strangers) == len(scans):
            raise LogPathError.not_a_log(strangers)
        found, waived = groups.results(expired)
    notes = [] if files else [f"no log files matching {', '.join(globs)} in the given paths"]
    notes += [f"no NLog entries in {path}: is this a log file? (not read)" for path in strangers]
    return ScanResult(window, scans, found, waived, expired, notes)


def open_same(path: str, identity: tuple[int, int]) -> BinaryIO | None:
    """The file at `path` opened, if it is still the one the caller has open (`identity`: device and inode)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 (the helper process reads it until it ends)
    except OSError:
        return None  # the caller, which has it open, reads it (and says why when it cannot)
    if helpers.identity(os.fstat(f.fileno())) != identity:
        f.close()
        return None
    return f


def scan_slices(f: BinaryIO, path: str, job: helpers.Job, slices: Iterable[tuple[int, int, int]]) -> helpers.Part:
    """A helper process's share: the entries of each (start, end, index) slice of `f` grouped together, the
    entries of slice i numbered from i << SLICE_SEQ (the slices may come in any order)."""
    groups = _Groups([Waiver(*waiver) for waiver in job.waivers], job.levels, Window(job.start, job.end))
    groups.RAW_LIMIT = helpers.HELPER_RAW_LIMIT
    tags, collect = tag_finder(job.levels, job.engine), partial(groups.add, Path(path))
    counted = 0
    with no_cycle_collection():
        for start, end, index in slices:
            groups.entries = first = index << helpers.SLICE_SEQ
            _search(f, start, end, tags, collect, job.chunk_size)  # type: ignore[arg-type]
            counted += groups.entries - first
        return counted, groups.part()


def _shift(time: datetime, delta: timedelta) -> datetime:
    try:
        return time + delta
    except OverflowError:
        return datetime.min if delta < timedelta() else datetime.max


def _instant(clock: LogClock, naive: datetime) -> float | None:
    """Seconds since the epoch of a log-clock time; None where the platform cannot say (far past)."""
    try:
        return clock.from_log(naive).timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def _scan_file(
    path: Path,
    window: Window,
    tags: Finder,
    groups: _Groups,
    oldest_mtime: float | None,
    seek: bool,
    share: helpers.Share,
) -> FileScan:
    try:
        stat = path.stat()
        if oldest_mtime is not None and stat.st_mtime < oldest_mtime:
            return FileScan(path, stat.st_size, skipped="last written before the window")
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size and not holds_entries(f.read(HEAD)):
                return FileScan(path, size, skipped=NOT_A_LOG)
            start, end = 0, size
            if seek:
                start = seek_time(f, size, _shift(window.start, -SEEK_SLACK))
                if window.end is not None:
                    end = seek_time(f, size, _shift(window.end, SEEK_SLACK + timedelta(microseconds=1)), start)
            result = FileScan(path, size, start, end)

            before = groups.entries
            bounds = share.bounds(f, start, end)
            collect = partial(groups.add, path)
            if len(bounds) == 2:
                _search(f, start, end, tags, collect, share.chunk_size)
                result.entries = groups.entries - before
                return result
            fstat, chunk_size = os.fstat(f.fileno()), share.job.chunk_size
            with helpers.Helpers(path, fstat, bounds, share.job, share.processes) as others:
                for lo, hi in others.front():
                    _search(f, lo, hi, tags, collect, chunk_size)
                result.entries = groups.entries - before
                groups.flush()  # while the helpers finish their last slices
                for count, found in others.results():
                    groups.merge_part(path, before, found)
                    result.entries += count
            groups.entries = before + (len(bounds) << helpers.SLICE_SEQ)  # later entries come after the helpers'
            return result
    except FileNotFoundError:
        return FileScan(path, 0, skipped="vanished while scanning (rotated?)")
    except OSError as exc:
        raise LogPathError.unreadable(path, exc) from None


def _search(f: io.BufferedReader, start: int, end: int, tags: Finder, collect: _Collect, chunk_size: int) -> None:
    """Hand the header of every entry in [start, end) whose level tag `tags` finds to `collect`, without
    splitting lines: a line cut by a chunk boundary is completed from the next chunk (`carry`)."""
    match_header = HEADER_RE.match

    def find(buf: Buffer, lo: int, hi: int, offset: int) -> None:
        for tag in tags(buf, lo, hi):
            line = buf.rfind(b"\n", lo, tag) + 1 or lo
            if buf.find(b"] - ", line, tag) >= 0:
                continue  # quoted in a message: a "] - " before it closes the real level (cheap pre-check)
            header = match_header(buf, line, hi)
            if header is not None and header.start(LEVEL_GROUP) == tag + 1:  # the level, not a quote
                collect(offset + line, header)

    carry, carry_at = b"", start
    for pos, buf, size in _chunks(f, start, end, chunk_size):
        last = size if pos + size >= end else buf.rfind(b"\n", 0, size) + 1
        if last == 0:  # a single line longer than a chunk
            carry, carry_at = carry + buf[:size], carry_at if carry else pos
            continue
        lo = 0
        if carry:
            lo = buf.find(b"\n", 0, size) + 1 or size
            head = carry + buf[:lo]
            find(head, 0, len(head), carry_at)
            carry = b""
        find(buf, lo, last, pos)
        if last < size:
            carry, carry_at = bytes(buf[last:size]), pos + last
    if carry:  # the file shrank under us
        find(carry, 0, len(carry), carry_at)


def _chunks(f: io.BufferedReader, start: int, end: int, chunk_size: int) -> Iterator[tuple[int, Buffer, int]]:
    """(offset, buffer, length) chunks of [start, end). For more than one chunk, two buffers are reused
    (no fresh pages per chunk) and the next chunk is read in a second thread while the caller searches
    the current one; a buffer is refilled only once the caller has asked for the next chunk."""
    f.seek(start)
    if end - start <= chunk_size:
        data = f.read(end - start) if end > start else b""
        if data:
            yield start, data, len(data)
        return
    buffers = (bytearray(chunk_size), bytearray(chunk_size))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="logscan-read") as reader:
        pos, current = start, 0
        pending = reader.submit(_fill, f, buffers[current], min(chunk_size, end - pos))
        while True:
            size = pending.result()
            if not size:
                return
            following = pos + size
            if following < end:
                pending = reader.submit(_fill, f, buffers[1 - current], min(chunk_size, end - following))
            yield pos, buffers[current], size
            if following >= end:
                return
            pos, current = following, 1 - current


def _fill(f: io.BufferedReader, buffer: bytearray, size: int) -> int:
    view = memoryview(buffer)[:size]
    filled = 0
    while filled < size:
        count = f.readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


@dataclass
class _Same:
    """Entries with the same logger and message bytes: counted in the scan loop, normalised once at a flush.
    `*_seq` number entries in the order they were found, so that ties go the way one pass would take them."""

    first: datetime
    last: datetime
    level: bytes  # the most severe, the first found among equals
    level_seq: int
    first_seq: int  # the first entry found at `first`
    first_at: tuple[Path, int]
    files: list[Path]
    count: int = 1


@dataclass
class _Group:
    found: FindingGroup
    rank: int  # of found.level
    level_seq: int
    first_seq: int
    first_at: tuple[Path, int]
    file_set: set[Path]


class _Groups:
    """Accumulates entries into groups keyed by (waiver, logger, signature): per entry only a dict keyed by the
    raw (logger, message) bytes is touched; decoding, waiver matching and the signature are done once per
    distinct message when that dict is flushed into the groups (at the end, or when it holds RAW_LIMIT)."""

    RAW_LIMIT = 10_000  # distinct messages held before a flush: bounds the memory of a scan of unique messages

    def __init__(self, waivers: list[Waiver], levels: Sequence[str], window: Window) -> None:
        self.waivers = waivers
        self.levels = {level.encode("ascii") for level in levels}
        self.start, self.end = window.start, window.end
        self.entries = 0  # also the sequence number of the last entry counted
        self.raw: dict[tuple[bytes, bytes], _Same] = {}
        self.groups: dict[tuple[int, str, str], _Group] = {}

    def add(self, path: Path, offset: int, header: re.Match[bytes]) -> None:
        """Count the entry if its level is one of ours and its time is inside the window."""
        level = header.group(LEVEL_GROUP)
        if level not in self.levels:
            return
        time = parse_timestamp(header.group(1))
        if time is None or time < self.start or (self.end is not None and time > self.end):
            return
        self.entries += 1
        key = (header.group(3), header.group(5))
        same = self.raw.get(key)
        if same is None:
            self.raw[key] = _Same(time, time, level, self.entries, self.entries, (path, offset), [path])
            if len(self.raw) >= self.RAW_LIMIT:
                self.flush()
            return
        same.count += 1
        # The second test only for a helper process, which may get a file's slices out of order.
        if time < same.first or (time == same.first and self.entries < same.first_seq):
            same.first, same.first_seq, same.first_at = time, self.entries, (path, offset)
        elif time > same.last:
            same.last = time
        if level != same.level and SEVERITY_BYTES.get(level, -1) > SEVERITY_BYTES.get(same.level, -1):
            same.level, same.level_seq = level, self.entries
        if path is not same.files[-1] and path not in same.files:
            same.files.append(path)

    def flush(self) -> None:
        """Merge the raw groups into the groups, in the order each was first found."""
        waivers, merge = self.waivers, self._merge
        for (raw_logger, raw_message), same in self.raw.items():
            logger, message = decode(raw_logger), decode(raw_message)
            waiver = -1
            for index, candidate in enumerate(waivers):
                if candidate.matches(logger, message):
                    waiver = index
                    break
            merge((waiver, logger, signature(message)), message, same)
        self.raw.clear()

    def _merge(self, key: tuple[int, str, str], message: str, same: _Same) -> None:
        group = self.groups.get(key)
        rank = SEVERITY_BYTES.get(same.level, -1)
        if group is None:
            found = FindingGroup(key[1], key[2], decode(same.level), message, same.count, same.first, same.last, [])
            files = set(same.files)
            self.groups[key] = _Group(found, rank, same.level_seq, same.first_seq, same.first_at, files)
            return
        found = group.found
        found.count += same.count
        if rank > group.rank or (rank == group.rank and same.level_seq < group.level_seq):
            found.level, group.rank, group.level_seq = decode(same.level), rank, same.level_seq
        if same.first < found.first or (same.first == found.first and same.first_seq < group.first_seq):
            found.first, found.message = same.first, message
            group.first_seq, group.first_at = same.first_seq, same.first_at
        if same.last > found.last:
            found.last = same.last
        group.file_set.update(same.files)

    def part(self) -> list[helpers.PartGroup]:
        """What a helper process found in its slices of one file, as plain data (see `merge_part`)."""
        self.flush()
        groups = [(key, g, g.found) for key, g in self.groups.items()]
        return [
            (key, f.message, f.first, f.last, f.level, g.level_seq, g.first_seq, g.first_at[1], f.count)
            for key, g, f in groups
        ]

    def merge_part(self, path: Path, base: int, found: list[helpers.PartGroup]) -> None:
        """Merge the groups a helper found in slices of `path`, numbered (`scan_slices`) after the entries of this
        process's slices; `base`: the number of the last entry before the file."""
        self.flush()
        files = [path]
        for key, message, first, last, level, level_seq, first_seq, offset, count in found:
            seqs = (base + level_seq, base + first_seq)
            self._merge(key, message, _Same(first, last, level.encode("ascii"), *seqs, (path, offset), files, count))

    def results(self, expired: list[Waiver]) -> tuple[list[FindingGroup], list[FindingGroup]]:
        self.flush()
        found: list[FindingGroup] = []
        waived: list[FindingGroup] = []
        for key, group in self.groups.items():
            finding = group.found
            finding.files = sorted(group.file_set, key=order)
            if key[0] >= 0:
                finding.waiver = self.waivers[key[0]]
                waived.append(finding)
            else:
                finding.expired_waiver = next((w for w in expired if w.matches(finding.logger, finding.message)), None)
                found.append(finding)
        self._read_excerpts()
        return sorted(found, key=_rank), sorted(waived, key=_rank)

    def _read_excerpts(self) -> None:
        """Each group's first entry, each file opened once (on a share an open costs a round trip)."""
        by_file: dict[Path, list[tuple[int, FindingGroup]]] = {}
        for group in self.groups.values():
            path, offset = group.first_at
            by_file.setdefault(path, []).append((offset, group.found))
        for path, wanted in by_file.items():
            try:
                with open(path, "rb") as f:
                    for offset, finding in sorted(wanted, key=lambda item: item[0]):
                        finding.excerpt = _excerpt(f, offset, EXCERPT_LINES, EXCERPT_CHARS)
            except OSError:
                continue  # gone since: no excerpt


def _rank(group: FindingGroup) -> tuple[int, datetime, str, str]:
    """Most frequent first, then the earliest."""
    return -group.count, group.first, group.logger, group.signature


def read_excerpt(path: Path, offset: int, max_lines: int = EXCERPT_LINES, max_chars: int = EXCERPT_CHARS) -> str:
    """The entry at `offset`: its first line and continuation lines, decoded, cut to a sane size."""
    try:
        with open(path, "rb") as f:
            return _excerpt(f, offset, max_lines, max_chars)
    except OSError:
        return ""


def _excerpt(f: BinaryIO, offset: int, max_lines: int, max_chars: int) -> str:
    f.seek(offset)
    buf = f.read(max_chars * 4)
    data, cut_short = buf.removeprefix(BOM), len(buf) == max_chars * 4
    kept: list[bytes] = []
    pos = 0
    while len(kept) <= max_lines:  # one line more than shown tells whether the excerpt is cut
        end = data.find(b"\n", pos)
        line = data[pos:] if end < 0 else data[pos:end]
        if kept and ((end < 0 and cut_short) or line_time(line) is not None):
            break  # the next entry, or a last line the read may have cut
        kept.append(line)
        if end < 0:
            break
        pos = end + 1
    text = "\n".join(decode(line.rstrip(b"\r")) for line in kept[:max_lines]).rstrip()
    cut = len(kept) > max_lines or len(text) > max_chars
    return text[:max_chars] + ("\n[... cut]" if cut else "")
