"""Every value a user can type is checked at the door: for the suite, `python -m smoke.logscan` and `python -m sandbox`
alike, a value that cannot be used — too large, empty, negative, a folder where a file belongs, a ticket that breaks
the naming rule, a fault value of the wrong type, a busy port — is one line naming it and the rule, with the
documented exit code (4, 2, 2) and no traceback, before anything starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from smoke.ground import durations
from tests.suite_runs import ROOT


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}, encoding="utf-8")


def only_line(done: subprocess.CompletedProcess[str]) -> str:
    text = (done.stdout + done.stderr).strip()
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


# --- the suite: pytest's usage error, exit code 4 ------------------------------------------------------------------


def suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run("-m", "pytest", "-p", "no:cacheprovider", *args, env=env)


@pytest.mark.parametrize(("args", "says"), [
    (["--wait-ready", ""], "--wait-ready is empty: give a duration such as 90s"),
    (["--wait-ready", "48h"], "--wait-ready '48h': longer than 24h, the most it accepts"),
    (["--wait-ready", "9" * 40 + "h"], "longer than 24h, the most it accepts"),
    (["--report-dir", ""], "--report-dir is empty: name the folder"),
    (["--keep-reports", "-1"], "--keep-reports '-1': expected a whole number of runs to keep, 0 or more"),
    (["--keep-reports", "many"], "--keep-reports 'many': expected a whole number"),
    (["--ticket", ""], "--ticket is empty"),
    (["--ticket", "_CHG1"], "1 to 64 characters, a letter or digit first"),
    (["--ticket", "C" * 65], "1 to 64 characters, a letter or digit first"),
    (["--sandbox-fault", "ca-slow=abc"], "sandbox fault ca-slow=abc: give SECONDS, a number more than 0"),
    (["--sandbox-fault", "ca-slow=99999"], "at most 3600"),
    (["--sandbox-fault", "api-down=5"], "sandbox fault api-down=5: api-down takes no value"),
], ids=["wait-empty", "wait-too-long", "wait-huge", "report-dir-empty", "keep-negative", "keep-not-a-number",
        "ticket-empty", "ticket-first-character", "ticket-length", "fault-value-type", "fault-value-size",
        "fault-value-unwanted"])
def test_a_bad_option_is_one_line_naming_the_rule_with_exit_code_4(args, says):
    done = suite("--env", "sandbox", *args)
    assert done.returncode == 4, done.stdout + done.stderr
    line = only_line(done)
    assert line.startswith("ERROR: ") and says in line, line


def test_a_report_dir_that_is_a_file_is_refused(tmp_path):
    taken = tmp_path / "reports"
    taken.write_text("not a folder")
    done = suite("--env", "sandbox", "--report-dir", str(taken))
    assert done.returncode == 4
    assert f"--report-dir {taken}: is a file, not a folder" in only_line(done)


def _environment(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prod.toml"
    path.write_text('[command]\nurl = "https://kf.example.com"\n' + text)
    return str(path)


@pytest.mark.parametrize(("text", "says"), [
    ('ca_bundle = "certs"\n', "[command] ca_bundle {certs} is a directory, not a file"),
    ('[auth]\nprincipal = "svc@CORP"\nkeytab = "certs"\n', "[auth] keytab {certs} is a directory, not a file"),
    ('[ticket]\nsystem = "servicenow"\nurl = "https://sn.example.com"\nusername = "svc"\npassword_env = "X"\n'
     'ca_bundle = "certs"\n', "[ticket] ca_bundle {certs} is a directory, not a file"),
    ('[logs]\npaths = ["."]\nsince = "99999999999999d"\n', "[logs] since = '99999999999999d': since "
                                                           "'99999999999999d': longer than 365d, the most it accepts"),
    ('[logs]\npaths = ["."]\nsince = ""\n', "[logs] since = '': since is empty"),
    ('[auth]\nmethod = "basic"\nusername = "CORP\\\\svc"\npassword_env = "KF_DOOR_EMPTY"\n',
     "environment variable KF_DOOR_EMPTY is set but empty"),
], ids=["ca-bundle-directory", "keytab-directory", "ticket-ca-bundle-directory", "log-window-huge",
        "log-window-empty", "password-empty"])
def test_a_bad_value_in_the_environment_file_is_one_line_with_exit_code_4(tmp_path, text, says):
    (tmp_path / "certs").mkdir()
    done = suite("--env", _environment(tmp_path, text), env={"KF_DOOR_EMPTY": ""})
    assert done.returncode == 4, done.stdout + done.stderr
    line = only_line(done)
    assert says.format(certs=tmp_path / "certs") in line, line


def test_an_environment_file_that_is_a_directory_is_said(tmp_path):
    folder = tmp_path / "prod.toml"
    folder.mkdir()
    done = suite("--env", str(folder))
    assert done.returncode == 4
    assert f"{folder}: is a directory, not a file" in only_line(done)


def test_every_duration_reader_is_the_one_in_the_ground_floor():
    """One parser for --wait-ready and the log window: the same forms, the same messages, an upper bound each."""
    for text, seconds in (("90s", 90), ("10m", 600), ("1h30m", 5400), ("1.5h", 5400), ("2d", 172800), ("1w", 604800)):
        assert durations.parse_duration(text, "x", timedelta(weeks=1)).total_seconds() == seconds
    readers = [path for path in (ROOT / "smoke").rglob("*.py") if "def parse_duration" in path.read_text()]
    assert [p.relative_to(ROOT).as_posix() for p in readers] == ["smoke/ground/durations.py", "smoke/run/readiness.py"]
    assert "durations.parse_duration" in (ROOT / "smoke" / "run" / "readiness.py").read_text()


# --- python -m smoke.logscan: exit code 2 ------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "says"), [
    (["--since", "99999999999999d"], "logs: since '99999999999999d': longer than 365d, the most it accepts"),
    (["--since", "0001-01-01T00:00+14:00"], "falls outside the calendar in the log clock"),
    (["--since", ""], "logs: since is empty"),
    (["--until", ""], "logs: until is empty"),
], ids=["since-huge", "since-before-year-1", "since-empty", "until-empty"])
def test_a_bad_window_for_the_log_scanner_is_one_line_with_exit_code_2(tmp_path, args, says):
    (tmp_path / "app.log").write_text("2026-11-30 10:00:00.1234 Keyfactor.Foo [Info] - hello\n")
    done = run("-m", "smoke.logscan", str(tmp_path), *args)
    assert done.returncode == 2
    assert says in only_line(done)


def test_an_empty_path_for_the_log_scanner_is_not_the_current_folder():
    done = run("-m", "smoke.logscan", "")
    assert done.returncode == 2
    assert only_line(done) == "logs: an empty path — give the log files or their folder"


# --- python -m sandbox: exit code 2 ------------------------------------------------------------------------------


def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return run("-m", "sandbox", "--basic-only", *args)


@pytest.mark.parametrize(("args", "says"), [
    (["--port", "-1"], "--port -1: a TCP port is 1 to 65535"),
    (["--port", "70000"], "--port 70000: a TCP port is 1 to 65535"),
    (["--port", "https"], "argument --port: invalid int value: 'https' — see python -m sandbox --help"),
    (["--fault", "ca-slow=abc"], "sandbox fault ca-slow=abc: give SECONDS, a number more than 0 and at most 3600"),
    (["--fault", "slow-start"], "sandbox fault slow-start: give SECONDS"),
    (["--fault", "api-down=5"], "sandbox fault api-down=5: api-down takes no value"),
], ids=["port-negative", "port-too-high", "port-not-a-number", "fault-value-type", "fault-value-missing",
        "fault-value-unwanted"])
def test_a_bad_sandbox_option_is_one_line_with_exit_code_2(args, says):
    done = sandbox(*args)
    assert done.returncode == 2
    line = only_line(done)
    assert line.startswith("python -m sandbox: ") and says in line, line


def test_an_environment_for_the_sandbox_that_is_a_folder_or_missing_is_one_line(tmp_path):
    done = sandbox("--environment", str(tmp_path))
    assert done.returncode == 2
    assert f"--environment {tmp_path}: is a directory, not a file" in only_line(done)
    done = sandbox("--environment", str(tmp_path / "missing.toml"))
    assert done.returncode == 2
    assert "missing.toml: file not found" in only_line(done)


def test_a_busy_port_is_one_line_naming_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = sandbox("--port", str(port))
    assert done.returncode == 2
    assert f"--port {port}: the port is in use on 127.0.0.1 — choose another" in only_line(done)


def test_a_state_folder_that_is_a_file_or_cannot_be_made_is_one_line(tmp_path):
    occupied = tmp_path / "state"
    occupied.write_text("a file")
    done = sandbox("--state-dir", str(occupied))
    assert done.returncode == 2
    assert f"--state-dir {occupied}: is a file, not a folder" in only_line(done)
    below_a_file = occupied / "inside"
    done = sandbox("--state-dir", str(below_a_file))
    assert done.returncode == 2
    assert f"--state-dir {below_a_file}: cannot write there" in only_line(done)
