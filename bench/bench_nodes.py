"""Benchmark: every node behind the load balancer (not a test).

    .venv/bin/python bench/bench_nodes.py [--rounds 3] [--nodes 8]

A whole run of every check, browser and report included, against the sandbox with one web server
(`pytest --env sandbox`: the node checks skip as not configured) and with N behind its name
(`pytest --env sandbox --sandbox-nodes N`: every check, plus the five node checks, a browser per node).
Target: the N-node run takes at most 1.5 × the single-node run + 2 s per node. The rounds are interleaved so that
the machine's load (it is shared) hits both kinds alike; median and best are given, with the load average and the
node checks' own times from the JUnit XML. Results go to bench/RESULTS-nodes.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS-nodes.md"


def run(work: Path, *args: str) -> tuple[float, str, dict[str, float]]:
    """Wall time of one `pytest` run, its counts line, and each node check's time (JUnit)."""
    junit = work / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--report-dir", str(work / "reports"),
               f"--junitxml={junit}", "--env", "sandbox", *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    checks = {case.get("name", ""): float(case.get("time", 0)) for case in ET.parse(junit).getroot().iter("testcase")
              if case.get("classname", "").endswith("test_nodes")} if junit.exists() else {}
    return wall, lines[-1] if lines else f"no output (exit {done.returncode})", checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=8)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    load_before = os.getloadavg()
    single: list[float] = []
    many: list[float] = []
    checks: dict[str, list[float]] = {}
    single_last = many_last = ""
    with tempfile.TemporaryDirectory(prefix="bench-nodes-") as tmp:
        for n in range(args.rounds):
            wall, single_last, _ = run(Path(tmp) / f"single-{n}")
            single.append(wall)
            wall, many_last, times = run(Path(tmp) / f"many-{n}", "--sandbox-nodes", str(args.nodes))
            many.append(wall)
            for name, seconds in times.items():
                checks.setdefault(name, []).append(seconds)
    load_after = os.getloadavg()

    one, all_nodes = statistics.median(single), statistics.median(many)
    target = 1.5 * one + 2 * args.nodes
    rows = [
        "| run | best | median | target | notes |",
        "|---|---|---|---|---|",
        f"| one web server, every check incl. browser, report included | {min(single):.1f} s | {one:.1f} s | — | "
        f"`{single_last}` (the node checks skip: not configured) |",
        f"| {args.nodes} nodes, every check incl. a browser per node, report included | {min(many):.1f} s | "
        f"{all_nodes:.1f} s | ≤ 1.5 × {one:.1f} + 2 × {args.nodes} = {target:.1f} s "
        f"({'met' if all_nodes <= target else 'MISSED'}) | `{many_last}` |",
    ]
    per_check = [f"| `{name}` | {statistics.median(times):.2f} s |" for name, times in sorted(checks.items())]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        "# Benchmark: every node behind the load balancer", "",
        f"`.venv/bin/python bench/bench_nodes.py --rounds {args.rounds} --nodes {args.nodes}` — {when}, "
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{load_before[0]:.1f} before / {load_after[0]:.1f} after (the machine is shared with other work; wall "
        "times include it).", "",
        "Wall time of `pytest --env sandbox` from start to exit (sandbox start, every check, the Allure report), "
        f"rounds interleaved; the {args.nodes} nodes listen on 127.0.0.1 … 127.0.0.{args.nodes} behind one name.", "",
        *rows, "",
        f"The node checks of the {args.nodes}-node runs (median of the rounds, from the JUnit XML): each asks every "
        "node side by side, one thread per node; the portal check starts a browser per node (the resolver rule "
        "belongs to the browser process): a few Playwright drivers (starting one costs more than a browser) each "
        "start their nodes' browsers in turn.", "",
        "| check | median |", "|---|---|", *per_check, "",
    ])
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0 if all_nodes <= target else 1


if __name__ == "__main__":
    sys.exit(main())
