"""Attaching the report to the change ticket, as an administrator meets it: runs of the suite against a sandbox with
--ticket and --attach, and a look at what the ServiceNow and Jira stand-ins received — the report's own bytes, the
summary, the note — and at the console's `ticket:` lines, for a healthy stand-in, for each ticket fault, and for
every bad input at the door."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sandbox import tickets
from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import REGISTRY, ActiveFaults
from sandbox.jira import EMAIL
from sandbox.kdc import USER
from sandbox.servicenow import CLIENT_ID
from sandbox.servicenow import USER as SERVICENOW_USER
from sandbox.ticket_desk import INBOX_ENV, Received, StandIn
from sandbox.web import Response, Router, json_response
from smoke.ticket import TicketError
from smoke.ticket.http import LONGEST_WAIT_S, TicketHttp, retry_delay
from tests.suite_runs import ROOT

KEYFACTOR_PASSWORD_ENV = "KF_TICKET_TEST_PASSWORD"
VERSION_CHECK = "the server reports the expected command version"
TICKET_FAULTS = sorted((f for f in REGISTRY.values() if f.name.startswith("ticket-")), key=lambda f: f.name)


# --- a Keyfactor sandbox for the checks, and ticket stand-ins per test --------------------------------------


@pytest.fixture(scope="module")
def keyfactor(tmp_path_factory) -> Iterator[Sandbox]:
    running = Sandbox(tmp_path_factory.mktemp("keyfactor"), ActiveFaults(), kerberos=False)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def desk(keyfactor, tmp_path, monkeypatch) -> Iterator[Callable[..., tickets.Tickets]]:
    """Starts ServiceNow and Jira stand-ins with the faults given, on the sandbox's certificate."""
    monkeypatch.delenv(INBOX_ENV, raising=False)
    started: list[tickets.Tickets] = []

    def start(*faults: str) -> tickets.Tickets:
        found = tickets.start(tmp_path / f"desk-{len(started)}", ActiveFaults(list(faults)), chain=keyfactor.chain,
                              key=keyfactor.key, ca_bundle=keyfactor.ca_bundle)
        started.append(found)
        return found

    yield start
    for found in started:
        assert found.handover.stop
        found.handover.stop()


def servicenow(desk: tickets.Tickets, keyfactor: Sandbox, auth: str = "basic", timeout_s: float = 10) -> list[str]:
    lines = ["[ticket]", 'system = "servicenow"', f'url = "{desk.servicenow.url}"', f'auth = "{auth}"',
             f'username = "{SERVICENOW_USER}"', f'password_env = "{tickets.PASSWORD_ENV}"',
             f"ca_bundle = {json.dumps(str(keyfactor.ca_bundle))}", f"timeout_s = {timeout_s}"]
    if auth == "oauth":
        lines += [f'client_id = "{CLIENT_ID}"', f'client_secret_env = "{tickets.CLIENT_SECRET_ENV}"']
    return lines


def jira(desk: tickets.Tickets, keyfactor: Sandbox, auth: str = "bearer") -> list[str]:
    lines = ["[ticket]", 'system = "jira"', f'url = "{desk.jira.url}"', f'auth = "{auth}"',
             f"ca_bundle = {json.dumps(str(keyfactor.ca_bundle))}"]
    if auth == "bearer":
        return [*lines, f'token_env = "{tickets.JIRA_PAT_ENV}"']
    return [*lines, f'username = "{EMAIL}"', f'token_env = "{tickets.JIRA_TOKEN_ENV}"']


def environment(tmp_path: Path, keyfactor: Sandbox, ticket: list[str], version: str = "10.2") -> Path:
    """An environment file: the checks against the in-process sandbox (Basic), [ticket] as given."""
    path = tmp_path / "ticketed.toml"
    account = f"{DOMAIN}\\{USER}"
    path.write_text("\n".join([
        "[command]", f'url = "{keyfactor.url}"', f"ca_bundle = {json.dumps(str(keyfactor.ca_bundle))}",
        f'expected_version = "{version}"', "timeout_s = 10",
        "[auth]", 'method = "basic"', f"username = {json.dumps(account)}",
        f'password_env = "{KEYFACTOR_PASSWORD_ENV}"', "", *ticket, "",
    ]))
    return path


