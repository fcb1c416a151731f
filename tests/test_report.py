"""The report for the change ticket and the rerun after the reboot, as an administrator meets them: runs of the
suite against the sandbox, then a look at every file it left under reports/."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import REGISTRY, ActiveFaults
from sandbox.kdc import USER
from smoke.ground.errors import ConfigError
from smoke.run import readiness, report
from tests.suite_runs import ROOT, read_junit

VERSION_CHECK = "smoke/test_api.py::test_the_server_reports_the_expected_command_version"
NO_ALLURE = {report.ALLURE_ENV: "/nonexistent/allure"}  # the Allure command line "not installed"


@dataclass
class ReportRun:
    returncode: int
    stdout: str
    output: str
    env_dir: Path
    outcomes: dict[str, str]
    messages: dict[str, str]

    @property
    def last_line(self) -> str:
        return self.stdout.strip().splitlines()[-1]

    def summary(self) -> str:
        return (self.env_dir / "latest-summary.md").read_text(encoding="utf-8")

    def run_dirs(self) -> list[Path]:
        return sorted(p.parent for p in self.env_dir.glob("*/allurerc.mjs"))


def run_with_report(reports: Path, env_name: str, *args: str, env: dict[str, str] | None = None) -> ReportRun:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--report-dir", str(reports), *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})
    env_dir = reports / env_name
    outcomes, messages = read_junit(env_dir / "latest-junit.xml")
    return ReportRun(done.returncode, done.stdout, done.stdout + done.stderr, env_dir, outcomes, messages)


def embedded(html: str) -> dict[str, bytes]:
    """The report data a single-file Allure report carries inline: d("name", "base64")."""
    found = {}
    for name, value in re.findall(r'd\(("(?:[^"\\]|\\.)*"),("(?:[^"\\]|\\.)*")\)', html):
        raw = json.loads(value)
        try:
            found[json.loads(name)] = base64.b64decode(raw, validate=True)
        except ValueError:
            found[json.loads(name)] = raw.encode()
    return found


def external_references(html: str) -> list[str]:
    """http(s) addresses the browser would fetch: anything in the markup outside the inline data and scripts."""
    markup = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", "data:", html)
    markup = re.sub(r'd\("(?:[^"\\]|\\.)*","(?:[^"\\]|\\.)*"\)', "", markup)
    found = re.findall(r"https?://[^\s\"'<>)]+", markup)
    found += [src for src in re.findall(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"([^\"]+)\"", html)
              if not src.startswith("data:")]
    for payload in re.findall(r"data:text/javascript;base64,([A-Za-z0-9+/=]+)", html):
        script = base64.b64decode(payload).decode("utf-8", "replace")
        found += re.findall(r"googletagmanager|google-analytics|gtag\(", script)
    return found


def every_text_under(folder: Path) -> dict[Path, bytes]:
    """Each file's bytes, and for single-file reports also the data they carry inline."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            found[path] = path.read_bytes()
            if path.suffix == ".html":
                for name, data in embedded(path.read_text(encoding="utf-8")).items():
                    found[path / name] = data
    return found


