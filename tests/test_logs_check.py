"""The logs check and the sandbox's log folder: the window chosen by the last configuration-wizard run, the
errors found in it exactly, waivers from the environment (an expired one counts again, and says so), a
missing folder as one line. (The log-errors and logging-stopped faults are proven by test_faults.py.)"""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from pathlib import Path

from sandbox import logs as sandbox_logs
from smoke.logscan import default_window, newest_entry_time, scan
from tests.suite_runs import ROOT, run_suite

NOW = dt.datetime(2026, 11, 27, 14, 30, 0)
ERRORS_CHECK = "smoke/test_logs.py::test_no_errors_were_logged_since_the_upgrade"
FRESHNESS_CHECK = "smoke/test_logs.py::test_every_log_location_is_still_being_written"


def written(tmp_path: Path, *, errors: bool) -> Path:
    folder = tmp_path / "Keyfactor" / "logs"
    logs = sandbox_logs.LogFolder(folder, NOW, errors=errors)
    logs.build()
    logs.write()
    return folder


def found(result) -> set[tuple[str, str, int]]:
    return {(group.logger, group.level, group.count) for group in result.groups}


def test_the_sandbox_logs_are_clean_from_the_last_wizard_run_but_not_over_the_last_24_hours(tmp_path):
    folder = written(tmp_path, errors=False)
    window = default_window([folder], NOW)
    assert window.start == NOW - sandbox_logs.WIZARD_AT
    assert "configuration-wizard run in Command_Configuration_Log.txt" in window.source
    assert scan([folder], window).clean
    before = scan([folder], NOW - dt.timedelta(hours=24))
    assert found(before) == {
        ("Keyfactor.Logging.ExceptionLogger", "Error", 3),  # SQL unreachable before the upgrade
        ("CSS.CMS.Core.Services.Timer.TimerService", "Error", 1),
        ("CSS.CMS.Install.ConfigurationWizard.ViewModels.DatabaseViewModel", "Error", 1),  # the failed attempt
    }
    newest = newest_entry_time(folder)
    assert newest is not None and NOW - dt.timedelta(minutes=5) < newest <= NOW


def test_the_sandbox_log_errors_are_found_exactly_with_the_vendors_stack_trace(tmp_path):
    folder = written(tmp_path, errors=True)
    result = scan([folder], default_window([folder], NOW))
    assert found(result) == {
        ("Keyfactor.Logging.ExceptionLogger", "Error", 3),
        ("CSS.CMS.Core.Services.Alerts.ExpirationAlertHandler", "Error", 2),
        ("Keyfactor.Sql.Management.Upgrade.UpgradePlan", "Error", 1),
    }
    api = next(g for g in result.groups if g.logger == "Keyfactor.Logging.ExceptionLogger")
    assert sorted(path.name for path in api.files) == ["Command_KeyfactorAPI_Log.1.txt", "Command_KeyfactorAPI_Log.txt"]
    upgrade = next(g for g in result.groups if g.logger.endswith("UpgradePlan"))
    lines = upgrade.excerpt.splitlines()
    logger, _level, message = sandbox_logs.VENDOR_UPGRADE_ERROR
    assert lines[0].endswith(f" {logger} [Error] - {message}")
    assert lines[1:] == sandbox_logs.UPGRADE_TRACE


def test_the_sandbox_writes_crlf_lines_and_keeps_writing(tmp_path):
    folder = written(tmp_path, errors=False)
    api_log = folder / sandbox_logs.API
    before = api_log.read_bytes()
    archive = (folder / sandbox_logs.API_ARCHIVE).read_bytes()
    assert archive.count(b"\r\n") == archive.count(b"\n") > 100 and before.count(b"\r\n") == before.count(b"\n")
    assert (folder / sandbox_logs.CONFIGURATION).read_bytes().startswith(b"\xef\xbb\xbf")
    writer = sandbox_logs.Writer(folder)
    writer.start()
    try:
        deadline = time.monotonic() + 10 * sandbox_logs.WRITE_EVERY_S  # a wait, not a timing check
        while api_log.stat().st_size == len(before) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        writer.stop()
    after = api_log.read_bytes()
    assert after.startswith(before) and after.endswith(b"\r\n") and len(after) > len(before)
    assert b" [Info] - " in after[len(before):]


def test_an_expired_waiver_counts_again_and_the_report_says_so(tmp_path):
    env = tmp_path / "waivers.toml"
    base = (ROOT / "environments" / "sandbox.toml").read_text()
    env.write_text(base + (
        "\n[[logs.waivers]]\n"
        'pattern = "ExpirationAlertHandler .*Extension Handler Path"\n'
        'justification = "handler moved in change CHG-1234"\n'
        "expires = 2099-12-31\n"
        "\n[[logs.waivers]]\n"
        'pattern = "UpgradePlan .*EJBCA_Resolved"\n'
        'justification = "vendor case 12345"\n'
        "expires = 2020-01-01\n"
    ))
    tomllib.loads(env.read_text())  # the test's own file is valid TOML
    run = run_suite(tmp_path, "--env", str(env), "--sandbox-fault", "log-errors", "-m", "logs")
    assert run.with_outcome("failed") == {ERRORS_CHECK}, run.outcomes
    message = run.messages[ERRORS_CHECK]
    assert "2 error groups (4 entries)" in message and "(1 waived group, 2 entries)" in message
    assert ("waiver 'UpgradePlan .*EJBCA_Resolved' expired on 2020-01-01, evaluating "
            "normally") in message
    assert "UpgradePlan" in message.split("; waiver")[0] and "ExpirationAlertHandler" not in message
    table = (run.results_dir / "environment.properties").read_text()
    assert "vendor case 12345" in table and "expires 2020-01-01" in table


def test_a_missing_log_folder_is_one_line_and_blocks_the_freshness_check(tmp_path):
    missing = tmp_path / "not-mounted" / "Keyfactor" / "logs"
    env = tmp_path / "logs-only.toml"
    env.write_text(f'[command]\nurl = "https://kf.example.com"\n\n[logs]\npaths = ["{missing}"]\n')
    run = run_suite(tmp_path, "--env", str(env), "-m", "logs")
    assert run.returncode == 1, run.output
    assert run.outcomes == {ERRORS_CHECK: "failed", FRESHNESS_CHECK: "skipped"}
    assert run.messages[ERRORS_CHECK] == (f"logs: folder {missing} does not exist or is not reachable — check the "
                                          "share is mounted and the path in [logs] paths")
    assert "failed earlier in this run" in run.messages[FRESHNESS_CHECK]
    assert "Traceback" not in run.output
