"""python -m sandbox: a stand-in Keyfactor Command on this machine, for the suite and for newcomers."""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import threading
import tomllib
from pathlib import Path
from typing import NoReturn

from . import nodes, run_environment
from .api import HEALTHY_VERSION, TOTAL_COUNT_MODES
from .app import PASSWORD_ENV, Sandbox
from .configuration import SCALE_ENV, SCALES
from .faults import REGISTRY, ActiveFaults
from .identity import HomeError
from .inventory import AGENTS_ENV, MIN_AGENTS, UNIVERSAL, UO_PLATFORMS
from .portal_layouts import LAYOUTS

PROG = "python -m sandbox"


class _Refused(Exception):
    """A bad option: one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        raise _Refused(f"{message} — see {PROG} --help")


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except _Refused as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    parser = _Parser(prog=PROG, description=__doc__)
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]",
                        help="reproduce a documented failure (repeatable); --list-faults shows them")
    parser.add_argument("--list-faults", action="store_true")
    parser.add_argument("--port", type=int, default=0, help="the HTTPS port on 127.0.0.1 (default: a free one)")
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
        raise _Refused(str(exc)) from None
    wrong = nodes.problem(faults, args.nodes)
    if wrong:
        raise _Refused(wrong)

    if args.agents is not None:
        if args.agents < MIN_AGENTS:
            raise _Refused(f"--agents {args.agents}: the sandbox needs at least {MIN_AGENTS} orchestrators")
        os.environ[AGENTS_ENV] = str(args.agents)
    if args.configuration:
        os.environ[SCALE_ENV] = args.configuration
    _check_port(args.port)
    if args.state_dir is not None:
        _check_state_dir(args.state_dir)
    _check_environment(args.environment)
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="kf-sandbox-"))
    sandbox = Sandbox(state_dir, faults, kerberos=not args.basic_only, port=args.port, uo_platform=args.uo_platform,
                      total_count=args.total_count, environment=args.environment, portal_layout=args.portal,
                      home=args.home, version=args.version, nodes=args.nodes)
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


def _check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise _Refused(f"--port {port}: a TCP port is 1 to 65535 (0, the default, takes a free one)")
    if port == 0:
        return
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            why = "is in use" if exc.errno in (errno.EADDRINUSE, errno.EACCES) else f"cannot be used ({exc.strerror})"
            raise _Refused(f"--port {port}: the port {why} on 127.0.0.1 — choose another, or leave --port out for a "
                           "free one") from None


def _check_state_dir(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise _Refused(f"--state-dir {folder}: is a file, not a folder — name a folder (it is created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise _Refused(f"--state-dir {folder}: cannot write there ({exc.strerror or exc}) — name a folder this "
                       "account may write to") from None


def _check_environment(path: Path) -> None:
    if path.is_dir():
        raise _Refused(f"--environment {path}: is a directory, not a file — name an environment file (.toml)")
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _Refused(f"--environment {path}: file not found — name an environment file (.toml)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _Refused(f"--environment {path}: cannot be read as TOML ({exc}) — name an environment file") from None


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