def test_a_failed_run_then_a_healthy_one_give_two_reports_whose_trend_shows_the_fix(tmp_path):
    reports = tmp_path / "reports"
    first = run_with_report(reports, "sandbox", "--env", "sandbox", "-m", "api",
                            "--sandbox-fault", "version-mismatch")
    assert first.returncode == 1, first.output
    assert first.outcomes[VERSION_CHECK] == "failed"
    assert "Product defect: Keyfactor Command reports version 10.1" in first.summary()
    second = run_with_report(reports, "sandbox", "--env", "sandbox", "-m", "api")
    assert second.returncode == 0, second.output
    assert second.last_line == "3 passed, 0 failed, 0 skipped"

    runs = second.run_dirs()
    assert len(runs) == 2
    reports_html = [reports / "sandbox" / f"{run.name}.html" for run in runs]
    assert all(path.is_file() for path in reports_html)
    latest = reports / "sandbox" / "latest.html"
    assert latest.read_bytes() == reports_html[1].read_bytes()
    assert not list((reports / "sandbox").glob("*/allure-report")), "Allure's output folder was left behind"

    history = [json.loads(line) for line in (reports / "sandbox" / "history.jsonl").read_text().splitlines()]
    statuses = [[r["status"] for r in run["testResults"].values()
                 if r["fullName"].endswith("#test_the_server_reports_the_expected_command_version")]
                for run in history]
    assert statuses == [["failed"], ["passed"]]

    html = latest.read_text(encoding="utf-8")
    assert external_references(html) == []
    data = embedded(html)
    trend = json.loads(data["widgets/history-trend.json"])
    assert [point["data"]["failed"] for point in trend] == [0, 1]  # newest first
    cases = [json.loads(v) for k, v in data.items() if k.startswith("data/test-cases/")]
    fixed = [case["name"] for case in cases if case.get("newPassed")]
    assert fixed == ["The server reports the expected command version"]

    summary = second.summary()
    assert f"## Since the previous run ({runs[0].name})" in summary
    assert "- fixed: the server reports the expected command version" in summary
    assert summary.strip() in second.stdout.replace("\r", "")
    for files in (every_text_under(reports), {Path("output"): second.output.encode()}):
        for path, content in files.items():  # the Kerberos runs leave no token behind
            assert not re.search(rb"Negotiate [A-Za-z0-9+/]{20,}", content), path


@pytest.fixture
def basic_sandbox(tmp_path):
    """A sandbox whose Basic password the test knows, and an environment file that uses it."""
    secret = "Kn0wn-Sm0ke-Passw0rd-7731"
    running = Sandbox(tmp_path / "sandbox", ActiveFaults(), kerberos=False, password=secret)
    running.start()
    env_file = tmp_path / "basic-sandbox.toml"
    username = f"{DOMAIN}\\{USER}"
    env_file.write_text("\n".join([
        "[command]", f'url = "{running.url}"', f"ca_bundle = {json.dumps(str(running.ca_bundle))}",
        'expected_version = "10.2"', "timeout_s = 10",
        "[auth]", 'method = "basic"', f"username = {json.dumps(username)}",
        'password_env = "KF_REPORT_TEST_PASSWORD"', "",
        "[ticket]", 'system = "servicenow"', f'url = "{running.tickets.servicenow.url}"', 'auth = "oauth"',
        'username = "svc-smoke"', 'password_env = "KF_SANDBOX_TICKET_PASSWORD"', 'client_id = "kf-smoke-sandbox"',
        'client_secret_env = "KF_SANDBOX_TICKET_CLIENT_SECRET"', f"ca_bundle = {json.dumps(str(running.ca_bundle))}",
        "",
    ]))
    yield env_file, secret, running
    running.stop()


def test_the_ticket_names_the_report_and_a_known_password_appears_nowhere(tmp_path, basic_sandbox):
    env_file, secret, running = basic_sandbox
    reports = tmp_path / "reports"
    run = run_with_report(reports, "basic-sandbox", "--env", str(env_file), "-m", "api", "--ticket", "CHG0012345",
                          "--attach", env={"KF_REPORT_TEST_PASSWORD": secret, **running.tickets.handover.environ})
    assert run.returncode == 0, run.output
    assert running.tickets.inbox.of("CHG0012345", "note"), run.output  # attached, with an OAuth token
    assert run.outcomes and set(run.outcomes.values()) == {"passed"}

    [run_dir] = run.run_dirs()
    assert run_dir.name.endswith("-CHG0012345")
    assert (run.env_dir / f"{run_dir.name}.html").is_file()
    executor = json.loads((run_dir / "allure-results" / "executor.json").read_text())
    assert "CHG0012345" in executor["buildName"] and "CHG0012345" in executor["reportName"]
    summary = run.summary()
    assert summary.startswith("# Keyfactor Command smoke test — basic-sandbox — CHG0012345")
    assert "- Change ticket: CHG0012345" in summary
    assert "- Authentication: Basic" in summary

    credential = base64.b64encode(f"{DOMAIN}\\{USER}:{secret}".encode())
    ticketing = [value.encode() for value in (*running.tickets.handover.environ.values(),
                                               *running.tickets.servicenow.issued)]
    files = every_text_under(reports)
    assert len(files) > 20
    for path, content in [*files.items(), (Path("console output"), run.output.encode())]:
        assert secret.encode() not in content, path
        assert credential not in content, path
        assert not [value for value in ticketing if value in content], path  # ticket credentials and tokens