def secrets_of(keyfactor: Sandbox, desk: tickets.Tickets | None = None) -> dict[str, str]:
    return {KEYFACTOR_PASSWORD_ENV: keyfactor.password, **(desk.handover.environ if desk else {})}


@dataclass
class Run:
    returncode: int
    output: str
    env_dir: Path

    @property
    def ticket_lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.startswith("ticket: ")]

    @property
    def runs(self) -> list[str]:
        return sorted(p.parent.name for p in self.env_dir.glob("*/allurerc.mjs"))

    def report(self, run: str) -> bytes:
        return (self.env_dir / f"{run}.html").read_bytes()

    def summary(self, run: str) -> bytes:
        return (self.env_dir / run / "summary.md").read_bytes()


def run_suite(tmp_path: Path, env_file: Path, *args: str, env: dict[str, str], checks: str = "api") -> Run:
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--report-dir", str(reports),
               "--env", str(env_file), "-m", checks, *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    return Run(done.returncode, done.stdout + done.stderr, reports / env_file.stem)


def named(received: list[Received], suffix: str) -> list[Received]:
    return [found for found in received if found.file_name.endswith(suffix)]


# --- against each stand-in: the report and a note land on the right ticket; a rerun adds its own -----------------


def test_the_report_and_a_work_note_land_on_the_servicenow_change_and_the_rerun_adds_its_own(tmp_path, keyfactor,
                                                                                                desk):
    found = desk()
    after_upgrade = run_suite(tmp_path, environment(tmp_path, keyfactor, servicenow(found, keyfactor)),
                              "--ticket", "CHG0012345", "--attach", env=secrets_of(keyfactor, found))
    assert after_upgrade.returncode == 0, after_upgrade.output
    # After the reboot the version check goes red: the exit code is the checks', the note names the failure.
    after_reboot = run_suite(tmp_path, environment(tmp_path, keyfactor, servicenow(found, keyfactor), "10.1"),
                             "--ticket", "CHG0012345", "--attach", env=secrets_of(keyfactor, found))
    assert after_reboot.returncode == 1, after_reboot.output

    runs = after_reboot.runs
    assert len(runs) == 2
    attachments = found.inbox.of("CHG0012345", "attachment")
    assert [a.file_name for a in attachments] == [f"{runs[0]}.html", f"{runs[0]}-summary.txt",
                                                  f"{runs[1]}.html", f"{runs[1]}-summary.txt"]
    reports = named(attachments, ".html")
    assert [a.data for a in reports] == [after_reboot.report(run) for run in runs]
    assert {a.content_type for a in reports} == {"text/html; charset=utf-8"}
    assert [a.data for a in named(attachments, "-summary.txt")] == [after_reboot.summary(run) for run in runs]

    first, second = (note.text for note in found.inbox.of("CHG0012345", "note"))
    assert "Verdict: PASSED — 3 passed, 0 failed, 0 skipped" in first
    assert f"Attached: {runs[0]}.html, {runs[0]}-summary.txt" in first
    assert "Verdict: FAILED — 2 passed, 1 failed, 0 skipped" in second
    assert "Failed checks:" in second and VERSION_CHECK in second and "10.1" in second
    assert not found.inbox.of("CHG0012346", "attachment"), "attached to another change"
    for run, name in ((after_upgrade, runs[0]), (after_reboot, runs[1])):
        assert run.ticket_lines == [f"ticket: attached {name}.html and {name}-summary.txt to CHG0012345, with a "
                                    "work note"], run.output


