"""After the report: attaching it to the change ticket (`--ticket` with `--attach` or [ticket] attach = "after-run").

At the door, bad input is one line: --attach without --ticket or without [ticket], a ticket number of the wrong
shape for the system, a credential variable that is not set. After the run, whatever happens on the ticket is a
few `ticket:` lines and never changes the verdict or the exit code. The protocols live in smoke/ticket/.
"""

from __future__ import annotations

from dataclasses import dataclass

from smoke.ground import evidence
from smoke.ground.errors import ConfigError
from smoke.run.environment import Settings
from smoke.run.report import RunReport
from smoke.ticket import Credentials, ReportFiles, TicketSection, attach, check_number


@dataclass(frozen=True)
class Plan:
    section: TicketSection
    ticket: str | None
    credentials: Credentials | None  # None: this run does not attach

    @property
    def attaching(self) -> bool:
        return self.credentials is not None and self.ticket is not None


def check_asked(asked: bool, ticket: str | None) -> None:
    if asked and not ticket:
        raise ConfigError("--attach needs --ticket NUMBER, the change ticket to attach the report to (e.g. --ticket "
                          "CHG0012345 or --ticket OPS-123)")


def plan(found: Settings, ticket: str | None, asked: bool) -> Plan | None:
    section = found.ticket
    if section is None:
        if asked:
            raise ConfigError(f"--attach: {found.path} has no [ticket] section — add one (system, url, auth, …; see "
                              "environments/example-prod.toml)")
        return None
    if ticket:
        check_number(section, ticket, found.path)
    Credentials.register_present(section)
    attaching = bool(ticket) and (asked or section.attach == "after-run")
    return Plan(section, ticket, Credentials.read(section, found.path) if attaching else None)


def after_run(found: Plan | None, run: RunReport) -> list[str]:
    """The console lines about the ticket; never raises."""
    if found is None:
        return []
    if found.credentials is None or found.ticket is None:
        if found.section.attach == "after-run":
            return ["ticket: not attached — [ticket] attach = \"after-run\" needs --ticket NUMBER; attach later with "
                    "python -m smoke.ticket attach"]
        return []
    if run.interrupted:
        return [f"ticket: not attached to {found.ticket} — the run was interrupted"]
    if run.files is None:
        return ["ticket: not attached — with --alluredir no report is written under reports/"]
    files = ReportFiles.of_run(run.files.name, run.files.html, run.files.summary)
    try:
        return attach(found.section, found.credentials, found.ticket, files).lines
    except Exception as exc:  # the verdict and the exit code are the checks'; a defect here is one line too
        return [evidence.redact(f"ticket: not attached ({type(exc).__name__}: {exc}) — attach {files.by_hand} by "
                                "hand")]
