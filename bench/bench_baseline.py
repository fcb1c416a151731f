"""Benchmark: taking a baseline of the sandbox configured large, and comparing two of them (not a test).

    .venv/bin/python bench/bench_baseline.py [--rounds 3] [--agents 10000]

Starts `python -m sandbox --configuration large --agents N` (2,000 templates, 500 roles, 50,000 stores, 1,000
alerts, N orchestrators; HTTPS, MIT Kerberos). Each round takes a baseline in a fresh process, exactly as
`pytest --baseline` does (smoke/run/baselines.py's Baselines.take: every area, every page, Kerberos, TLS verified,
the file and its sidecar written), and reports its wall time by phase and the process's peak memory (max RSS).
Then `python -m smoke.baseline diff` compares the first two baselines (identical: exit 0) and a copy with one
template changed (exit 1), each in a fresh process, wall time from start to exit.

Targets (issue 13): a baseline <= 30 s and <= 500 MB on a 2-core machine; the comparison <= 2 s. The machine may
be shared: best and median of interleaved rounds are given, and the load average. Results: bench/RESULTS-baseline.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

RESULTS = PROJECT / "bench" / "RESULTS-baseline.md"
TAKE_S, TAKE_MB, COMPARE_S = 30.0, 500.0, 2.0


def one_baseline(env_file: str, folder: str) -> dict[str, Any]:
    """In a fresh process: one baseline taken as `pytest --baseline` takes it; phase times and peak memory."""
    from smoke.keyfactor import configuration
    from smoke.run import environment
    from smoke.run.baselines import TITLES, Baselines

    started = time.perf_counter()
    settings = environment.load(env_file, {})
    baselines = Baselines(settings, Path(folder), taking=True)
    phases: dict[str, float] = {}
    for key in TITLES:  # each area read once, as take() does; take() then finds them read
        start = time.perf_counter()
        baselines.now(key)
        name = key if key in configuration.AREA_BY_KEY else "site and files"
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
    start = time.perf_counter()
    path = baselines.take()
    phases["write"] = time.perf_counter() - start
    return {"seconds": time.perf_counter() - started, "phases": phases, "path": str(path),
            "bytes": path.stat().st_size, "peak_mb": _peak_mb()}


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child
    would report the bench's own size when it forked."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: the best there is

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def take_round(env_file: Path, folder: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--one", str(env_file), str(folder)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"taking a baseline failed:\n{done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def diff_round(before: str, after: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "smoke.baseline", "diff", before, after], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)
    return time.perf_counter() - started, done.returncode


def changed_copy(path: str, folder: Path) -> str:
    """The baseline with one template's wildcard policy flipped, as the template-policy-reset fault would."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    templates = document["areas"]["templates"]["items"]
    name = next(n for n, t in templates.items() if isinstance(t.get("TemplatePolicy"), dict))
    policy = templates[name]["TemplatePolicy"]
    policy["AllowWildcards"] = not policy.get("AllowWildcards")
    copy = folder / "changed.json"
    copy.write_text(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return str(copy)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS-baseline.md alone")
    parser.add_argument("--one", nargs=2, metavar=("ENV_FILE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_baseline(*args.one)))
        return 0

    from smoke.run import launcher

    load_before = _load()
    print(f"starting the sandbox configured large with {args.agents} orchestrators …", flush=True)
    sandbox = launcher.start([], agents=args.agents, options={"configuration": "large"}, timeout_s=300)
    takes: list[dict[str, Any]] = []
    diffs: list[tuple[float, int]] = []
    changed: list[tuple[float, int]] = []
    try:
        if not sandbox.ready["kerberos"]:
            raise SystemExit("the sandbox started without Kerberos (MIT krb5 not installed?): nothing to measure")
        os.environ.update(sandbox.ready["environ"])
        with tempfile.TemporaryDirectory(prefix="bench-baseline-") as work:
            folder = Path(work)
            for number in range(args.rounds):
                found = take_round(sandbox.env_file, folder / str(number))
                takes.append(found)
                print(f"baseline {number + 1}: {found['seconds']:.2f} s, peak {found['peak_mb']:.0f} MB, "
                      f"{found['bytes'] / 1e6:.1f} MB file — " + ", ".join(
                          f"{k} {v:.2f}" for k, v in found["phases"].items()), flush=True)
                if number >= 1:  # interleaved with the takes
                    diffs.append(diff_round(takes[0]["path"], takes[number]["path"]))
                    changed.append(diff_round(takes[0]["path"], changed_copy(takes[0]["path"], folder)))
                    print(f"diff identical {diffs[-1][0]:.2f} s (exit {diffs[-1][1]}), one template changed "
                          f"{changed[-1][0]:.2f} s (exit {changed[-1][1]})", flush=True)
            identical = len({Path(t["path"]).read_bytes() for t in takes}) == 1
    finally:
        sandbox.stop()

    seconds = [t["seconds"] for t in takes]
    peaks = [t["peak_mb"] for t in takes]
    diff_s = [d for d, _ in diffs] + [d for d, _ in changed]
    verdicts = [
        _verdict("taking a baseline", statistics.median(seconds), TAKE_S, "s"),
        _verdict("its peak memory", max(peaks), TAKE_MB, "MB"),
        _verdict("comparing two baselines", statistics.median(diff_s) if diff_s else float("nan"), COMPARE_S, "s"),
    ]
    exits_right = all(code == 0 for _, code in diffs) and all(code == 1 for _, code in changed)
    print("\n".join(verdicts))
    print(f"baselines byte-identical: {identical}; diff exits 0 on identical and 1 on changed: {exits_right}")
    if not args.no_write:
        RESULTS.write_text(report(args, takes, diffs, changed, verdicts, identical, exits_right, load_before),
                           encoding="utf-8")
        print(f"written to {RESULTS}")
    return 0 if identical and exits_right else 1


def _verdict(what: str, value: float, target: float, unit: str) -> str:
    if value <= target:
        return f"{what}: {value:.2f} {unit} — meets the {target:g} {unit} target"
    return f"{what}: {value:.2f} {unit} — misses the {target:g} {unit} target by {value - target:.2f} {unit} " \
           f"({value / target:.2f}x)"


def _load() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def report(args: argparse.Namespace, takes: list[dict[str, Any]], diffs: list[tuple[float, int]],
           changed: list[tuple[float, int]], verdicts: list[str], identical: bool, exits_right: bool,
           load_before: str) -> str:
    seconds = [t["seconds"] for t in takes]
    phases = {k: statistics.median(t["phases"][k] for t in takes) for k in takes[0]["phases"]}
    lines = [
        "# Benchmark: a baseline of the sandbox configured large, and comparing two",
        "",
        f"`.venv/bin/python bench/bench_baseline.py --rounds {args.rounds} --agents {args.agents}` on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{dt.datetime.now():%Y-%m-%d %H:%M}; load average {load_before} before, {_load()} after.",
        "",
        "The sandbox configured large: 2,000 templates, 500 roles (+ identities), "
        f"{args.agents:,} orchestrators, 50,000 stores, 1,000 alerts. Each baseline is taken in a fresh process as "
        "`pytest --baseline` takes it (Kerberos, TLS verified, every page, one GET per template for its policy), "
        "the sandbox serving on the same two cores. Peak memory is the taking process's peak resident size (VmHWM).",
        "",
        "| what | best | median | target |",
        "|---|---|---|---|",
        f"| taking a baseline | {min(seconds):.2f} s | {statistics.median(seconds):.2f} s | <= {TAKE_S:g} s |",
        f"| its peak memory | {min(t['peak_mb'] for t in takes):.0f} MB | "
        f"{statistics.median(t['peak_mb'] for t in takes):.0f} MB | <= {TAKE_MB:g} MB |",
    ]
    for label, rows in (("diff, two identical baselines", diffs), ("diff, one template changed", changed)):
        if rows:
            lines.append(f"| `python -m smoke.baseline {label}` | {min(r[0] for r in rows):.2f} s | "
                         f"{statistics.median(r[0] for r in rows):.2f} s | <= {COMPARE_S:g} s |")
    lines += [
        "",
        *(f"- {v}" for v in verdicts),
        f"- Baseline file {takes[0]['bytes'] / 1e6:.1f} MB; the baselines of the rounds byte-identical: {identical}; "
        f"diff exit 0 on identical and 1 on changed: {exits_right}.",
        "",
        "Median seconds by phase of taking a baseline: " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()) + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