def test_the_report_and_a_comment_land_on_the_jira_issue_and_the_rerun_adds_its_own(tmp_path, keyfactor, desk):
    found = desk()
    # Data Center's personal access token, then Basic with an e-mail and API token (as Cloud).
    for auth in ("bearer", "basic"):
        run = run_suite(tmp_path, environment(tmp_path, keyfactor, jira(found, keyfactor, auth)),
                        "--ticket", "OPS-123", "--attach", env=secrets_of(keyfactor, found))
        assert run.returncode == 0, run.output
        assert run.ticket_lines[-1].endswith("to OPS-123, with a comment"), run.output

    runs = run.runs
    attachments = found.inbox.of("OPS-123", "attachment")
    assert [a.data for a in named(attachments, ".html")] == [run.report(name) for name in runs]
    assert [a.data for a in named(attachments, "-summary.txt")] == [run.summary(name) for name in runs]
    comments = [note.text for note in found.inbox.of("OPS-123", "note")]
    assert len(comments) == 2
    for comment, name in zip(comments, runs, strict=True):  # wiki markup, as Data Center reads it
        assert comment.startswith("{noformat}\nKeyfactor Command smoke test — ticketed — OPS-123\n")
        assert f"Attached: [^{name}.html], [^{name}-summary.txt]" in comment
    assert not found.inbox.of("OPS-124", "attachment")
    secrets = [found.jira.access_token.encode(), found.jira.api_token.encode()]
    for path in [*run.env_dir.rglob("*"), None]:
        content = run.output.encode() if path is None else path.read_bytes() if path.is_file() else b""
        assert not [secret for secret in secrets if secret in content], path or "console output"


def test_pytest_env_sandbox_attaches_to_the_servicenow_stand_in(tmp_path):
    inbox = tmp_path / "inbox"  # the embedded sandbox's own folder goes when it stops
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--report-dir", str(reports),
               "--env", "sandbox", "-m", "api", "--ticket", "CHG0012345", "--attach"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, INBOX_ENV: str(inbox)})
    assert done.returncode == 0, done.stdout + done.stderr
    [run] = [p.parent.name for p in (reports / "sandbox").glob("*/allurerc.mjs")]
    received = [json.loads(line) for line in (inbox / "servicenow" / "CHG0012345" / "received.jsonl").open()]
    assert [r.get("file_name") for r in received] == [f"{run}.html", f"{run}-summary.txt", None]
    stored = inbox / "servicenow" / "CHG0012345" / received[0]["stored"]
    assert stored.read_bytes() == (reports / "sandbox" / f"{run}.html").read_bytes()
    assert "Verdict: PASSED" in received[2]["text"]


def test_attaching_is_opt_in_and_an_earlier_report_is_attached_from_the_command_line(tmp_path, keyfactor, desk):
    found = desk()
    env_file = environment(tmp_path, keyfactor, jira(found, keyfactor))
    run = run_suite(tmp_path, env_file, "--ticket", "OPS-123", env=secrets_of(keyfactor, found))
    assert run.returncode == 0, run.output
    assert run.ticket_lines == [] and found.inbox.received == []  # [ticket] attach defaults to "never"

    done = subprocess.run([sys.executable, "-m", "smoke.ticket", "attach", str(run.env_dir / "latest.html"),
                           "--env", str(env_file), "--ticket", "OPS-123"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **found.handover.environ})
    assert done.returncode == 0, done.stdout + done.stderr
    [name] = run.runs
    [report] = named(found.inbox.of("OPS-123", "attachment"), ".html")
    assert report.file_name == f"{name}.html", "latest.html is attached under its run's name"
    assert report.data == run.report(name)
    assert done.stdout.strip().endswith("to OPS-123, with a comment")


@pytest.mark.parametrize(("fault", "says"), [("ticket-not-found", "OPS-123 not found — check the key"),
                                             ("ticket-auth-fails", f"refused {EMAIL} (401)")])
