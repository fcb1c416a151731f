"""python -m smoke.logscan PATH... [--since WHEN] [--until WHEN] [--timezone TZ] [--json]

Exit status: 0 no errors in the window, 1 errors found, 2 bad input (one line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

from smoke.ground.console import print_for_reader

from .clock import LogClock
from .errors import LogScanError
from .files import DEFAULT_GLOBS
from .scan import DEFAULT_LEVELS, scan
from .window import resolve_window

PROG = "python -m smoke.logscan"
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        raise _UsageError(f"logscan: {message} — see {PROG} --help")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Report Error and Fatal entries of Keyfactor Command NLog files in a time window.",
        epilog="Exit status: 0 no errors, 1 errors found, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a log file, or a folder of logs (archives included)")
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="window start: an ISO time (log clock unless it carries an offset) or a duration back from now"
        " (90s, 30m, 2h, 1d); default: the start of the last configuration-wizard run, else 24h ago",
    )
    parser.add_argument("--until", metavar="WHEN", help="window end, same forms as --since; default: now")
    parser.add_argument(
        "--timezone",
        metavar="TZ",
        default="local",
        help="the zone the log timestamps are written in: local (default), UTC, +02:00, or a zone name",
    )
    parser.add_argument(
        "--glob",
        action="append",
        metavar="GLOB",
        help=f"log file names in folders (default: {' '.join(DEFAULT_GLOBS)})",
    )
    parser.add_argument(
        "--level", action="append", metavar="LEVEL", help=f"levels to report (default: {' '.join(DEFAULT_LEVELS)})"
    )
    parser.add_argument("--no-seek", action="store_true", help="read every file from its start (no binary search)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # log text can hold characters the console cannot show
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    try:
        args = _parser().parse_args(argv)
        clock = LogClock.parse(args.timezone)
        globs = tuple(args.glob or DEFAULT_GLOBS)
        window = resolve_window(args.paths, args.since, args.until, clock=clock, globs=globs)
        result = scan(
            args.paths,
            window,
            globs=globs,
            levels=tuple(args.level or DEFAULT_LEVELS),
            clock=clock,
            seek=not args.no_seek,
        )
    except (LogScanError, _UsageError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("logscan: INTERRUPTED — no verdict; run it again for the findings", file=sys.stderr)
        return INTERRUPTED
    print_for_reader(json.dumps(result.to_dict(), indent=2) if args.json else result.format_text())
    return 0 if result.clean else 1
