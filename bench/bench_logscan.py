"""Benchmark of the NLog scanner against `LC_ALL=C grep -c '\\[Error\\]'` (not a test).

    .venv/bin/python -m bench.bench_logscan [--size-mb 1024] [--rounds 5] [--dir /tmp] [--keep DIR] [--engine re]

(from the project root: `-m` imports this checkout's smoke/, not whichever the virtualenv was installed from).
Writes the two corpora of bench/log_corpora.py — the repetitive one (three error messages repeating) and the
dense one (an Error every ~100 lines, no two messages alike) — into a temporary folder (or --keep DIR, where
they are reused by the next run), then times in interleaved rounds, page cache warm, per corpus:
  grep   LC_ALL=C grep -c '\\[Error\\]' FILE, its output into a pipe (GNU grep writing to /dev/null stops
         at the first match)
  full   scan() with a window covering the whole file (shared with helper processes: one per CPU, at most 2)
  full 1 the same in this process alone (processes=1), as before helper processes
  1%     scan() with a window covering the last 1% of the file
and the peak memory (RSS) of a fresh process running the full scan, its helper processes' added. Ratios are of
medians; the 1% window is divided by grep's full pass less grep's start-up (grep on an empty file). CPU time (this
process's threads, and its children: grep, the helpers) is given too: it is disturbed less by other work on a
shared machine.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.log_corpora import Corpus, write_dense, write_repetitive
from smoke.logscan import Window, scan, search

if sys.platform != "win32":
    import resource

ROOT = Path(__file__).resolve().parents[1]
WRITERS: dict[str, Callable[[Path, int], Corpus]] = {"dense": write_dense, "repetitive": write_repetitive}
TARGETS = {  # (corpus, run) -> the most the median may be, as a multiple of grep's
    ("dense", "full"): 1.0,
    ("repetitive", "full"): 0.5,
    ("dense", "1%"): 0.05,
    ("repetitive", "1%"): 0.05,
}
MEMORY_TARGET_MB = 64


def corpus(folder: Path, name: str, size_mb: int) -> tuple[Path, Corpus]:
    """The corpus file, written unless an earlier run with --keep left it (with its facts beside it)."""
    path, facts = folder / f"{name}-{size_mb}MiB" / "Command_Portal_Log.txt", folder / f"{name}-{size_mb}MiB.json"
    if path.exists() and facts.exists():
        saved = json.loads(facts.read_text())
        return path, Corpus(saved["errors"], *(datetime.fromisoformat(saved[k]) for k in ("first", "at_99", "last")))
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    written = WRITERS[name](path, size_mb * 1024 * 1024)
    print(f"{name}: written in {time.perf_counter() - started:.1f} s", flush=True)
    facts.write_text(json.dumps({k: v if isinstance(v, int) else v.isoformat() for k, v in written._asdict().items()}))
    return path, written


def grep_count(path: Path) -> int:
    run = subprocess.run(  # capture_output: into a pipe
        ["grep", "-c", r"\[Error\]", str(path)], env={**os.environ, "LC_ALL": "C"}, capture_output=True, text=True
    )
    return int(run.stdout.strip() or 0)


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children (grep)."""
    total = time.process_time()
    if sys.platform != "win32":
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += usage.ru_utime + usage.ru_stime
    return total


def peak_rss_mb(path: Path | None, start: datetime, engine: str) -> tuple[float, float] | None:
    """Peak RSS in MB of a fresh interpreter that imports the scanner and (given a path) scans the file in full, and
    the sum of its helper processes' peaks: VmHWM (Linux keeps ru_maxrss across exec, so the child would report this
    process's peak), the helpers' read from /proc every few milliseconds while they run."""
    if not Path("/proc/self/status").exists():
        return None
    program = (
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from smoke.logscan import scan, search\n"
        f"search.ENGINE = {engine!r}\n"
        + (f"scan([{str(path)!r}], datetime.fromisoformat({start.isoformat()!r}))\n" if path else "")
        + "print(next(line.split()[1] for line in Path('/proc/self/status').open() if line.startswith('VmHWM')))\n"
    )
    run = subprocess.Popen([sys.executable, "-c", program], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    helpers: dict[str, int] = {}
    while run.poll() is None:
        for pid in _children(run.pid):
            helpers[pid] = max(helpers.get(pid, 0), _hwm_kb(pid))
        time.sleep(0.003)
    out = run.stdout.read() if run.stdout else ""
    if run.returncode:
        raise RuntimeError(f"bench: the memory probe failed (exit code {run.returncode})")
    return int(out) / 1024, sum(helpers.values()) / 1024


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _hwm_kb(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM")), 0)
    except OSError:  # ended meanwhile
        return 0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def verdict(value: float, target: float, unit: str = "x") -> str:
    if value <= target:
        return f"met (≤ {target:g}{unit})"
    return f"MISSED by {value / target:.2f}x: {value:.2f}{unit} against ≤ {target:g}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="size of each corpus in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--dir", default=None, help="where to make the temporary folder (default: system temp)")
    parser.add_argument("--keep", default=None, help="write the corpora here and reuse them on the next run")
    parser.add_argument("--engine", choices=search.ENGINES, default=search.ENGINE, help="the scan's search engine")
    args = parser.parse_args()
    if shutil.which("grep") is None:
        print("bench: grep not found on PATH — the baseline needs GNU grep", file=sys.stderr)
        return 2
    search.ENGINE = args.engine
    where = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="logscan-bench-", dir=args.dir))
    where.mkdir(parents=True, exist_ok=True)
    needed = 2 * args.size_mb * 1024 * 1024 * 1.1
    if shutil.disk_usage(where).free < needed and not args.keep:
        print(f"bench: {needed / 2**20:.0f} MiB needed in {where} — use --size-mb or --dir", file=sys.stderr)
        return 2
    try:
        return measure(where, args)
    finally:
        if not args.keep:
            shutil.rmtree(where, ignore_errors=True)