def test_an_unreachable_server_fails_one_check_and_skips_the_rest_naming_it(tmp_path):
    fault = REGISTRY["slow-start"]
    reports = tmp_path / "reports"
    # Every check that reaches the server's site: the API, and the browser and other parts behind it (the node
    # checks reach each web server directly, and go on when the site's name does not answer).
    run = run_with_report(reports, "sandbox", "--env", "sandbox", "-m", "not logs and not database and not nodes",
                          "--sandbox-fault", "slow-start=120", env=NO_ALLURE)
    assert run.returncode == 1, run.output
    assert {node for node, found in run.outcomes.items() if found == "failed"} == set(fault.fails)
    for node in fault.fails:
        assert fault.says in run.messages[node], run.messages[node]
    skipped = [node for node, found in run.outcomes.items() if found == "skipped"]
    assert set(run.outcomes.values()) == {"failed", "skipped"}
    assert {node.split("::")[0] for node in skipped} - {"smoke/test_api.py"}, "only the API checks were skipped"
    for node in skipped:
        assert "failed earlier in this run — Keyfactor API: connection refused" in run.messages[node]
    assert run.last_line == f"0 passed, 1 failed, {len(skipped)} skipped"
    assert "Connectivity or environment: Keyfactor API: connection refused" in run.summary()
    assert "rerun with --wait-ready" in run.summary()

    # No Allure command line: the verdict stands, one line says how to render later, and that line works.
    [run_dir] = run.run_dirs()
    later = [line for line in run.output.splitlines() if "HTML report not rendered" in line]
    assert len(later) == 1 and later[0].endswith(f"render it later with: python -m smoke.run.report {run_dir}")
    assert not list(run.env_dir.glob("*.html"))
    rendered = subprocess.run([sys.executable, "-m", "smoke.run.report", str(run_dir)], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert (run.env_dir / f"{run_dir.name}.html").is_file() and (run.env_dir / "latest.html").is_file()


def test_wait_ready_rides_out_a_server_that_is_still_starting(tmp_path):
    run = run_with_report(tmp_path / "reports", "sandbox", "--env", "sandbox", "-m", "api",
                          "--sandbox-fault", "slow-start=5", "--wait-ready", "60s", env=NO_ALLURE)
    assert run.returncode == 0, run.output
    assert run.outcomes["smoke/run/readiness.py::test_the_api_and_the_portal_answer_within_the_wait"] == "passed"
    assert set(run.outcomes.values()) == {"passed"} and len(run.outcomes) == 4
    waited = re.search(r"- Waited for the server: (\d+\.\d) s, (\d+) attempts \(--wait-ready 60s\)", run.summary())
    assert waited and int(waited.group(2)) > 1, run.summary()
    [table] = run.env_dir.glob("*/allure-results/environment.properties")
    assert "Waited\\ for\\ the\\ server=" in table.read_text()


def test_a_bad_ticket_or_wait_is_one_line_before_anything_starts(tmp_path):
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--env", "sandbox", "--report-dir",
               str(tmp_path), "--ticket", "CHG 12/345"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4
    assert "--ticket 'CHG 12/345': use the ticket number alone, e.g. --ticket CHG0012345" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("10m", 600), ("1h", 3600), ("1m30s", 90), ("45", 45)])
def test_wait_ready_reads_durations_as_an_administrator_writes_them(text, seconds):
    assert readiness.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "10 minutes", "0s", "-5s", ""])
