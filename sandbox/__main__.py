"""python -m sandbox: a stand-in Keyfactor Command on this machine, for the suite and for newcomers."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from . import nodes, run_environment
from .api import TOTAL_COUNT_MODES
from .app import PASSWORD_ENV, Sandbox
from .configuration import SCALE_ENV, SCALES
from .faults import REGISTRY, ActiveFaults
from .inventory import AGENTS_ENV, MIN_AGENTS, UNIVERSAL, UO_PLATFORMS
from .portal_layouts import LAYOUTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]",
                        help="reproduce a documented failure (repeatable); --list-faults shows them")
    parser.add_argument("--list-faults", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-dir", type=Path, help="where to keep keys, tickets and logs (default: temp)")
    parser.add_argument("--ready-file", type=Path, help="write a JSON handshake here once serving")
    parser.add_argument("--basic-only", action="store_true", help="no Kerberos realm, Basic only")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--agents", type=int, metavar="N",
                        help="how many orchestrators GET /Agents lists (default 300; also KF_SANDBOX_AGENTS)")
    parser.add_argument("--configuration", choices=sorted(SCALES),
                        help="how much configuration it holds: default, or large for bench/ (2,000 templates, 500 "
                             f"roles, 50,000 stores, 1,000 alerts; also {SCALE_ENV})")
    parser.add_argument("--uo-platform", type=int, choices=UO_PLATFORMS, default=UNIVERSAL,
                        help="the AgentPlatform a Universal Orchestrator is reported as: 7 (11.x documentation, "
                             "the default) or 1 (24.4 documentation, 25.4)")
    parser.add_argument("--total-count", choices=list(TOTAL_COUNT_MODES), default="sent",
                        help="X-Total-Count on list endpoints: sent (default), absent, or one too high or too low")
    parser.add_argument("--nodes", type=int, default=1, metavar="N",
                        help="N web servers behind the one name, on 127.0.0.1 … 127.0.0.N (the environment file "
                             "lists them as [command] nodes); the node-* faults change one of them")
    parser.add_argument("--environment", type=Path, default=run_environment.DEFAULT, metavar="FILE",
                        help="the environment file whose sections the written one carries "
                             "(default environments/sandbox.toml)")
    parser.add_argument("--portal", choices=list(LAYOUTS), default="default",
                        help="where the portal puts its pages and how it draws its navigation (default: default)")
    args = parser.parse_args(argv)

    if args.list_faults:
        for fault in REGISTRY.values():
            print(f"{fault.name:28} {fault.reproduces}")
        return 0
    try:
        faults = ActiveFaults(args.fault)
    except ValueError as exc:
        parser.error(str(exc))
    wrong = nodes.problem(faults, args.nodes)
    if wrong:
        parser.error(wrong)

    if args.agents is not None:
        if args.agents < MIN_AGENTS:
            parser.error(f"--agents {args.agents}: the sandbox needs at least {MIN_AGENTS} orchestrators")
        os.environ[AGENTS_ENV] = str(args.agents)
    if args.configuration:
        os.environ[SCALE_ENV] = args.configuration
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="kf-sandbox-"))
    sandbox = Sandbox(state_dir, faults, kerberos=not args.basic_only, port=args.port, uo_platform=args.uo_platform,
                      total_count=args.total_count, environment=args.environment, portal_layout=args.portal,
                      nodes=args.nodes)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        sandbox.start()
        if args.ready_file:
            sandbox.write_ready(args.ready_file)
        else:
            _introduce(sandbox)
        while not stop.wait(0.5):
            if args.parent_pid and not _alive(args.parent_pid):
                break
    finally:
        sandbox.stop()
        if not args.state_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
    return 0


def _introduce(sandbox: Sandbox) -> None:
    env_file = sandbox.state_dir / "sandbox-run.toml"
    env_file.write_text(sandbox.environment_toml())
    print(f"Keyfactor Command sandbox at {sandbox.url}/KeyfactorAPI")
    print(f"Faults: {', '.join(sandbox.faults.names()) or 'none'}")
    for note in sandbox.notes:
        print(f"Note: {note}")
    print(f"Environment file: {env_file}")
    print("In another shell (throwaway sandbox credentials):")
    if sandbox.realm:
        for name, value in sandbox.realm.environ.items():
            print(f"  export {name}={value}")
    for name, value in {PASSWORD_ENV: sandbox.password, **sandbox.environ}.items():
        print(f"  export {name}={shlex.quote(value)}")
    print(f"  pytest --env {env_file}")
    print("Ctrl-C stops it.", flush=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
