"""Attaching one run's report to the change ticket: find the ticket, upload the HTML report (zipped where the
instance refuses .html), upload the summary, add the note. Never raises: what happened is a few `ticket:` lines,
and a failure names the file to attach by hand. Nothing on the ticket is ever replaced: each run adds its own
attachments and note."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from smoke.ground import evidence
from smoke.ticket import note
from smoke.ticket.credentials import Credentials
from smoke.ticket.files import HTML, TEXT, ZIP, ReportFiles
from smoke.ticket.http import TicketError, TicketHttp
from smoke.ticket.jira import Jira
from smoke.ticket.section import TicketSection
from smoke.ticket.servicenow import ServiceNow, UploadRefused


@dataclass
class Attached:
    ok: bool = False
    names: list[str] = field(default_factory=list)  # the files now on the ticket
    lines: list[str] = field(default_factory=list)  # for the console, redacted

    def say(self, line: str) -> None:
        self.lines.append(evidence.redact(f"ticket: {line}"))


def attach(section: TicketSection, credentials: Credentials, number: str, files: ReportFiles) -> Attached:
    http = TicketHttp(section.url, str(section.ca_bundle) if section.ca_bundle else None, section.timeout_s)
    system: ServiceNow | Jira = (ServiceNow if section.system == "servicenow" else Jira)(section, credentials, http)
    done = Attached()
    try:
        target = system.locate(number)
        if files.html:
            _upload_report(system, target, files, done)
        else:
            done.say("no HTML report to attach (it was not rendered): only the summary goes on the ticket")
        if files.summary:
            system.upload(target, files.summary_name, TEXT, files.summary.read_bytes())
            done.names.append(files.summary_name)
        system.annotate(target, number, note.compose(files.summary_text(), done.names, system.markup))
    except TicketError as exc:
        done.say(str(exc))
        if done.names:
            done.say(f"already on {number}: {', '.join(done.names)}")
        done.say(f"attach it by hand: {_shown(files.by_hand)}" if files.by_hand else "no report file to attach")
        return done
    retried = f" (after {http.retries} retr{'y' if http.retries == 1 else 'ies'})" if http.retries else ""
    done.say(f"attached {' and '.join(done.names)} to {number}, with a {system.noun}{retried}")
    done.ok = True
    return done


def _upload_report(system: ServiceNow | Jira, target: str, files: ReportFiles, done: Attached) -> None:
    assert files.html is not None
    try:
        system.upload(target, files.html_name, HTML, files.html.read_bytes())
        done.names.append(files.html_name)
        return
    except UploadRefused:
        pass
    try:
        system.upload(target, files.zip_name, ZIP, files.zipped())
    except UploadRefused as exc:
        raise TicketError(f"{exc}, after the .html too — {system.section.account} may lack the role to attach to "
                          "change requests") from None
    done.names.append(files.zip_name)
    done.say("upload refused (403): the instance may not allow .html attachments — the report is also attached as "
             "a .zip")


def _shown(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
