"""A large byte range of one log file shared between this process and helper processes, one CPU each.

The signature work per distinct message holds the GIL, so threads would not help. The range is cut at entry
starts (`seek.stamped_lines`) into one slice per process; this process scans the first slice while each helper
(a fresh interpreter, started the same way on every platform: no fork) scans one of the others and hands back
its groups as plain data, merged in file order (`scan._Groups.merge_part`). Only a range of `SPLIT_FROM` bytes
or more is shared: below that, starting a helper costs more than it saves.

A helper ignores Ctrl-C (its parent decides), is killed when the parent stops early, ends by itself when its
parent is gone (its stdin closes), and never prints: what it says on stderr ends in a file, and a crash
becomes one line naming it. A helper that finds the path no longer names the file the parent has open (rotated
between the two opens) says so, and the parent scans that slice itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO

from smoke.ground.interrupts import own_process_group

from .errors import LogScanError
from .seek import stamped_lines

# Measured on a 2-CPU Linux VM (bench/RESULTS-logscan.md): a helper costs ~0.1 s to start and import; a
# range of distinct messages is scanned at ~1.3 ms/MiB, a repetitive one at ~0.35 ms/MiB. Starting a
# process on Windows costs several times more, so the threshold stays well above the break-even.
SPLIT_FROM = 128 * 1024 * 1024
HEAD_START = 64 * 1024 * 1024  # more bytes for this process, which starts at once (~0.1 s of distinct messages)
MOST = 2  # processes by default, whatever the CPU count: each adds 20-30 MB (the memory target is 64 MB)
SHARED_CHUNK = 1024 * 1024  # the reads of a shared range: two buffers per process (as fast as 4 MiB, 6 MB less)
_LENGTH = 8  # bytes of the job's length on the helper's stdin
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from smoke.logscan.parts import serve; serve()"
_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding this `smoke`, whichever is installed

# key (waiver index, logger, signature), message, first, last, level, level_seq, first_seq, first offset, count
PartGroup = tuple[tuple[int, str, str], str, datetime, datetime, str, int, int, int, int]
Part = tuple[int, list[PartGroup]]  # entries counted, groups


@dataclass(frozen=True)
class Job:
    """What a helper needs besides its slice: plain data, pickled to its stdin."""

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
        """[start, ..., end]: one slice per process, each cut at an entry start, the first (this process's) the
        larger by a head start; just [start, end] when the range is too small to share."""
        span = end - start
        if self.processes < 2 or span < max(self.split_from, 1):
            return [start, end]
        head = min(HEAD_START, span // (2 * self.processes))
        helper = (span - head) // self.processes
        if not helper:
            return [start, end]
        cuts = [start]
        for at in range(end - helper * (self.processes - 1), end, helper):
            entry = next(stamped_lines(f, max(at, cuts[-1] + 1), end), None)
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


class Helpers:
    """Helper processes for the slices after the first of `bounds`; the caller scans the first meanwhile."""

    def __init__(self, path: Path, stat: os.stat_result, bounds: list[int], job: Job) -> None:
        self.path = path
        self.slices = list(zip(bounds[1:-1], bounds[2:], strict=True))
        self.procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        self.request = [(str(path), lo, hi, job, identity(stat)) for lo, hi in self.slices]

    def __enter__(self) -> Helpers:
        try:
            for request in self.request:
                self.procs.append(self._start(request))
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()

    def _start(self, request: tuple[Any, ...]) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
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
        job = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            assert proc.stdin is not None
            proc.stdin.write(len(job).to_bytes(_LENGTH, "big") + job)
            proc.stdin.flush()  # and left open: the helper ends when it closes
        except OSError:
            pass  # it died at once: results() says how
        return proc, errors

    def results(self) -> Iterator[tuple[int, int, Part | None]]:
        """(start, end, what was found) of each helper's slice, in file order; None: scan it yourself."""
        for (lo, hi), (proc, errors) in zip(self.slices, self.procs, strict=True):
            assert proc.stdout is not None
            data = proc.stdout.read()
            code = proc.wait()
            try:
                part = pickle.loads(data) if code == 0 else None
            except (pickle.UnpicklingError, EOFError, ValueError):
                code = code or -1
            if code != 0:
                raise HelperError(
                    f"logs: the helper process scanning bytes {lo}-{hi} of {self.path} failed ({_why(code, errors)})"
                    " — scan again; if it recurs, scan with processes=1 and report this line"
                )
            yield lo, hi, part

    def _stop(self) -> None:
        """Kill what still runs (an interrupt, an error, or a helper the caller stopped waiting for)."""
        for proc, errors in self.procs:
            if proc.poll() is None:
                proc.kill()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            errors.close()
        self.procs = []


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
    """A helper process: one job from stdin, its result to stdout, then exit at once (nothing to tear down)."""
    for name in ("SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    stdin = sys.stdin.buffer
    size = int.from_bytes(stdin.read(_LENGTH), "big")
    path, start, end, job, ident = pickle.loads(stdin.read(size))
    threading.Thread(target=_end_with_parent, args=(stdin,), daemon=True).start()

    try:
        from .scan import scan_part  # the scan imports this module

        data = pickle.dumps(scan_part(path, start, end, job, ident), protocol=pickle.HIGHEST_PROTOCOL)
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BaseException:  # its last line goes into the parent's one; no interpreter shutdown with a blocked reader
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)


def _end_with_parent(stdin: BinaryIO) -> None:
    """The parent keeps our stdin open until it has read the result: end of file means it is gone."""
    while stdin.read(4096):
        pass
    os._exit(3)
