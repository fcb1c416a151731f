"""`pytest --env /elsewhere/prod.toml`: pytest picks its root folder from bare paths on the command line
before any plugin can say that this path is the value of --env, so an environment file outside the project
would make the folder above both the root, and the project's pytest settings would be lost. In that case the
run is started again with the project's root and settings named explicitly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_GUARD = "KF_SMOKE_ROOT_FIXED"


def misplaced(rootpath: Path, invocation_args: tuple[str, ...]) -> bool:
    explicit = any(a in ("-c", "--rootdir") or a.startswith(("--rootdir=", "--config-file")) for a in invocation_args)
    return rootpath.resolve() != ROOT and not explicit and not os.environ.get(_GUARD)


def rerun_from_project_root(invocation_args: tuple[str, ...]) -> None:
    """Runs the same command with --rootdir and -c pointing at the project, then exits with its code."""
    command = [sys.executable, "-m", "pytest", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
               *invocation_args]
    sys.stdout.flush()
    sys.stderr.flush()
    child = subprocess.Popen(command, env={**os.environ, _GUARD: "1"})
    # Ctrl-C reaches the child through the terminal's process group; the child must have the time to revoke
    # what it enrolled, so this process waits instead of killing it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os._exit(child.wait())
