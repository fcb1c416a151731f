"""Runs the suite as a user does (a separate `pytest` process) and reads what it reported."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SuiteRun:
    returncode: int
    output: str
    outcomes: dict[str, str]  # node id -> passed | failed | skipped | error
    messages: dict[str, str]
    results_dir: Path

    def with_outcome(self, outcome: str) -> set[str]:
        return {node for node, found in self.outcomes.items() if found == outcome}


def run_suite(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> SuiteRun:
    junit = tmp_path / "junit.xml"
    results = tmp_path / "allure-results"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}",
               f"--alluredir={results}", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    outcomes, messages = read_junit(junit)
    return SuiteRun(done.returncode, done.stdout + done.stderr, outcomes, messages, results)


def read_junit(junit: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(node id -> passed | failed | skipped | error, node id -> its one-line message) from a JUnit XML file."""
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    if not junit.exists():
        return outcomes, messages
    for case in ET.parse(junit).getroot().iter("testcase"):
        node = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                # junit's message attribute is cut at 500 characters; a failure's text holds the whole line.
                full = child.text if child.tag == "failure" and child.text else child.get("message", "")
                messages[node] = full.strip().removeprefix("Failed: ")
        outcomes[node] = outcome
    return outcomes, messages
