"""The suite's own options, checked at the door: a value an administrator typed that cannot be used is one line
naming the option, the value and the rule — pytest's usage error, exit code 4 — before anything starts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoke.ground.errors import ConfigError
from smoke.run import readiness

_TICKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TICKET_RULE = ("1 to 64 characters, a letter or digit first, then letters, digits, '.', '_' or '-': it becomes part "
               "of the report's file name")


@dataclass(frozen=True)
class Options:
    ticket: str | None
    wait_s: float | None  # --wait-ready in seconds
    report_dir: Path
    keep_reports: int  # 0: all


def read(getoption: Any) -> Options:
    """The options from `config.getoption`; ConfigError (one line) for the first value that cannot be used."""
    asked = getoption("--wait-ready")
    return Options(
        ticket=check_ticket(getoption("--ticket")),
        wait_s=readiness.parse_duration(asked) if asked is not None else None,
        report_dir=_report_dir(getoption("--report-dir")),
        keep_reports=_keep_reports(getoption("--keep-reports")),
    )


def check_ticket(ticket: str | None) -> str | None:
    if ticket is not None and not ticket.strip():
        raise ConfigError(f"--ticket is empty: give the ticket number, e.g. --ticket CHG0012345 ({TICKET_RULE})")
    if ticket is not None and not _TICKET.fullmatch(ticket):
        raise ConfigError(f"--ticket {ticket!r}: use the ticket number alone, e.g. --ticket CHG0012345 ({TICKET_RULE})")
    return ticket


def _report_dir(text: str) -> Path:
    if not text.strip():
        raise ConfigError("--report-dir is empty: name the folder that gets reports/<env>/, or leave the option out "
                          "for the suite's reports/ folder")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--report-dir {text}: is a file, not a folder — name a folder (it is created if missing)")
    return path


def _keep_reports(text: str | int) -> int:
    try:
        count = int(str(text).strip())
    except ValueError:
        count = -1
    if count < 0:
        raise ConfigError(f"--keep-reports {text!r}: expected a whole number of runs to keep, 0 or more (0 keeps "
                          "every run)")
    return count