def test_the_command_line_says_in_one_line_why_it_could_not_attach(tmp_path, keyfactor, desk, fault, says):
    found = desk(fault)
    env_file = environment(tmp_path, keyfactor, jira(found, keyfactor, "basic"))
    report = tmp_path / "20261201-020000-OPS-123.html"
    report.write_text("<html><body>an earlier report</body></html>")
    done = subprocess.run([sys.executable, "-m", "smoke.ticket", "attach", str(report), "--env", str(env_file),
                           "--ticket", "OPS-123"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **found.handover.environ})
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2 and says in lines[0], done.stdout
    assert lines[1] == f"ticket: attach it by hand: {report}"
    assert "Traceback" not in done.stdout + done.stderr and found.inbox.received == []


# --- the stand-ins are as strict as the documented contracts -----------------------------------------------------


def test_the_jira_stand_in_refuses_an_upload_without_the_xsrf_header_or_the_file_field(keyfactor, desk):
    found = desk()
    url, verify = f"{found.jira.url}/rest/api/2/issue/OPS-123/attachments", str(keyfactor.ca_bundle)
    auth = {"Authorization": f"Bearer {found.jira.access_token}"}
    files = {"file": ("report.html", b"<html></html>", "text/html")}
    no_xsrf = requests.post(url, files=files, headers=auth, verify=verify, timeout=10)
    assert (no_xsrf.status_code, no_xsrf.text) == (403, "XSRF check failed")
    wrong_field = requests.post(url, files={"upload": files["file"]}, headers={**auth, "X-Atlassian-Token": "no-check"},
                                verify=verify, timeout=10)
    assert wrong_field.status_code == 400
    wrong_token = requests.post(url, files=files, headers={"Authorization": "Bearer nope", "X-Atlassian-Token":
                                                           "no-check"}, verify=verify, timeout=10)
    assert wrong_token.status_code == 401
    assert found.inbox.received == []


def test_the_servicenow_stand_in_takes_the_raw_file_with_its_content_type_and_answers_201_with_a_location(keyfactor,
                                                                                                      desk):
    found = desk()
    instance, verify = found.servicenow, str(keyfactor.ca_bundle)
    session = requests.Session()
    session.auth = (SERVICENOW_USER, instance.password)
    sys_id = instance.sys_id("CHG0012345")
    upload = f"{instance.url}/api/now/attachment/file"
    params = {"table_name": "change_request", "table_sys_id": sys_id, "file_name": "report.html"}
    untyped = session.post(upload, params=params, data=b"<html></html>", verify=verify, timeout=10)
    assert untyped.status_code == 400  # requests sends no Content-Type for raw bytes: the API wants the file's
    unnamed = session.post(upload, params={**params, "file_name": ""}, data=b"<html></html>", verify=verify,
                           timeout=10, headers={"Content-Type": "text/html"})
    assert unnamed.status_code == 400
    created = session.post(upload, params=params, data=b"<html></html>", verify=verify, timeout=10,
                           headers={"Content-Type": "text/html"})
    assert created.status_code == 201
    assert created.headers["Location"] == f"{instance.url}/api/now/attachment/{created.json()['result']['sys_id']}"
    unknown = session.get(f"{instance.url}/api/now/table/change_request", verify=verify, timeout=10,
                          params={"sysparm_query": "number=CHG0099999", "sysparm_fields": "sys_id"})
    assert unknown.json() == {"result": []}
    refused = requests.post(f"{instance.url}/oauth_token.do", verify=verify, timeout=10, data={
        "grant_type": "password", "client_id": CLIENT_ID, "client_secret": "wrong", "username": SERVICENOW_USER,
        "password": instance.password})
    assert refused.status_code == 401
    assert [a.file_name for a in found.inbox.received] == ["report.html"]


# --- each fault: its one line, and the checks' exit code ------------------------------------------------------


