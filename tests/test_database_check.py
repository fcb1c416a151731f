"""The database checks against the sandbox's SQL Server (FreeTDS through pyodbc, TLS validated against the
sandbox CA), a healthy sandbox green for the logs and database checks, and the lines a user meets when the
connection string is missing or misplaced. (Each sql-* fault is proven by test_faults.py.)"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sandbox.pki import SandboxPKI
from smoke.database import sql
from smoke.ground import settings
from smoke.ground.errors import ConfigError
from smoke.run import environment, launcher
from tests.suite_runs import run_suite
from tests.tds_helpers import PASSWORD, SECTION, sql_sandbox

DATABASE_CHECKS = {
    "smoke/test_database.py::test_the_sql_server_connection_is_encrypted",
    "smoke/test_database.py::test_the_keyfactor_database_is_at_compatibility_level_130_or_more",
    "smoke/test_database.py::test_the_sql_server_is_2016_cu2_or_later",
}
LOGS_CHECKS = {
    "smoke/test_logs.py::test_no_errors_were_logged_since_the_upgrade",
    "smoke/test_logs.py::test_every_log_location_is_still_being_written",
}


def test_a_healthy_sandbox_passes_every_logs_and_database_check(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "logs or database")
    assert run.returncode == 0, run.output
    assert run.outcomes == dict.fromkeys(DATABASE_CHECKS | LOGS_CHECKS, "passed"), run.outcomes
    table = (run.results_dir / "environment.properties").read_text()
    assert "SQL Server 2019 RTM 15.0.4355.3" in table and "encrypted: yes" in table
    assert "compatibility level 150" in table and "configuration-wizard run" in table
    shown = [p.read_text() for p in run.results_dir.glob("*-attachment.txt")]
    connection = [text for text in shown if "Servername=kfsql-sandbox" in text]
    assert connection and all("UID=kf_smoke;PWD=<redacted>;" in text for text in connection)
    # No password reaches a report or the console: every PWD= there is followed by the redaction mark.
    for text in [*shown, run.output, table]:
        assert not re.search(r"PWD=(?!<redacted>|\*\*\*)", text), text


@pytest.mark.parametrize(("value", "state"), [(None, "is not set"), ("", "is set but empty")])
def test_a_missing_connection_string_variable_is_one_line_naming_it(tmp_path, monkeypatch, value, state):
    monkeypatch.delenv("KF_SMOKE_SQL_UNSET_FOR_TEST", raising=False)
    env = tmp_path / "database-only.toml"
    env.write_text('[command]\nurl = "https://kf.example.com"\n\n[database]\n'
                   'connection_string_env = "KF_SMOKE_SQL_UNSET_FOR_TEST"\n')
    given = {} if value is None else {"KF_SMOKE_SQL_UNSET_FOR_TEST": value}
    run = run_suite(tmp_path, "--env", str(env), "-m", "database", env=given)
    first = "smoke/test_database.py::test_the_sql_server_connection_is_encrypted"
    assert run.with_outcome("failed") == {first} and run.with_outcome("skipped") == DATABASE_CHECKS - {first}
    assert run.messages[first].startswith("[database] connection_string_env: environment variable "
                                          f"KF_SMOKE_SQL_UNSET_FOR_TEST {state} — set it to the ODBC connection "
                                          "string of the Keyfactor database")
    for node in DATABASE_CHECKS - {first}:
        assert "failed earlier in this run" in run.messages[node]
    assert "Traceback" not in run.output


def test_a_connection_string_pasted_into_the_file_is_refused_without_showing_it(tmp_path):
    pasted = "DRIVER={FreeTDS};SERVER=sql01;UID=kf;PWD=Pasted-Secret-9"
    with pytest.raises(ConfigError) as err:
        environment.build("prod", tmp_path / "prod.toml", {"command": {"url": "https://kf.example.com"},
                                                        "database": {"connection_string_env": pasted}})
    text = str(err.value)
    assert "must be the NAME of the environment variable" in text and "\n" not in text
    assert "Pasted-Secret-9" not in text and "DRIVER" not in text


@pytest.fixture(scope="module")
def pki() -> SandboxPKI:
    return SandboxPKI.create("TDS")


def test_freetds_servername_connections_get_the_same_diagnosis_as_server_ones(tmp_path, pki, monkeypatch):
    # The sandbox's (and a careful user's) FreeTDS connection names a freetds.conf section, so that the
    # certificate is validated: "no TLS at all" and "refused" must still be told apart from a bad certificate.
    for fault, error, phrase in [("sql-unencrypted", sql.EncryptionUnavailable, "does not support encryption"),
                                 ("sql-down", sql.ServerUnreachable, "(connection refused)")]:
        directory = tmp_path / fault
        monkeypatch.setenv("FREETDSCONF", str(directory / "freetds.conf"))
        with sql_sandbox(directory, pki, faults={fault}) as box, pytest.raises(error) as err:
            sql.connect(box.connection_string(), 5)
        text = str(err.value)
        assert phrase in text and f"freetds.conf server '{SECTION}' (127.0.0.1,{box.server.port})" in text
        assert PASSWORD not in text and "\n" not in text


def test_a_freetds_section_is_found_where_freetds_looks(tmp_path, monkeypatch):
    conf = tmp_path / "freetds.conf"
    conf.write_text("[global]\n\ttds version = 7.4\n; a comment\n[KFSQL]\n\thost = sql01.corp.example\n"
                    "\tport = 14330   # the named port\n[named]\n\thost = sql02\n\tinstance = KEYFACTOR\n")
    monkeypatch.setenv("FREETDSCONF", str(conf))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sql.freetds_endpoint("kfsql") == ("sql01.corp.example", 14330)
    assert sql.freetds_endpoint("named") is None  # its port comes from SQL Browser
    assert sql.freetds_endpoint("absent") is None


def test_the_sandbox_hands_over_the_connection_string_only_through_the_handshake():
    sandbox = launcher.start([])
    try:
        run_file = settings.read_toml(sandbox.env_file)
        text = sandbox.env_file.read_text()
        connection_string = sandbox.ready["environ"]["KF_SANDBOX_SQL"]
        conf = Path(sandbox.ready["environ"]["FREETDSCONF"]).read_text()
    finally:
        sandbox.stop()
        shutil.rmtree(sandbox.state_dir, ignore_errors=True)
    assert run_file["database"]["connection_string_env"] == "KF_SANDBOX_SQL"
    assert not {"connection_string", "password"} & set(run_file["database"])
    assert Path(run_file["logs"]["paths"][0]).name == "logs"
    found = re.search(r"PWD=([^;]+);", connection_string)
    assert found
    password = found.group(1)
    assert len(password) >= 16 and password not in text and password not in conf
    assert "Servername=kfsql-sandbox;" in connection_string and "Encryption=require" in connection_string
    assert re.search(r"\[kfsql-sandbox\][^[]*ca file = \S+ca-bundle\.pem", conf)
