"""The sandbox's SQL Server: a TdsServer with the sandbox's TLS certificate, reached through FreeTDS.

The suite gets an ODBC connection string in the variable ``KF_SANDBOX_SQL`` (it holds the throwaway
password, so it travels in the handshake's ``environ``, never in the environment file) and a freetds.conf
through ``FREETDSCONF`` whose section validates the server certificate against the sandbox CA: FreeTDS
validates only through a section with ``ca file`` reached by ``Servername=``, never with ``SERVER=``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .faults import ActiveFaults
from .handover import Handover
from .tds import FAULTS, TdsServer

CONNECTION_STRING_ENV = "KF_SANDBOX_SQL"
USER = "kf_smoke"
DATABASE = "Keyfactor"
SECTION = "kfsql-sandbox"
_DEBIAN_FREETDS = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so"


def start(state_dir: Path, faults: ActiveFaults, *, chain: Path, key: Path, ca_bundle: Path) -> Handover:
    """Starts the TDS endpoint (with the run's sql-* faults) on the server certificate `chain`/`key`, and hands
    the suite how to reach it: a freetds.conf in `state_dir` that validates against `ca_bundle`."""
    password = secrets.token_urlsafe(18)
    sql_faults = {name for name in faults.names() if name in FAULTS}
    server = TdsServer(certfile=str(chain), keyfile=str(key), login=(USER, password),
                       database=DATABASE, faults=sql_faults)
    port = server.start()
    handover = Handover(stop=server.stop)

    conf = state_dir / "freetds.conf"
    conf.write_text(
        "# Written by the Keyfactor Command sandbox: the SQL endpoint, validated against the sandbox CA.\n"
        "[global]\n\ttds version = 7.4\n\n"
        f"[{SECTION}]\n\thost = 127.0.0.1\n\tport = {port}\n\ttds version = 7.4\n\tencryption = require\n"
        f"\tca file = {ca_bundle}\n"
    )
    handover.environ["FREETDSCONF"] = str(conf)
    handover.environ[CONNECTION_STRING_ENV] = (
        f"DRIVER={freetds_driver()};Servername={SECTION};DATABASE={DATABASE};UID={USER};PWD={password};"
        "TDS_Version=7.4;Encryption=require"
    )
    handover.toml += [
        "[database]",
        f'connection_string_env = "{CONNECTION_STRING_ENV}"  # the string itself is in that variable only',
    ]
    if sql_faults:
        handover.notes.append(
            f"SQL Server on 127.0.0.1:{port}: {', '.join(FAULTS[f] for f in sorted(sql_faults))}")
    return handover


def freetds_driver() -> str:
    """FreeTDS as DRIVER= wants it: its registered name, else the library's path (Debian's tdsodbc
    registers it; a bare libtdsodbc.so does not)."""
    try:
        import pyodbc

        registered = "FreeTDS" in pyodbc.drivers()
    except ImportError:
        registered = False
    if registered or not os.path.exists(_DEBIAN_FREETDS):
        return "{FreeTDS}"
    return _DEBIAN_FREETDS