@pytest.mark.parametrize("fault", TICKET_FAULTS, ids=lambda f: f.name)
def test_each_ticket_fault_gives_its_one_line_and_the_exit_code_stays_the_checks(tmp_path, keyfactor, desk, fault):
    found = desk(f"{fault.name}=4" if fault.takes_value else fault.name)
    red = fault.name in ("ticket-not-found", "ticket-html-refused")  # a failed check too: its exit code stands
    auth = "oauth" if fault.name == "ticket-not-found" else "basic"
    ticket = servicenow(found, keyfactor, auth, timeout_s=2)
    env_file = environment(tmp_path, keyfactor, ticket, "10.1" if red else "10.2")
    run = run_suite(tmp_path, env_file, "--ticket", "CHG0012345", "--attach", env=secrets_of(keyfactor, found))
    assert run.returncode == (1 if red else 0), run.output
    assert "Traceback" not in run.output
    said = [line for line in run.ticket_lines if fault.says in line]
    assert len(said) == 1, run.ticket_lines
    [name] = run.runs
    attachments = found.inbox.of("CHG0012345", "attachment")
    if fault.name == "ticket-html-refused":
        [archive] = named(attachments, ".zip")
        with zipfile.ZipFile(io.BytesIO(archive.data)) as opened:
            assert opened.namelist() == [f"{name}.html"] and opened.read(f"{name}.html") == run.report(name)
        assert not named(attachments, ".html")
        assert run.ticket_lines[-1].startswith(f"ticket: attached {name}.zip and {name}-summary.txt to CHG0012345")
    elif fault.name == "ticket-5xx-once":
        assert [a.data for a in named(attachments, ".html")] == [run.report(name)]
        assert run.ticket_lines[-1].endswith("with a work note (after 1 retry)")
    else:
        assert attachments == []
        assert run.ticket_lines[-1].startswith("ticket: attach it by hand: ")
        if fault.name == "ticket-not-found":  # in the words of the issue
            assert said == ["ticket: CHG0012345 not found in change_request — check the number and that svc-smoke "
                            "can read it"]
        assert run.ticket_lines[-1].endswith(f"{name}.html")
    assert run.output.strip().splitlines()[-1] == ("2 passed, 1 failed, 0 skipped" if red else
                                                   "3 passed, 0 failed, 0 skipped")


# --- bad input at the door: one line, exit code 4 ----------------------------------------------------------------


def _door(tmp_path: Path, ticket: list[str], *args: str, env: dict[str, str] | None = None) -> str:
    path = tmp_path / "door.toml"
    path.write_text("\n".join(['[command]', 'url = "https://kf.example.com"', "", *ticket, ""]))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--report-dir",
                           str(tmp_path / "reports"), "--env", str(path), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})
    text = (done.stdout + done.stderr).strip()
    assert done.returncode == 4, text
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").rglob("*.html"))
    return lines[0]


SERVICENOW_SECTION = ['[ticket]', 'system = "servicenow"', 'url = "https://corp.service-now.com"',
                      'username = "svc-smoke"', 'password_env = "KF_TICKET_DOOR_PASSWORD"']
JIRA_SECTION = ['[ticket]', 'system = "jira"', 'url = "https://jira.corp.example.com"', 'auth = "bearer"',
                'token_env = "KF_TICKET_DOOR_TOKEN"']
DOOR_SECRETS = {"KF_TICKET_DOOR_PASSWORD": "door-password-1", "KF_TICKET_DOOR_TOKEN": "door-token-1"}


@pytest.mark.parametrize(("ticket", "args", "says"), [
    (SERVICENOW_SECTION, ["--attach"], "--attach needs --ticket NUMBER"),
    ([], ["--attach", "--ticket", "CHG0012345"], "has no [ticket] section"),
    (['[ticket]', 'system = "remedy"', 'url = "https://remedy.corp.example.com"'], ["--ticket", "CHG0012345"],
     "[ticket] system = 'remedy': Input should be 'servicenow' or 'jira'"),
    (SERVICENOW_SECTION, ["--ticket", "OPS-123", "--attach"],
     'expects a change number such as CHG0012345'),
    (JIRA_SECTION, ["--ticket", "CHG0012345", "--attach"], "expects an issue key such as OPS-123"),
    ([*SERVICENOW_SECTION[:-1], 'auth = "oauth"'], ["--ticket", "CHG0012345"],
     'servicenow with auth = "oauth" needs password_env, client_id, client_secret_env'),
    ([*JIRA_SECTION[:3], 'auth = "oauth"'], ["--ticket", "OPS-123"],
     "[ticket] auth = 'oauth': jira takes basic | bearer"),
], ids=["attach-without-ticket", "attach-without-section", "unknown-system", "jira-key-for-servicenow",
        "servicenow-number-for-jira", "oauth-without-its-keys", "oauth-on-jira"])
