"""`python -m smoke.baseline diff A.json B.json`: compares any two baselines offline (before and after an
upgrade, prod and DR); exit 0 when identical, 1 when anything differs, 2 on bad input (one line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smoke.baseline import document
from smoke.baseline.compare import compare
from smoke.baseline.errors import BaselineError
from smoke.baseline.render import text
from smoke.ground.console import print_for_reader


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smoke.baseline",
                                     description="Compare two baselines of Keyfactor Command's configuration.")
    commands = parser.add_subparsers(dest="command", required=True)
    diff = commands.add_parser("diff", help="print what changed from the first baseline to the second")
    diff.add_argument("before", type=Path)
    diff.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    try:
        before, after = document.load(args.before), document.load(args.after)
    except BaselineError as exc:
        print(exc, file=sys.stderr)
        return 2
    if before.environment != after.environment or before.server != after.server:
        print(f"note: comparing {before.environment} ({before.server}) with {after.environment} ({after.server})",
              file=sys.stderr)
    comparison = compare(before, after)
    print_for_reader(text(comparison, str(args.before), str(args.after)).removesuffix("\n"))
    return 0 if comparison.identical else 1