def measure(where: Path, args: argparse.Namespace) -> int:
    corpora = {name: corpus(where, name, args.size_mb) for name in WRITERS}
    empty = where / "empty.txt"
    empty.write_bytes(b"")
    for path, _ in corpora.values():
        grep_count(path)  # warm the page cache
    runs: list[tuple[str, str, Callable[[], object]]] = [("-", "grep start-up", lambda: grep_count(empty))]
    for name, (path, facts) in corpora.items():
        everything = Window(facts.first - timedelta(seconds=1))
        runs += [
            (name, "grep", functools.partial(grep_count, path)),
            (name, "full", functools.partial(scan, [path], everything)),
            (name, "full 1", functools.partial(scan, [path], everything, processes=1)),
            (name, "1%", functools.partial(scan, [path], Window(facts.at_99))),
        ]
    times: dict[tuple[str, str], list[float]] = {(c, r): [] for c, r, _ in runs}
    cpu: dict[tuple[str, str], list[float]] = {(c, r): [] for c, r, _ in runs}
    found: dict[tuple[str, str], Any] = {}
    loads = [load()]
    for _ in range(args.rounds):
        for name, run, call in runs:
            started, cpu_started = time.perf_counter(), cpu_seconds()
            found[name, run] = call()
            times[name, run].append(time.perf_counter() - started)
            cpu[name, run].append(cpu_seconds() - cpu_started)
    loads.append(load())
    memory = {name: peak_rss_mb(path, facts.first, args.engine) for name, (path, facts) in corpora.items()}
    baseline = peak_rss_mb(None, datetime.now(), args.engine)

    median = {key: statistics.median(values) for key, values in times.items()}
    best_cpu = {key: min(values) for key, values in cpu.items()}
    startup = median["-", "grep start-up"]
    print()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cpus, Python {platform.python_version()}, {platform.system()}")
    print(f"load average (1 min) before/after: {loads[0]} / {loads[-1]}; search engine: {args.engine}")
    print(f"grep start-up (empty file, median): {startup * 1000:.1f} ms; {args.rounds} interleaved rounds")
    print()
    print("| corpus | run | wall median s | wall best s | CPU best s | median / grep | CPU / grep | target | verdict |")
    print("|---|---|---|---|---|---|---|---|---|")
    missed = 0
    for name, (_, facts) in corpora.items():
        result = found[name, "full"]
        assert result.entries == facts.errors, (name, result.entries, facts.errors)
        grep_median, grep_cpu = median[name, "grep"], best_cpu[name, "grep"]
        for run in ("grep", "full", "full 1", "1%"):
            key = (name, run)
            base = grep_median - startup if run == "1%" else grep_median
            ratio = median[key] / base
            target = TARGETS.get(key)
            missed += target is not None and ratio > target
            print(
                f"| {name} | {run} | {median[key]:.3f} | {min(times[key]):.3f} | {best_cpu[key]:.3f}"
                f" | {ratio:.2f}x | {best_cpu[key] / grep_cpu:.2f}x"
                f" | {f'≤ {target:g}x' if target else ''} | {verdict(ratio, target) if target else ''} |"
            )
    print()
    for name, (path, facts) in corpora.items():
        tail = found[name, "1%"].files[0]
        print(
            f"{name}: {path.stat().st_size / 2**20:.0f} MiB, {facts.errors} error/fatal entries,"
            f" grep counted {found[name, 'grep']} lines (quoted tags included); 1% window read"
            f" {tail.bytes_read / 2**20:.1f} MiB"
        )
    for name, peaks in memory.items():
        if peaks is None or baseline is None:
            print(f"peak memory ({name}): not measured on this platform")
            continue
        mb = sum(peaks)
        missed += mb > MEMORY_TARGET_MB
        print(
            f"peak memory of the full scan ({name}): {mb:.0f} MB RSS = {peaks[0]:.0f} MB this process + {peaks[1]:.0f}"
            f" MB helper processes (interpreter and imports alone: {baseline[0]:.0f} MB)"
            f" — {verdict(mb, MEMORY_TARGET_MB, ' MB')}"
        )
    print()
    print("wall rounds:", {f"{c} {r}": [round(v, 3) for v in values] for (c, r), values in times.items()})
    print("CPU rounds: ", {f"{c} {r}": [round(v, 3) for v in values] for (c, r), values in cpu.items()})
    print(f"\n{missed} target(s) missed" if missed else "\nevery target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
