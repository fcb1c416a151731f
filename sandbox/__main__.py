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

from . import run_environment
from .api import HEALTHY_VERSION, TOTAL_COUNT_MODES
from .app import PASSWORD_ENV, Sandbox
from .configuration import SCALE_ENV, SCALES
from .faults import REGISTRY, ActiveFaults
from .identity import HomeError
from .inventory import AGENTS_ENV, MIN_AGENTS, UNIVERSAL, UO_PLATFORMS
from .portal_layouts import LAYOUTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]",
                        help="reproduce a documented failure (repeatable); --list-faults shows them")
    parser.add_argument("--list-faults", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-dir", type=Path, help="where to keep this start's tickets, logs and keys (default: "
                                                       "temp)")
    parser.add_argument("--home", type=Path,
                        help="what the server keeps from one start to the next: its CA, site certificate and port, "
                             "its files on disk (default: inside the state dir)")
    parser.add_argument("--version", type=_version, default=HEALTHY_VERSION, metavar="X.Y.Z",
                        help=f"the Keyfactor Command version to report, e.g. 10.1.4 before the upgrade (default "
                             f"{HEALTHY_VERSION})")
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

    if args.agents is not None:
        if args.agents < MIN_AGENTS:
            parser.error(f"--agents {args.agents}: the sandbox needs at least {MIN_AGENTS} orchestrators")
        os.environ[AGENTS_ENV] = str(args.agents)
    if args.configuration:
        os.environ[SCALE_ENV] = args.configuration
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="kf-sandbox-"))
    sandbox = Sandbox(state_dir, faults, kerberos=not args.basic_only, port=args.port, uo_platform=args.uo_platform,
                      total_count=args.total_count, environment=args.environment, portal_layout=args.portal,
                      home=args.home, version=args.version)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        try:
            sandbox.start()
        except HomeError as exc:
            parser.exit(1, f"python -m sandbox: {exc}\n")
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
    print(f"Keyfactor Command {sandbox.version} sandbox at {sandbox.url}/KeyfactorAPI")
    print(f"Faults: {', '.join(sandbox.faults.names()) or 'none'}")
    print(f"Home (its CA, site certificate, port and files; --home keeps them for the next start): {sandbox.home}")
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


def _version(text: str) -> str:
    """"10.1.4" → "10.1.4.0", as GET /License reports it."""
    parts = text.split(".")
    if not 2 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a version such as 10.1.4")
    return ".".join(parts + ["0"] * (4 - len(parts)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
