"""A large byte range of one log file shared between this process and helper processes, one CPU each.

The signature work per distinct message holds the GIL, so threads would not help. The range is cut at entry
starts (`seek.stamped_lines`) into `SLICES` slices. This process takes slices from the front, each helper (a
fresh interpreter, started the same way on every platform: no fork) asks for slices from the back, one at a
time, until they meet: on a machine whose other CPU is busy, a slow helper simply does fewer slices, and one
still starting when the front reaches the back does none. A helper gathers all its slices in one set of
groups, numbering the entries of slice i from i·2^40 so that ties go as in one pass, and hands them back as
plain data, merged after this process's own (`scan._Groups.merge_part`). Only a range of `SPLIT_FROM` bytes
or more is shared: below that, starting a helper costs more than it can save.

A helper ignores Ctrl-C (its parent decides), is killed when the parent stops early, ends by itself when its
parent is gone (its next request or read fails), and never prints: what it says on stderr ends in a file, and
a crash becomes one line naming it. A helper that finds the path no longer names the file the parent has open
(rotated between the two opens) says so and takes no slice.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO

from smoke.ground.interrupts import own_process_group

from .errors import LogScanError
from .seek import stamped_lines

# Measured on a 2-CPU Linux VM at load 2-3 (bench/RESULTS-logscan.md): a helper costs ~0.1 s to start and
# import; sharing breaks even at ~150-200 MiB of distinct messages and ~300-400 MiB of repetitive ones, and costs
# 20-40 ms below that. Starting a process on Windows costs several times more.
SPLIT_FROM = 256 * 1024 * 1024
SLICES = 32  # per shared range: the most one process can be left waiting for the other is one slice
MOST = 2  # processes by default, whatever the CPU count: each adds 20-30 MB (the memory target is 64 MB)
SHARED_CHUNK = 1024 * 1024  # the reads of a shared range: two buffers per process (as fast as 4 MiB, 6 MB less)
HELPER_RAW_LIMIT = 5_000  # distinct messages a helper holds before merging them into its groups (~1 KB each)
# Tests set it so that this process waits, after its first slice, until every helper has taken one.
HELPERS_FIRST = False
SLICE_SEQ = 40  # entry numbers of slice i start at i << SLICE_SEQ (a slice holds fewer than 2^40 entries)
_LENGTH = 8  # bytes of a length prefix
_COMMAND = struct.Struct(">qqq")  # start, end, index of a slice; index -1: no more
_ASK, _DONE, _NOT_THE_FILE = b"?", b"=", b"-"
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from smoke.logscan.parts import serve; serve()"
_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding this `smoke`, whichever is installed

# key (waiver index, logger, signature), message, first, last, level, level_seq, first_seq, first offset, count
PartGroup = tuple[tuple[int, str, str], str, datetime, datetime, str, int, int, int, int]
Part = tuple[int, list[PartGroup]]  # entries counted, groups


@dataclass(frozen=True)
class Job:
    """What a helper needs besides the file: plain data, pickled to its stdin."""

    start: datetime
    end: datetime | None
    levels: tuple[str, ...]
    waivers: list[tuple[str, str]]  # (pattern, justification) of the active ones, in order
    engine: str
    chunk_size: int


@dataclass(frozen=True)
class Share:
    processes: int
    split_from: int
    chunk_size: int  # of a range this process scans alone
    job: Job

    def bounds(self, f: BinaryIO, start: int, end: int) -> list[int]:
        """[start, ..., end]: the slices of a range to share, each cut at an entry start; just [start, end] when
        the range is too small to share."""
        span, slices = end - start, SLICES
        if self.processes < 2 or span < max(self.split_from, 1) or slices < 2:
            return [start, end]
        cuts = [start]
        for k in range(1, slices):
            entry = next(stamped_lines(f, max(start + span * k // slices, cuts[-1] + 1), end), None)
            if entry is None:
                break
            cuts.append(entry[0])
        return cuts + [end]


def default_processes() -> int:
    """The CPUs this process may run on, at most MOST; 1 where no interpreter can be started (embedded Python)."""
    if not sys.executable:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]  # not on Windows/macOS
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MOST))


def identity(stat: os.stat_result) -> tuple[int, int]:
    """Which file a handle is: (device, inode), the volume serial and file index on Windows."""
    return stat.st_dev, stat.st_ino


class HelperError(LogScanError):
    pass


@dataclass(eq=False)
class _Helper:
    proc: subprocess.Popen[bytes]
    errors: IO[bytes]
    thread: threading.Thread | None = None
    claimed: list[int] = field(default_factory=list)
    part: Part | None = None
    failed: bool = False
    asked: threading.Event = field(default_factory=threading.Event)  # it took a slice, or will take none


class Helpers:
    """`processes - 1` helper processes for the slices between `bounds`; this process takes slices with `front()`
    meanwhile, then collects the helpers' groups with `results()`."""

    def __init__(self, path: Path, stat: os.stat_result, bounds: list[int], job: Job, processes: int) -> None:
        self.path = path
        self.slices = list(zip(bounds[:-1], bounds[1:], strict=True))
        self.request = pickle.dumps((str(path), job, identity(stat)), protocol=pickle.HIGHEST_PROTOCOL)
        self.count = min(processes, len(self.slices)) - 1
        self.helpers: list[_Helper] = []
        self.lock = threading.Lock()
        self.next, self.last = 1, len(self.slices) - 1  # unclaimed: next..last; slice 0 is this process's
        self.closed = False

    def __enter__(self) -> Helpers:
        try:
            for _ in range(self.count):
                helper = self._start()
                self.helpers.append(helper)
                helper.thread = threading.Thread(target=self._serve, args=(helper,), daemon=True)
                helper.thread.start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()

    def front(self) -> Iterator[tuple[int, int]]:
        """This process's slices, from the first on, until it meets the helpers'; helpers that have not asked
        for a slice by then are stopped."""
        yield self.slices[0]
        for helper in self.helpers if HELPERS_FIRST else ():
            while not helper.asked.wait(0.2):
                pass
        while (index := self._claim(front=True)) is not None:
            yield self.slices[index]
        with self.lock:
            self.closed = True
            idle = [helper for helper in self.helpers if not helper.claimed]
        for helper in idle:
            helper.proc.kill()

    def results(self) -> Iterator[Part]:
        """What each helper that took slices found (call after `front()` is exhausted)."""
        for helper in self.helpers:
            assert helper.thread is not None
            while helper.thread.is_alive():
                helper.thread.join(0.2)  # a bare join cannot be interrupted by Ctrl-C on Windows
            if helper.failed or (helper.claimed and helper.part is None):
                try:
                    code = helper.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:  # it broke its pipe but lives on
                    helper.proc.kill()
                    code = helper.proc.wait()
                where = str(self.path)
                if helper.claimed:
                    where = "bytes {}-{} of {}".format(*self.slices[helper.claimed[-1]], where)
                raise HelperError(
                    f"logs: the helper process scanning {where} failed ({_why(code, helper.errors)})"
                    " — scan again; if it recurs, scan with processes=1 and report this line"
                )
            if helper.part is not None:
                yield helper.part

    def _claim(self, front: bool, helper: _Helper | None = None) -> int | None:
        with self.lock:
            if self.closed or self.next > self.last:
                return None
            if front:
                self.next += 1
                return self.next - 1
            self.last -= 1
            assert helper is not None
            helper.claimed.append(self.last + 1)
            helper.asked.set()
            return self.last + 1

    def _start(self) -> _Helper:
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _stop, after the helper has ended)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, _ROOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                **own_process_group(),  # Ctrl-C at the terminal goes to this process, which stops the helpers
            )
        except OSError as exc:
            errors.close()
            raise HelperError(
                f"logs: could not start a helper process to scan {self.path} ({exc}) — scan with processes=1"
            ) from None
        return _Helper(proc, errors)

    def _serve(self, helper: _Helper) -> None:
        """A helper's requests, in a thread of this process: slices from the back while there are any."""
        stdin, stdout = helper.proc.stdin, helper.proc.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(len(self.request).to_bytes(_LENGTH, "big") + self.request)
            stdin.flush()
            while (said := stdout.read(1)) == _ASK:
                index = self._claim(front=False, helper=helper)
                lo, hi = self.slices[index] if index is not None else (-1, -1)
                stdin.write(_COMMAND.pack(lo, hi, -1 if index is None else index))
                stdin.flush()
            if said == _DONE:
                helper.part = pickle.loads(stdout.read(int.from_bytes(stdout.read(_LENGTH), "big")))
            elif said != _NOT_THE_FILE:
                helper.failed = bool(helper.claimed) or not self.closed  # not one stopped for being idle
        except (OSError, ValueError, EOFError, pickle.UnpicklingError):
            helper.failed = bool(helper.claimed) or not self.closed
        finally:
            helper.asked.set()

    def _stop(self) -> None:
        """Kill what still runs (an interrupt, an error, or a helper stopped for being idle)."""
        with self.lock:
            self.closed = True
        for helper in self.helpers:
            if helper.proc.poll() is None:
                helper.proc.kill()
            if helper.thread is not None:
                helper.thread.join(10)
            for stream in (helper.proc.stdin, helper.proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                helper.proc.wait(timeout=10)
            helper.errors.close()
        self.helpers = []


def _why(code: int, errors: IO[bytes]) -> str:
    errors.seek(0)
    lines = [line.strip() for line in errors.read().decode(errors="replace").splitlines() if line.strip()]
    said = f": {lines[-1]}" if lines else ""
    if code < 0:
        try:
            return f"ended by {signal.Signals(-code).name}{said}"
        except ValueError:
            pass
    return f"exit code {code}{said}"


def serve() -> None:
    """A helper process: the file and the job from stdin, then slices one by one while the parent has any; its
    groups to stdout; then exit at once (nothing to tear down, no interpreter shutdown with a blocked reader)."""
    for name in ("SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        path, job, ident = pickle.loads(stdin.read(int.from_bytes(stdin.read(_LENGTH), "big")))
        from .scan import open_same, scan_slices  # the scan imports this module

        f = open_same(path, ident)
        if f is None:
            stdout.write(_NOT_THE_FILE)
            stdout.flush()
            os._exit(0)

        def slices() -> Iterator[tuple[int, int, int]]:
            while True:
                stdout.write(_ASK)
                stdout.flush()
                command = stdin.read(_COMMAND.size)
                if len(command) < _COMMAND.size:
                    os._exit(3)  # the parent is gone
                lo, hi, index = _COMMAND.unpack(command)
                if index < 0:
                    return
                yield lo, hi, index

        data = pickle.dumps(scan_slices(f, path, job, slices()), protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_DONE + len(data).to_bytes(_LENGTH, "big") + data)
        stdout.flush()
    except BrokenPipeError:
        os._exit(3)  # the parent is gone
    except BaseException:  # its last line goes into the parent's one
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)
