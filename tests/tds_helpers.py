"""A TDS sandbox with its own CA, and FreeTDS connection strings for it: for the SQL self-tests."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyodbc

from sandbox.pki import SandboxPKI, pem
from sandbox.tds import TdsServer

USER = "kf_smoke"
PASSWORD = "Sandbox-SQL-pw-7"
DATABASE = "Keyfactor"
SECTION = "kfsql"  # the freetds.conf section that validates the server certificate
_DEBIAN_FREETDS = "/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so"


def freetds_driver() -> str:
    """The FreeTDS driver as DRIVER= wants it: its registered name, else the library's path."""
    if "FreeTDS" in pyodbc.drivers() or not os.path.exists(_DEBIAN_FREETDS):
        return "{FreeTDS}"
    return _DEBIAN_FREETDS


def msodbc18_driver() -> str | None:
    """Microsoft ODBC Driver 18 if present (registered, MSODBCSQL18_LIB, or the mssql-python-odbc wheel).
    Its licence allows installing it to develop and test, not redistributing it: never a CI dependency."""
    if "ODBC Driver 18 for SQL Server" in pyodbc.drivers():
        return "{ODBC Driver 18 for SQL Server}"
    candidates = [os.environ.get("MSODBCSQL18_LIB", "")]
    try:
        import mssql_python_odbc  # type: ignore[import-not-found]

        libs = os.path.join(os.path.dirname(mssql_python_odbc.__file__), "libs", "linux", "debian_ubuntu")
        candidates += glob.glob(os.path.join(libs, "*", "lib", "libmsodbcsql-18*.so*"))
    except ImportError:
        pass
    return next((path for path in candidates if path and os.path.exists(path)), None)


@dataclass
class SqlSandbox:
    server: TdsServer
    freetds_conf: Path  # point FREETDSCONF here
    ca_bundle: Path  # the root the clients trust (Driver 18: SSL_CERT_FILE)

    def driver18_connection_string(self, driver: str, *, encrypt: str = "yes", database: str = DATABASE) -> str:
        return (
            f"DRIVER={driver};SERVER=localhost,{self.server.port};UID={USER};PWD={PASSWORD};"
            f"DATABASE={database};Encrypt={encrypt}"
        )

    def connection_string(
        self,
        *,
        validate: bool = True,
        encryption: str = "require",
        password: str = PASSWORD,
        database: str = DATABASE,
        tds_version: str = "7.4",
    ) -> str:
        # FreeTDS validates the certificate only through a freetds.conf section with `ca file`.
        where = f"Servername={SECTION}" if validate else f"SERVER=127.0.0.1;PORT={self.server.port}"
        return (
            f"DRIVER={freetds_driver()};{where};UID={USER};PWD={password};DATABASE={database};"
            f"TDS_Version={tds_version};Encryption={encryption}"
        )


@contextmanager
def sql_sandbox(
    directory: Path,
    pki: SandboxPKI,
    *,
    faults: Iterable[str] = (),
    hostnames: tuple[str, ...] = ("localhost", "127.0.0.1"),
    trusted: SandboxPKI | None = None,
) -> Iterator[SqlSandbox]:
    """A started TdsServer whose certificate ``pki`` issued for ``hostnames``; the freetds.conf
    section trusts ``trusted``'s root (default: ``pki``'s own)."""
    directory.mkdir(parents=True, exist_ok=True)
    chain, key, bundle = pki.write_server_files(directory, list(hostnames))
    if trusted is not None:
        bundle = directory / "trusted-root.pem"
        bundle.write_bytes(pem(trusted.root.cert))
    server = TdsServer(certfile=str(chain), keyfile=str(key), login=(USER, PASSWORD), database=DATABASE,
                       faults=frozenset(faults))
    port = server.start()
    conf = directory / "freetds.conf"
    conf.write_text(f"[global]\n\ttds version = 7.4\n\n[{SECTION}]\n\thost = 127.0.0.1\n\tport = {port}\n"
                    f"\tca file = {bundle}\n")
    try:
        yield SqlSandbox(server, conf, bundle)
    finally:
        server.stop()
