"""The environment file the sandbox writes runs every check environments/sandbox.toml runs: a newcomer who follows
what `python -m sandbox` prints sees the same checks as `pytest --env sandbox`, none skipped as not configured."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib

import pytest

from sandbox import run_environment
from sandbox.app import Sandbox
from sandbox.faults import ActiveFaults
from smoke.ground import settings
from tests.suite_runs import ROOT, run_suite

SANDBOX_ENV = settings.ENVIRONMENTS_DIR / "sandbox.toml"


@pytest.mark.parametrize("name", ["sandbox", "example-prod"])
def test_environment_files_survive_being_written_again(name):
    with (settings.ENVIRONMENTS_DIR / f"{name}.toml").open("rb") as handle:
        read = tomllib.load(handle)
    assert tomllib.loads(run_environment.dumps(read)) == read


def test_the_run_file_carries_every_section_of_the_environment_with_the_runs_values_over_them(tmp_path):
    running = Sandbox(tmp_path / "sandbox", ActiveFaults(), kerberos=False, environment=SANDBOX_ENV)
    running.start()
    try:
        written = tomllib.loads(running.environment_toml())
    finally:
        running.stop()
    base = settings.read_toml(SANDBOX_ENV)
    # The written file points at this sandbox, it starts none; [ticket] is its ServiceNow stand-in's (a per-start URL).
    assert set(written) == (set(base) - {"sandbox"}) | {"ticket"}
    for section in set(base) - {"sandbox", "command", "auth", "logs", "operations", "baseline"}:
        assert written[section] == base[section], section
    assert written["operations"] == {**base["operations"], "issuer_certificates": [
        str(running.state_dir / "revocation-issuers.pem")]}  # the sandbox's CA certificates, for CRL/OCSP signatures
    assert written["baseline"] == {**base["baseline"], "files": written["baseline"]["files"]}
    assert written["baseline"]["files"]  # the run's value: the files on the sandbox's disk
    assert written["command"] == {**base["command"], "url": running.url, "ca_bundle": str(running.ca_bundle)}
    assert written["auth"]["method"] == "basic"  # the run's value: this sandbox has no Kerberos realm
    assert written["logs"]["freshness_minutes"] == base["logs"]["freshness_minutes"] and written["logs"]["paths"]


def test_python_m_sandbox_then_the_printed_pytest_line_runs_what_pytest_env_sandbox_runs(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--state-dir", str(tmp_path / "state")], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = _introduction(process)
        exports = dict(line.removeprefix("export ").split("=", 1) for line in printed if line.startswith("export "))
        [command] = [line for line in printed if line.startswith("pytest --env ")]
        standalone = run_suite(tmp_path / "standalone", *shlex.split(command)[1:],
                               env={name: shlex.split(value)[0] for name, value in exports.items()})
    finally:
        process.terminate()
        process.wait(timeout=30)
    embedded = run_suite(tmp_path / "embedded", "--env", "sandbox")
    # One web server unless --nodes N: the checks of every node behind a load balancer are the one area left out.
    not_configured = {node: message for run in (standalone, embedded) for node, message in run.messages.items()
                      if "not configured" in message and not message.startswith("[command] nodes not configured")}
    assert not not_configured, not_configured
    assert standalone.outcomes == embedded.outcomes, standalone.output
    assert standalone.returncode == embedded.returncode == 0, standalone.output + embedded.output
    assert len(standalone.outcomes) >= 20


def _introduction(process: subprocess.Popen[str]) -> list[str]:
    """What `python -m sandbox` prints up to "Ctrl-C stops it.", stripped."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line.strip())
        if line.startswith("Ctrl-C stops it."):
            return lines
    raise AssertionError("python -m sandbox ended before introducing itself: " + " | ".join(lines))
