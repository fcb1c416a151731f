"""A change window ends runs with Ctrl-C, a closed terminal or a cancelled CI job (SIGTERM, then SIGKILL). Each stops
the run the way Ctrl-C does: what was issued is revoked — the sandbox's own records show it —, the verdict is
INTERRUPTED, the summary is written and the exit code is pytest's 2; a second Ctrl-C during the cleanup is said, not
obeyed. The same when the suite restarted itself for an environment file outside the project: the parent passes the
signal on and waits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.app import Sandbox
from smoke.ground import interrupts
from tests.suite_runs import ROOT
from tests.test_enrollment import environment, running, smoke_certificates, unrevoked

INTERRUPTED = 2  # pytest's exit code for an interrupted run, as README's table says


@pytest.fixture(scope="module")
def slow_ca(tmp_path_factory) -> Iterator[Sandbox]:
    """A CA that takes 8 s to answer an enrollment, so that the run is stopped while it waits for the answer, and 1 s
    to answer a revocation, so that a repeated Ctrl-C meets the cleanup."""
    with running(tmp_path_factory.mktemp("slow-ca"), "ca-slow=8", "revoke-slow=1") as sandbox:
        yield sandbox


@dataclass
class Stopped:
    returncode: int
    output: str
    summary: str
    certificates: list[dict]  # the sandbox's records of this run's smoke certificates


Send = Callable[[subprocess.Popen[bytes], Path], None]


def to_group(*numbers: int) -> Send:
    """As a terminal (Ctrl-C) or a CI runner does: the signal to the whole process group; a repeated one once the
    run has said it is stopping, 0.3 s later (a repeat within 0.25 s is the same request), while it revokes."""
    def send(suite: subprocess.Popen[bytes], log: Path) -> None:
        for i, number in enumerate(numbers):
            if i:
                deadline = time.monotonic() + 30
                while "stopping — revoking" not in log.read_text() and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.3)
            os.killpg(suite.pid, number)
    return send


def to_process(number: int) -> Send:
    """`kill PID`: the signal to the process started, alone."""
    return lambda suite, log: suite.send_signal(number)


def stopped_run(tmp_path: Path, sandbox: Sandbox, send: Send, *,
                outside: bool) -> Stopped:
    """Runs the enrollment checks and stops the run once the sandbox has issued its certificate, while the suite
    still waits for the answer. `outside`: the environment file outside the project, so that the suite restarts
    itself and the signal meets the parent first."""
    env = environment(tmp_path, sandbox, timeout_s=60)
    # --rootdir/-c: one pytest process, as with an environment file inside the project.
    project = [] if outside else ["--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")]
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *project, "--env", env, "--report-dir",
               str(tmp_path / "reports"), "-m", "enrollment"]
    before = {c["Id"] for c in smoke_certificates(sandbox)}
    log_path = tmp_path / "suite.log"
    with log_path.open("w") as log:
        suite = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                 env={**os.environ, "KF_SMOKE_ALLURE": "/nonexistent/allure"})
        try:
            deadline = time.monotonic() + 90
            while not [c for c in smoke_certificates(sandbox) if c["Id"] not in before]:
                assert suite.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            send(suite, log_path)
            returncode = suite.wait(timeout=60)
        finally:
            if suite.poll() is None:
                os.killpg(suite.pid, signal.SIGKILL)
    output = log_path.read_text()
    run_id = re.search(r"Enrollment run: (\S+)", output)
    assert run_id, output
    mine = [c for c in smoke_certificates(sandbox) if run_id.group(1) in c["IssuedCN"]]
    summaries = list((tmp_path / "reports").glob("*/latest-summary.md"))
    return Stopped(returncode, output, summaries[0].read_text() if summaries else "", mine)


WAYS = {
    "SIGTERM to the process group": (to_group(signal.SIGTERM), "SIGTERM"),
    "Ctrl-C twice to the process group": (to_group(signal.SIGINT, signal.SIGINT), "SIGINT"),
    "SIGTERM to the process alone": (to_process(signal.SIGTERM), "SIGTERM"),
    "Ctrl-C to the process alone": (to_process(signal.SIGINT), "SIGINT"),
}


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals to a process group")
@pytest.mark.parametrize(("where", "way"), [
    ("inside", "SIGTERM to the process group"),
    ("inside", "Ctrl-C twice to the process group"),
    ("outside", "SIGTERM to the process group"),
    ("outside", "Ctrl-C twice to the process group"),
    ("outside", "SIGTERM to the process alone"),
    ("outside", "Ctrl-C to the process alone"),
])
def test_a_stopped_run_revokes_what_it_issued_and_ends_interrupted_with_its_summary(tmp_path, slow_ca, where, way):
    send, name = WAYS[way]
    run = stopped_run(tmp_path, slow_ca, send, outside=where == "outside")
    assert run.returncode == INTERRUPTED, run.output
    # The CA issued while the suite waited: the cleanup found the certificate by the run id and revoked it.
    assert len(run.certificates) == 1 and not unrevoked(run.certificates), run.certificates
    assert f"Verdict: INTERRUPTED ({name})" in run.summary, run.output
    assert re.search(r"Smoke certificates: run \S+: 1 issued, 1 revoked", run.summary), run.summary
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output, run.output
    assert f"{name}: revoking the smoke certificates of run" in run.output
    if "twice" in way:
        (said,) = [line for line in run.output.splitlines() if "cleanup is running" in line]
        assert said.startswith("SIGINT: cleanup is running and the run stops by itself when it is done; if it is cut "
                               "short, "), said


# --- the rules themselves, with real signals in this process ------------------------------------------------------


class _Issuer:
    """Something that issued and has not revoked yet."""

    def __init__(self) -> None:
        self.left: str | None = "revoke by hand the smoke certificates of run 42"

    def left_by_hand(self) -> str | None:
        return self.left


@pytest.fixture
def handled(monkeypatch) -> Callable[[], AbstractContextManager[None]]:
    """The suite's signal handling in this process, installed in the test's body (where capfd reads the terminal)."""
    monkeypatch.setattr(interrupts, "SAME_REQUEST_S", 0.0)

    @contextmanager
    def installed() -> Iterator[None]:
        assert interrupts.install()
        try:
            yield
        finally:
            interrupts.uninstall()

    return installed


@pytest.mark.parametrize("name", [n for n in ("SIGTERM", "SIGHUP", "SIGINT", "SIGBREAK") if hasattr(signal, n)])
def test_the_first_stop_signal_interrupts_as_ctrl_c_does(handled, name):
    with handled():
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(getattr(signal, name))
        assert interrupts.stopped_by() == name


def test_inside_a_cleanup_a_stop_signal_waits_until_the_cleanup_is_done(capfd, handled):
    done = []
    with handled():
        with pytest.raises(KeyboardInterrupt), interrupts.shielded():
            signal.raise_signal(signal.SIGTERM)
            done.append("revoked")
        assert done == ["revoked"] and interrupts.stopped_by() == "SIGTERM"
    assert "SIGTERM: cleanup is running" in capfd.readouterr().err


def test_after_the_first_signal_later_ones_say_what_would_be_left_to_revoke_by_hand(capfd, handled):
    issuer = _Issuer()
    with handled():
        interrupts.watch(issuer)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # said, not raised
        issuer.left = None
        signal.raise_signal(signal.SIGTERM)
    said = [line for line in capfd.readouterr().err.splitlines() if line]
    assert said == [
        "SIGINT: stopping — revoking what this run issued and writing its summary first",
        "SIGINT: cleanup is running and the run stops by itself when it is done; if it is cut short, revoke by hand "
        "the smoke certificates of run 42",
        "SIGTERM: cleanup is running and the run stops by itself when it is done; if it is cut short, nothing is "
        "left to revoke by hand",
    ]


def test_the_same_signal_twice_at_once_is_one_request(handled, monkeypatch):
    """A signal to the process group reaches a restarted run directly and passed on by its parent."""
    monkeypatch.setattr(interrupts, "SAME_REQUEST_S", 60.0)
    with handled():
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        assert interrupts.stopped_by() == "SIGINT"


def test_once_the_checks_are_over_a_signal_is_said_and_the_summary_still_written(capfd, handled):
    with handled():
        interrupts.finishing()
        signal.raise_signal(signal.SIGTERM)
        assert interrupts.stopped_by() is None
    assert "SIGTERM: cleanup is running" in capfd.readouterr().err
