"""Every check can fail: each fault in the sandbox's registry turns exactly its check red with a message
that names the cause, and a healthy sandbox stays green."""

from __future__ import annotations

import json

import pytest

from sandbox.faults import REGISTRY
from tests.suite_runs import run_suite


def test_a_healthy_sandbox_passes_every_api_check_over_kerberos(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "api")
    assert run.returncode == 0, run.output
    assert run.outcomes and run.with_outcome("passed") == set(run.outcomes), run.outcomes
    table = (run.results_dir / "environment.properties").read_text()
    assert "Authentication=Kerberos (Negotiate, mutually authenticated)" in table
    assert "Authentication: Kerberos" in run.output
    titles = {json.loads(p.read_text())["name"] for p in run.results_dir.glob("*-result.json")}
    assert "The api answers an authenticated request" in titles, titles  # the sentence an auditor ticks


@pytest.mark.parametrize("fault", sorted(REGISTRY.values(), key=lambda f: f.name), ids=lambda f: f.name)
def test_each_fault_fails_exactly_its_check_with_a_one_line_cause(tmp_path, fault):
    if fault.takes_value:
        pytest.skip(f"{fault.name} takes a value; its own test covers it")
    if not fault.fails:
        pytest.skip(f"{fault.name} concerns attaching to the change ticket, not a check: tests/test_ticket.py")
    if fault.marker == "carried_over":
        pytest.skip(f"{fault.name} is compared with a baseline of the healthy sandbox: tests/test_carried_over.py")
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-fault", fault.name, "-m", fault.marker)
    assert run.returncode == 1, run.output
    assert run.with_outcome("failed") == set(fault.fails), run.outcomes
    assert not run.with_outcome("error"), run.outcomes
    for node in fault.fails:
        message = run.messages[node]
        assert fault.says in message, message
        assert "\n" not in message.strip() and "Traceback" not in message
    for node in run.with_outcome("skipped"):
        assert "failed earlier in this run" in run.messages[node], run.messages[node]


def test_an_unknown_fault_is_one_line_listing_the_known_ones(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-fault", "no-such-fault")
    assert run.returncode == 4
    assert "unknown sandbox fault 'no-such-fault'; known faults: alert-handler-moved, api-down" in run.output
    assert "Traceback" not in run.output
