"""Benchmark of the NLog scanner against `LC_ALL=C grep -c '\\[Error\\]'` (not a test).

    .venv/bin/python bench/bench_logscan.py [--size-mb 1024] [--rounds 5] [--dir /tmp]   (from the project root)

Writes an NLog corpus (BOM, CRLF, multi-line errors, "[Error]" quoted in Info messages) into a temporary
folder, deleted afterwards, then times in interleaved rounds, page cache warm:
  grep   LC_ALL=C grep -c '\\[Error\\]' FILE  (the baseline: one pass, counting lines)
  full   scan() with a window covering the whole file
  1%     scan() with a window covering the last 1% of the file
Targets: full <= 1.0x grep; 1% window <= 0.1x grep's full pass. The machine may be shared, so wall-clock
figures are given as the best and the median of the rounds, and CPU time (this process's threads, and
grep as a child) as the best: it does not count other work on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from smoke.logscan import ScanResult, Window, scan

if sys.platform != "win32":
    import resource

LOGGERS = [
    ("CSS.CMS.Core.Timer.Jobs.CASyncJob", "Synchronizing CA {n} (corp-ca{n}.example.com\\Issuing CA {n})"),
    ("Keyfactor.Web.API.Controllers.CertificatesController", "GET /KeyfactorAPI/Certificates?pq.pageReturned={n} 200"),
    ("CSS.CMS.Data.Repositories.CertificateRepository", "Loaded {n} certificates for collection {n} in {n} ms"),
    ("Keyfactor.Orchestrators.Services.AgentService", "Agent 3f2a1c9e-{n:04d}-4d2b-9c1e-0a1b2c3d4e5f checked in"),
    ("CSS.CMS.Workflow.Engine.WorkflowInstance", "Step {n} of workflow {n} completed"),
]
LEVELS = ["Trace", "Debug", "Debug", "Info", "Info", "Info", "Info", "Warn"]
ERRORS = [
    (
        "Keyfactor.Sql.Management.Upgrade.UpgradePlan",
        "Failed to run upgrade module Module{m}.sql: Execution Timeout Expired.",
    ),
    ("CSS.CMS.Core.Timer.Jobs.CASyncJob", "Unable to connect to CA 'corp-ca{n}.example.com\\Issuing CA' (0x800706BA)"),
    (
        "Keyfactor.Web.API.Controllers.EnrollmentController",
        "Enrollment failed for request {n}: The RPC server is unavailable.",
    ),
]
TRACE = "".join(f"   at CSS.CMS.Data.Layer{i}.Invoke(Int32 id)\r\n" for i in range(6))
ERROR_EVERY = 400  # entries
FATAL_EVERY = 40_000  # a multiple of ERROR_EVERY
QUOTED_EVERY = 1_000  # an Info entry that quotes "[Error]" in its message: found by grep, not an error
QUOTED = "Step {n} completed; the previous attempt logged [Error] - retried"


def write_corpus(path: Path, size: int, seed: int = 7) -> tuple[int, datetime, datetime, datetime]:
    """Entries every 2-40 ms until `size` bytes. Returns (error+fatal entries, first time, the time of
    the first entry past 99% of the bytes, last time)."""
    rnd = random.Random(seed)
    steps = [rnd.randrange(2_000, 40_000) for _ in range(9973)]  # microseconds between entries
    start = datetime(2026, 11, 20)
    elapsed, second, prefix = 0, -1, ""
    errors, written, at_99 = 0, 0, None
    with path.open("wb") as out:
        out.write(b"\xef\xbb\xbf")
        index = 0
        while written < size:
            batch: list[str] = []
            for _ in range(5000):
                index += 1
                elapsed += steps[index % len(steps)]
                if elapsed // 1_000_000 != second:  # strftime once a second, not once a line
                    second = elapsed // 1_000_000
                    prefix = f"{start + timedelta(seconds=second):%Y-%m-%d %H:%M:%S}"
                stamp = f"{prefix}.{elapsed % 1_000_000 // 100:04d}"
                if index % ERROR_EVERY == 0:
                    logger, message = ERRORS[index % len(ERRORS)]
                    level = "Fatal" if index % FATAL_EVERY == 0 else "Error"
                    text = message.format(n=index % 97, m=index % 5)
                    batch.append(f"{stamp} {logger} [{level}] - {text}\r\n{TRACE}")
                    errors += 1
                elif index % QUOTED_EVERY == 7:
                    batch.append(
                        f"{stamp} CSS.CMS.Workflow.Engine.WorkflowInstance [Info] - {QUOTED.format(n=index)}\r\n"
                    )
                else:
                    logger, message = LOGGERS[index % len(LOGGERS)]
                    batch.append(
                        f"{stamp} {logger} [{LEVELS[index % len(LEVELS)]}] - {message.format(n=index % 1000)}\r\n"
                    )
            data = "".join(batch).encode()
            if at_99 is None and written + len(data) >= size * 0.99:
                at_99 = start + timedelta(microseconds=elapsed)  # end of this batch: the window is < 1%
            out.write(data)
            written += len(data)
    assert at_99 is not None
    return errors, start + timedelta(microseconds=steps[1]), at_99, start + timedelta(microseconds=elapsed)


def grep_count(path: Path) -> int:
    run = subprocess.run(
        ["grep", "-c", r"\[Error\]", str(path)], env={**os.environ, "LC_ALL": "C"}, capture_output=True, text=True
    )
    return int(run.stdout.strip() or 0)


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children (grep). Unlike wall-clock
    time it does not count what else runs on a shared machine."""
    total = time.process_time()
    if sys.platform != "win32":
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += usage.ru_utime + usage.ru_stime
    return total


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="corpus size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--dir", default=None, help="where to make the temporary folder (default: system temp)")
    args = parser.parse_args()
    if shutil.which("grep") is None:
        print("bench: grep not found on PATH — the baseline needs GNU grep", file=sys.stderr)
        return 2
    size = args.size_mb * 1024 * 1024
    free = shutil.disk_usage(args.dir or tempfile.gettempdir()).free
    if free < size * 1.2:
        print(f"bench: {free >> 20} MiB free, {args.size_mb} MiB needed — use --size-mb or --dir", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="logscan-bench-", dir=args.dir) as folder:
        path = Path(folder) / "Command_Portal_Log.txt"
        started = time.perf_counter()
        errors, first, at_99, last = write_corpus(path, size)
        seconds = time.perf_counter() - started
        actual = path.stat().st_size
        print(
            f"corpus: {actual / 2**20:.0f} MiB, {errors} error/fatal entries, {first} .. {last},"
            f" written in {seconds:.1f} s"
        )
        grep_count(path)  # warm the page cache
        full, tail = Window(first - timedelta(seconds=1)), Window(at_99)

        times: dict[str, list[float]] = {"grep": [], "full": [], "1%": []}
        cpu: dict[str, list[float]] = {name: [] for name in times}
        loads = [os.getloadavg()[0]] if hasattr(os, "getloadavg") else []
        results: dict[str, ScanResult] = {}
        grep_lines = 0
        for _ in range(args.rounds):
            for name, window in (("grep", None), ("full", full), ("1%", tail)):
                started, cpu_started = time.perf_counter(), cpu_seconds()
                if window is None:
                    grep_lines = grep_count(path)
                else:
                    results[name] = scan([path], window)
                times[name].append(time.perf_counter() - started)
                cpu[name].append(cpu_seconds() - cpu_started)
        loads += [os.getloadavg()[0]] if hasattr(os, "getloadavg") else []

    assert results["full"].entries == errors, (results["full"].entries, errors)
    tail_scan = results["1%"].files[0]
    best = {name: min(values) for name, values in times.items()}
    median = {name: statistics.median(values) for name, values in times.items()}
    best_cpu = {name: min(values) for name, values in cpu.items()}
    print(f"machine: {cpu_model()}, {os.cpu_count()} cpus, Python {platform.python_version()}, {platform.system()}")
    if loads:
        print(f"load average (1 min) before/after: {loads[0]:.2f} / {loads[-1]:.2f}")
    print(f"grep -c '[Error]' counted {grep_lines} lines (quoted tags included); scan found {errors} entries")
    print(f"1% window read {tail_scan.bytes_read / 2**20:.1f} MiB of {actual / 2**20:.0f} MiB")
    print()
    print("| run | wall best s | wall median s | CPU best s | wall best / grep | wall median / grep | CPU / grep |")
    print("|---|---|---|---|---|---|---|")
    for name in times:
        print(
            f"| {name} | {best[name]:.3f} | {median[name]:.3f} | {best_cpu[name]:.3f}"
            f" | {best[name] / best['grep']:.2f}x | {median[name] / median['grep']:.2f}x"
            f" | {best_cpu[name] / best_cpu['grep']:.2f}x |"
        )
    print()
    print("wall rounds:", {name: [round(value, 3) for value in values] for name, values in times.items()})
    print("CPU rounds: ", {name: [round(value, 3) for value in values] for name, values in cpu.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
