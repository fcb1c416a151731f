"""Choosing and validating an environment: every bad input is one clear line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from smoke.ground import sections, settings
from smoke.ground.errors import ConfigError
from smoke.run import environment
from tests.suite_runs import ROOT


def run_pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def only_line(done: subprocess.CompletedProcess[str]) -> str:
    text = (done.stdout + done.stderr).strip()
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_pytest_without_env_stops_before_any_test_and_lists_the_environments():
    done = run_pytest()
    line = only_line(done)
    assert done.returncode == 4
    assert "--env" in line and "sandbox" in line and "example-prod" in line


def test_an_unknown_environment_name_is_one_line_listing_those_found():
    done = run_pytest("--env", "staging")
    assert done.returncode == 4
    assert only_line(done) == ("ERROR: --env staging: no environments/staging.toml; "
                               "environments found: example-prod, sandbox")


def test_a_malformed_environment_file_is_one_line_with_its_position(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[command\nurl = "https://x"\n')
    done = run_pytest("--env", str(broken))
    assert done.returncode == 4
    line = only_line(done)
    assert str(broken) in line and "not valid TOML" in line and "line 1" in line


def test_a_sandbox_fault_without_the_sandbox_is_refused(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text('[command]\nurl = "https://kf.example.com"\n')
    done = run_pytest("--env", str(plain), "--sandbox-fault", "api-down")
    assert done.returncode == 4
    assert "--sandbox-fault needs the embedded sandbox" in only_line(done)


def test_the_self_tests_need_no_environment():
    done = run_pytest("tests/test_environments.py::test_relative_paths_are_relative_to_the_environment_file", "-q")
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[command]\nurl = "https://a"\ntimeout = 3', "[command] timeout: unknown key (did you mean timeout_s?)"),
        ('[command]\nurl = "https://a"\ntimeout_s = "30"', "[command] timeout_s = '30': expected a number"),
        ('[command]\napi_path = "/KeyfactorAPI"', '[command] url is required, e.g. url = "https://'),
        ("[auth]\nmethod = 'kerberos'", "[command] section is required"),
        ('[command]\nurl = "http://kf"', "must start with https://"),
        ('[command]\nurl = "https://a"\n[auth]\nmethod = "ntlm"', "[auth] method = 'ntlm'"),
        ('[command]\nurl = "https://a"\n[portals]\nx = 1', "[portals]: unknown section"),
        ('[command]\nurl = 443', "[command] url = 443: expected a string"),
        ('[command]\nurl = "https://a"\nca_bundle = "missing.pem"', "ca_bundle"),
        ('[command]\nurl = "https://a"\n[auth]\nkeytab = "k.keytab"', "[auth] keytab needs principal"),
        ('[command]\nurl = "https://a"\n[auth]\nmethod = "basic"\nusername = "CORP\\\\svc"', "needs password_env"),
    ],
)
def test_each_bad_environment_file_is_one_line_naming_file_key_and_expectation(tmp_path, content, expected):
    path = tmp_path / "env.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as raised:
        environment.load(str(path))
    message = str(raised.value)
    assert expected in message and "\n" not in message
    assert message.startswith(str(path)) or "Basic auth" in message


def test_a_missing_password_variable_names_the_variable_not_the_value(tmp_path, monkeypatch):
    monkeypatch.delenv("KF_TEST_ABSENT", raising=False)
    path = tmp_path / "env.toml"
    path.write_text('[command]\nurl = "https://a"\n[auth]\nmethod = "basic"\nusername = "CORP\\\\svc"\n'
                    'password_env = "KF_TEST_ABSENT"\n')
    with pytest.raises(ConfigError, match="environment variable KF_TEST_ABSENT is not set"):
        environment.load(str(path))


def test_relative_paths_are_relative_to_the_environment_file(tmp_path):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "root.pem").write_text("placeholder")
    path = tmp_path / "env.toml"
    path.write_text('[command]\nurl = "https://kf.example.com/"\nca_bundle = "certs/root.pem"\n')
    loaded = environment.load(str(path))
    assert loaded.command.ca_bundle == (tmp_path / "certs" / "root.pem").resolve()
    assert loaded.api_url == "https://kf.example.com/KeyfactorAPI"


def test_the_shipped_environments_are_valid():
    assert environment.load("example-prod").command.url == "https://keyfactor.corp.example.com"
    loaded = environment.load("sandbox", {"command": {"url": "https://localhost"}})
    assert loaded.sandbox is not None and loaded.auth.method == "kerberos"


def test_example_prod_documents_every_key():
    text = (settings.ENVIRONMENTS_DIR / "example-prod.toml").read_text()
    for model in (sections.CommandSection, sections.AuthSection):
        for key in model.model_fields:
            assert key in text, f"example-prod.toml does not document {key}"
    assert Path(settings.ENVIRONMENTS_DIR / "sandbox.toml").exists()
