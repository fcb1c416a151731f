"""`pytest --env /elsewhere/prod.toml`: pytest picks its root folder from bare paths on the command line
before any plugin can say that this path is the value of --env, so an environment file outside the project
would make the folder above both the root, and the project's pytest settings would be lost. In that case the
run is started again with the project's root and settings named explicitly. `--env=/elsewhere/prod.toml` (with
`=`, an option pytest does not know yet rather than a path) keeps the project's root and starts pytest once."""

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
    """Runs the same command with --rootdir and -c pointing at the project, then exits with its code. A stop signal
    to this process is passed on to the run, which revokes what it issued and writes its summary; this process
    waits for it, however often it is asked to stop."""
    command = [sys.executable, "-m", "pytest", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
               *invocation_args]
    sys.stdout.flush()
    sys.stderr.flush()
    children: list[subprocess.Popen[bytes]] = []
    early: list[int] = []

    def pass_on(number: int, frame: object) -> None:
        if children:
            children[0].send_signal(number)
        else:
            early.append(number)

    for number in _PASSED_ON:
        signal.signal(number, pass_on)
    for number in _IGNORED:
        signal.signal(number, signal.SIG_IGN)
    children.append(subprocess.Popen(command, env={**os.environ, _GUARD: "1"}))
    for number in early:
        children[0].send_signal(number)
    code = children[0].wait()
    os._exit(code if code >= 0 else 128 - code)  # killed by a signal: the shell's 128 + its number


# On Windows the console sends Ctrl-C and Ctrl-Break to every process attached to it, the run included: this process
# only has to outlive it. Elsewhere a signal may be meant for this process alone (kill PID, a CI job cancelled).
_PASSED_ON = () if sys.platform == "win32" else tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_IGNORED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGBREAK")) if sys.platform == "win32" else ()