def test_bad_ticket_input_is_one_line_before_anything_starts(tmp_path, ticket, args, says):
    line = _door(tmp_path, ticket, *args, env=DOOR_SECRETS)
    assert says in line, line


def test_a_missing_ticket_password_variable_is_named_not_its_value(tmp_path, monkeypatch):
    monkeypatch.delenv("KF_TICKET_DOOR_PASSWORD", raising=False)
    line = _door(tmp_path, SERVICENOW_SECTION, "--ticket", "CHG0012345", "--attach")
    assert "ticket: environment variable KF_TICKET_DOOR_PASSWORD is not set — set it to the password of svc-smoke" \
        in line, line


# --- the HTTP calls: retries honour Retry-After, TLS is verified --------------------------------------------------


@pytest.fixture
def answering(keyfactor) -> Iterator[Callable[[list[Response]], StandIn]]:
    """A real HTTPS server on the sandbox's certificate that gives the answers listed, in order."""
    started: list[StandIn] = []

    def start(answers: list[Response]) -> StandIn:
        queue = iter(answers)
        router = Router()
        router.add("GET", "/busy", lambda request: next(queue), authenticated=False)
        site = StandIn(router)
        site.start(keyfactor.chain, keyfactor.key)
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


def test_a_429_is_asked_again_after_the_time_its_retry_after_names(keyfactor, answering):
    site = answering([Response(429, headers=[("Retry-After", "7")]), json_response(200, {"ok": True})])
    waits: list[float] = []
    http = TicketHttp(site.url, str(keyfactor.ca_bundle), 5, sleep=waits.append)
    assert http.call("GET", "/busy", "asking").json() == {"ok": True}
    assert waits == [7.0] and http.retries == 1


def test_an_instance_that_stays_unavailable_is_one_line_after_the_retries(keyfactor, answering):
    site = answering([Response(503)] * 3)
    waits: list[float] = []
    http = TicketHttp(site.url, str(keyfactor.ca_bundle), 5, sleep=waits.append)
    with pytest.raises(TicketError) as raised:
        http.call("GET", "/busy", "looking up CHG0012345")
    assert waits == [1.0, 2.0]
    assert str(raised.value) == (f"looking up CHG0012345: localhost:{site.port} answered 503 3 times — the instance "
                                 "is unavailable or limits this account's requests; try again later")


def test_a_ticket_system_whose_certificate_is_not_trusted_is_refused(keyfactor, answering):
    site = answering([json_response(200, {})])
    with pytest.raises(TicketError, match=r"TLS: the certificate of localhost:\d+ is not trusted — set \[ticket\] "
                                          r"ca_bundle"):
        TicketHttp(site.url, None, 5).call("GET", "/busy", "asking")  # the OS trust store lacks the sandbox's CA


def test_retry_after_is_read_as_seconds_or_a_date_and_never_waits_too_long():
    now = dt.datetime(2026, 12, 1, 2, 0, 0, tzinfo=dt.UTC)
    assert retry_delay(1, "3", now) == 3.0
    assert retry_delay(1, "Tue, 01 Dec 2026 02:00:30 GMT", now) == 30.0
    assert retry_delay(1, "86400", now) == LONGEST_WAIT_S
    assert [retry_delay(n, None, now) for n in (1, 2)] == [1.0, 2.0]
    assert retry_delay(2, "soon", now) == 2.0
