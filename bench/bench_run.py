"""Benchmark: a whole run as an administrator meets it, report included (not a test).

    .venv/bin/python bench/bench_run.py [--rounds 3] [--waits 5]

1. A healthy run of every check against the sandbox, browser included: `pytest --env sandbox` end to end
   (sandbox start, checks, the single-file Allure report, summary). Target <= 20 s on a 2-core machine.
   The same run with raw results only (--alluredir) is the baseline that shows what the report costs.
2. The verdict for an unreachable server: `pytest --env sandbox --sandbox-fault api-down`, every check, report
   included. Target <= 10 s.
3. From the server answering again to the --wait-ready verdict: an in-process sandbox with slow-start=N, and
   readiness.wait_until_ready on its API and portal; the sandbox notes when it starts listening. Target <= 2 s.

The machine may be shared with other work: best and median of the rounds are given, with the load average.
Results go to bench/RESULTS-run.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.app import Sandbox  # noqa: E402
from sandbox.faults import ActiveFaults  # noqa: E402
from smoke.run import readiness  # noqa: E402
from smoke.run.report import ALLURE_ENV  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS-run.md"
TARGETS = {"healthy": 20.0, "unreachable": 10.0, "wait": 2.0}


def timed_run(reports: Path, *args: str, env: dict[str, str] | None = None) -> tuple[float, str, float | None]:
    """Wall time of one `pytest` run, its counts line, and pytest's own session time."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--report-dir", str(reports), *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    session = re.search(r" in (\d+\.\d+)s", "\n".join(lines[-3:]))
    last = lines[-1] if lines else f"no output (exit {done.returncode})"
    return wall, last, float(session.group(1)) if session else None


def render_alone(reports: Path) -> float:
    """A healthy run without the Allure command line, then `python -m smoke.run.report` on it: the render alone."""
    timed_run(reports, "--env", "sandbox", env={ALLURE_ENV: "/nonexistent/allure"})
    [run_dir] = [p.parent for p in (reports / "sandbox").glob("*/allurerc.mjs")]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "smoke.run.report", str(run_dir)], cwd=ROOT, check=True, capture_output=True,
                   timeout=600)
    return time.perf_counter() - started


def wait_latency(delay_s: float) -> tuple[float, int]:
    """Seconds from the sandbox listening again to wait_until_ready's verdict, and the polls it took."""
    with tempfile.TemporaryDirectory(prefix="bench-wait-") as state:
        sandbox = Sandbox(Path(state), ActiveFaults([f"slow-start={delay_s}"]), kerberos=False)
        sandbox.start()
        try:
            urls = [f"{sandbox.url}/KeyfactorAPI/Status/Endpoints", f"{sandbox.url}/KeyfactorPortal/"]
            waited = readiness.wait_until_ready(urls, 60, "60s", str(sandbox.ca_bundle), 5)
            verdict = time.time()
            assert sandbox.serving_since is not None
            return verdict - sandbox.serving_since, waited.attempts
        finally:
            sandbox.stop()


def line(name: str, values: list[float], target: float | None, note: str) -> str:
    best, median = min(values), statistics.median(values)
    goal = "—" if target is None else f"≤ {target:g} s ({'met' if median <= target else 'MISSED'})"
    return f"| {name} | {best:.2f} s | {median:.2f} s | {goal} | {note} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--waits", type=int, default=5, help="slow-start samples for the wait-ready latency")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    load_before = os.getloadavg()
    healthy, raw, down, renders, sessions = [], [], [], [], []
    healthy_last = down_last = ""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        for n in range(args.rounds):  # interleaved, so that a change in the machine's load hits each kind alike
            work = Path(tmp) / str(n)
            wall, healthy_last, session = timed_run(work / "healthy", "--env", "sandbox")
            healthy.append(wall)
            sessions += [session] if session is not None else []
            raw.append(timed_run(work / "raw", "--env", "sandbox", "--alluredir", str(work / "raw-results"))[0])
            wall, down_last, _ = timed_run(work / "down", "--env", "sandbox", "--sandbox-fault", "api-down")
            down.append(wall)
            renders.append(render_alone(work / "later"))
    delays = [1.0 + 0.37 * i for i in range(args.waits)]  # different phases of the poll interval
    waits = [wait_latency(delay) for delay in delays]
    load_after = os.getloadavg()

    latencies = [w for w, _ in waits]
    polls = ", ".join(str(n) for _, n in waits)
    rows = [
        "| run | best | median | target | notes |",
        "|---|---|---|---|---|",
        line("healthy sandbox, every check incl. browser, report included", healthy, TARGETS["healthy"],
             f"`{healthy_last}`; pytest's session time median {statistics.median(sessions):.2f} s"),
        line("same, raw results only (--alluredir): baseline", raw, None,
             "no HTML report, summary file or history"),
        line("the Allure render alone (python -m smoke.run.report)", renders, None,
             "of a healthy run: Node start, the single-file HTML (~4 MB with the screenshots), history"),
        line("unreachable server (api-down), every check, report included", down, TARGETS["unreachable"],
             f"`{down_last}`"),
        line("server answering again → --wait-ready verdict", latencies, TARGETS["wait"],
             f"max {max(latencies):.2f} s; slow-start {', '.join(f'{d:g}' for d in delays)} s; polls {polls}; "
             f"poll interval grows {readiness.FIRST_DELAY_S:g} → {readiness.MAX_DELAY_S:g} s"),
    ]
    header = [
        "# Benchmark: a whole run, report included",
        "",
        f"`.venv/bin/python bench/bench_run.py --rounds {args.rounds} --waits {args.waits}`"
        f" — {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load_before[0]:.1f} before / {load_after[0]:.1f} after "
        "(the machine is shared with other work; wall times include it).",
        "",
        "Wall time of `pytest` from start to exit: sandbox start (CA, Kerberos realm, SQL and HTTPS servers), the "
        "checks, then the single-file Allure report, the summary and the JUnit copy.",
        "",
    ]
    text = "\n".join([*header, *rows]) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
