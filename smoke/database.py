"""The Keyfactor database for the database checks: one connection per run, opened by the first check that
needs it; once it fails, later checks are blocked with that root cause instead of repeating the wait.

The connection string comes from the environment variable named in ``[database] connection_string_env``
(never from a file) and is registered as a secret; only ``sql.redact_connection_string`` of it is shown.
"""

from __future__ import annotations

import configparser
import contextlib
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import evidence, sql
from .errors import Blocked, SmokeError
from .settings import DatabaseSection

if TYPE_CHECKING:
    import pyodbc


class Database:
    def __init__(self, section: DatabaseSection) -> None:
        self.section = section
        self.shown_connection_string = ""  # redacted, for the report
        self.failure: SmokeError | None = None
        self._conn: pyodbc.Connection | None = None

    def connection(self) -> pyodbc.Connection:
        if self.failure:
            raise Blocked(f"not run: connecting to SQL Server failed earlier in this run — {self.failure}")
        if self._conn is None:
            try:
                connection_string = self.section.connection_string()
                self.shown_connection_string = sql.redact_connection_string(connection_string)
                evidence.attach_text(f"SQL connection string (from {self.section.connection_string_env})",
                                     self.shown_connection_string)
                self._conn = connect(connection_string, self.section.timeout_s)
            except SmokeError as exc:
                self.failure = exc
                raise
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the server may have gone: nothing left to close then
                self._conn.close()
            self._conn = None


def connect(connection_string: str, timeout_s: float) -> pyodbc.Connection:
    """``sql.connect``, with its diagnosis for a FreeTDS ``Servername=`` connection too.

    sql.connect tells "no TLS at all" from "untrusted certificate" (FreeTDS words both "Unable to connect to
    data source") by asking the server's PRELOGIN, and "refused" from "unreachable" by a TCP probe, but it
    knows the endpoint only from ``SERVER=``; certificate validation with FreeTDS needs ``Servername=`` (a
    freetds.conf section), so the endpoint is read from that section here."""
    try:
        return sql.connect(connection_string, timeout_s)
    except (sql.UntrustedCertificate, sql.ServerUnreachable) as exc:
        name = _servername(connection_string)
        endpoint = freetds_endpoint(name) if name else None
        if endpoint is None:
            raise
        seconds = max(1, math.ceil(timeout_s))
        target = f"freetds.conf server '{name}' ({endpoint[0]},{endpoint[1]})"
        if isinstance(exc, sql.UntrustedCertificate) and sql._prelogin_encryption(*endpoint, seconds) == 2:
            raise sql._no_encryption(target) from None  # PRELOGIN answered ENCRYPT_NOT_SUP
        if isinstance(exc, sql.ServerUnreachable) and sql._connection_refused(*endpoint, seconds):
            raise sql.ServerUnreachable(
                f"SQL: nothing accepts connections on {target} (connection refused) — check the host and port in "
                "that section, and that SQL Server runs and listens on TCP"
            ) from None
        raise


def freetds_endpoint(section: str) -> tuple[str, int] | None:
    """(host, port) of a freetds.conf section, searched where FreeTDS looks: $FREETDSCONF, ~/.freetds.conf,
    then the system file. None for an instance name (its port comes from SQL Browser) or no such section."""
    for path in _freetds_conf_files():
        parser = configparser.RawConfigParser(comment_prefixes=(";", "#"), inline_comment_prefixes=(";", "#"),
                                              strict=False, default_section="global")
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        found = next((s for s in parser.sections() if s.lower() == section.lower()), None)
        if found is None:
            continue
        host = parser.get(found, "host", fallback="").strip()
        if not host or parser.has_option(found, "instance"):
            return None
        try:
            return host, int(parser.get(found, "port", fallback="1433"))
        except ValueError:
            return None
    return None


def _freetds_conf_files() -> list[Path]:
    files = [os.environ.get("FREETDSCONF", ""), os.path.join(os.path.expanduser("~"), ".freetds.conf"),
             "/etc/freetds/freetds.conf", "/usr/local/etc/freetds.conf"]
    return [Path(f) for f in files if f and os.path.isfile(f)]


def _servername(connection_string: str) -> str | None:
    for key, value, _start, _end in sql._attributes(connection_string):
        if key.lower() == "servername":
            return value.strip() or None
    return None
