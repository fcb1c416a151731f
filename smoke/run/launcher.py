"""Starts the embedded sandbox as its own process (`python -m sandbox`) and reads its handshake.

The suite never imports the sandbox: it runs it, then talks to it over the network like to a real
server. The handshake file carries the run's URL, environment file and throwaway credentials. What a server keeps
from one start to the next (its CA, site certificate, port and files) stays in a home folder that every run of the
environment reuses, so that a baseline taken at one start compares with the next.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smoke.ground import interrupts
from smoke.ground.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class EmbeddedSandbox:
    process: subprocess.Popen[bytes]
    state_dir: Path
    ready: dict[str, Any]

    @property
    def env_file(self) -> Path:
        return Path(self.ready["env_file"])

    def begin_stop(self) -> None:
        """Asks it to stop, without waiting: it ends while the run writes its report."""
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        self.begin_stop()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        # Keys, tickets and the handshake's throwaway passwords go with the run.
        shutil.rmtree(self.state_dir, ignore_errors=True)


def home_for(report_dir: Path, environment: str) -> Path:
    """The sandbox's home beside the environment's reports and baselines: reports/<env>/.sandbox-home/."""
    return report_dir / environment / ".sandbox-home"


def start(faults: list[str], timeout_s: float = 60.0, agents: int | None = None, environment: Path | None = None,
          options: dict[str, Any] | None = None) -> EmbeddedSandbox:
    """`environment`: the file whose sections the sandbox's run file carries (the one that started it); `options`:
    [sandbox] keys passed on as `python -m sandbox --<key>` (uo_platform → --uo-platform)."""
    state_dir = Path(tempfile.mkdtemp(prefix="kf-sandbox-"))
    ready_file = state_dir / "ready.json"
    command = [sys.executable, "-m", "sandbox", "--state-dir", str(state_dir), "--ready-file", str(ready_file),
               "--parent-pid", str(os.getpid())]
    for fault in faults:
        command += ["--fault", fault]
    if agents is not None:
        command += ["--agents", str(agents)]
    if environment is not None:
        command += ["--environment", str(environment.resolve())]
    for key, value in (options or {}).items():
        command += ["--" + key.replace("_", "-"), str(value)]
    log = (state_dir / "sandbox.log").open("wb")
    # Its own process group: Ctrl-C must not stop it before the run has revoked what it issued; it stops with the
    # run (stop(), or --parent-pid when the run is killed).
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                               **interrupts.own_process_group())
    deadline = time.monotonic() + timeout_s
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            tail = (state_dir / "sandbox.log").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            if process.poll() == 2:  # it refused a fault or an option, and said which in one line
                raise ConfigError(f"the embedded sandbox did not start: {tail[0]}")
            raise ConfigError(f"the embedded sandbox did not start: {tail[0]} — run `python -m sandbox` to see why")
        time.sleep(0.01)
    return EmbeddedSandbox(process, state_dir, json.loads(ready_file.read_text()))