def test_a_duration_it_cannot_read_is_a_one_line_error(text):
    with pytest.raises(ConfigError, match=r"--wait-ready (.*: expected a duration such as 90s|.*: the duration must|"
                                          r"is empty)"):
        readiness.parse_duration(text)


class _Rebooting(BaseHTTPRequestHandler):
    """IIS while the application pool starts: 503 a few times, then the 401 challenge of a server that is up."""

    busy = 3

    def do_GET(self) -> None:  # noqa: N802
        status = 503 if type(self).busy > 0 else 401
        type(self).busy -= 1
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rebooting_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rebooting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Rebooting.busy = 3
    yield f"http://127.0.0.1:{server.server_address[1]}/KeyfactorAPI/Status/Endpoints"
    server.shutdown()
    server.server_close()


def test_wait_ready_takes_a_503_as_not_yet_and_a_401_challenge_as_up(rebooting_server):
    waited = readiness.wait_until_ready([rebooting_server], 60, "60s", None, 5)
    assert waited.attempts == 4
    assert waited.answers == {rebooting_server: "answered 401"}


def test_wait_ready_gives_up_with_one_line_naming_what_did_not_answer(rebooting_server):
    _Rebooting.busy = 10_000
    with pytest.raises(readiness.ServerNotReady) as raised:
        readiness.wait_until_ready([rebooting_server], 0.5, "0.5s", None, 5)
    message = str(raised.value)
    assert message.startswith("server not ready after 0.5s (")
    assert f"{rebooting_server} answered 503 — check that IIS" in message
    assert "\n" not in message


@pytest.mark.parametrize(("message", "category"), [
    ("Keyfactor API: connection refused by kf:443 — is IIS running", "Connectivity or environment"),
    ("TLS: the certificate of kf:443 is not trusted — set [command] ca_bundle", "Connectivity or environment"),
    ("server not ready after 90s (12 attempts): https://kf/KeyfactorAPI connection refused",
     "Connectivity or environment"),
    ("Kerberos: no ticket in the credential cache (FILE:/tmp/x) — run kinit svc", "Authentication"),
    ("Basic: https://kf/KeyfactorAPI refused CORP\\svc (401) — check the password", "Authentication"),
    ("SQL: login failed for user 'kf' on db:1433 — check UID", "Authentication"),
    ("Keyfactor Command reports version 10.1.1.0, expected 10.2 — the upgrade did not take", "Product defect"),
    ("the log waiver for 'Timeout' expired on 2025-01-31 — renew it or fix the cause", "Known issue"),
    # Naming where waivers go is not saying the failure is known.
    ("2 orchestrator jobs failing since the upgrade: … — fix the cause, or waive a known one in "
     "[[operations.job_waivers]]", "Product defect"),
    ("every security role kept its permissions and members: 1 changed since the baseline — PKI Operators: "
     "Permissions.CertificateRevoke (absent) → …", "Configuration changed"),
])
def test_each_one_line_cause_falls_in_its_report_category(message, category):
    assert report.categorize(message) == category
    assert report.categorize(f"Failed: {message}") == category  # as Allure sees pytest.fail's message


def test_only_the_newest_runs_reports_are_kept_and_the_trend_stays_whole(tmp_path):
    from smoke.run.report import prune

    env_dir = tmp_path / "prod"
    names = [f"20261127-0{hour}0000" for hour in range(1, 6)]
    for name in names:
        (env_dir / name).mkdir(parents=True)
        (env_dir / name / "outcomes.json").write_text("{}")
        (env_dir / f"{name}.html").write_text("<html></html>")
    (env_dir / "history.jsonl").write_text("{}\n" * 5)
    (env_dir / "latest.html").write_text("<html></html>")
    assert prune(env_dir, 3) == names[:2]
    assert sorted(p.name for p in env_dir.iterdir()) == sorted(
        [*names[2:], *(f"{n}.html" for n in names[2:]), "history.jsonl", "latest.html"])
    assert prune(env_dir, 0) == [] and len(list(env_dir.glob("*.html"))) == 4
