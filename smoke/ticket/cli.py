"""python -m smoke.ticket attach REPORT --env NAME --ticket NUMBER: attaches an earlier run's report (after a review,
or when attaching after the run failed) to the change ticket, as the run itself does with --attach.

Exit codes: 0 attached, 1 not attached (the `ticket:` lines say why), 2 a bad command line or environment file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from smoke.ground import settings
from smoke.ground.errors import ConfigError
from smoke.ticket.credentials import Credentials
from smoke.ticket.deliver import attach
from smoke.ticket.files import ReportFiles
from smoke.ticket.section import TicketSection, check_number


class _TicketOnly(BaseModel):
    """The one section this command reads; the rest of the file is the suite's business."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    ticket: TicketSection | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smoke.ticket", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    attaching = commands.add_parser("attach", help="attach a report to the change ticket")
    attaching.add_argument("report", type=Path, help="reports/<env>/<run>.html, reports/<env>/latest.html or a run "
                                                     "folder")
    attaching.add_argument("--env", required=True, metavar="NAME|FILE", help="the environment whose [ticket] to use")
    attaching.add_argument("--ticket", required=True, metavar="NUMBER", help="CHG0012345 (ServiceNow), OPS-123 (Jira)")
    args = parser.parse_args(argv)
    try:
        _, path = settings.resolve(args.env)
        section = settings.validate(_TicketOnly, path, settings.read_toml(path)).ticket
        if section is None:
            raise ConfigError(f"{path} has no [ticket] section — add one (system, url, auth, …; see "
                              "environments/example-prod.toml)")
        section = section.anchored(path.parent, path)
        number = check_number(section, args.ticket, path)
        credentials = Credentials.read(section, path)
        files = ReportFiles.of_path(args.report)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    done = attach(section, credentials, number, files)
    print("\n".join(done.lines))
    return 0 if done.ok else 1
