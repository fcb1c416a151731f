"""The Keyfactor database for the database checks: one connection per run, opened by the first check that
needs it; once it fails, later checks are blocked with that root cause instead of repeating the wait.

The connection string comes from the environment variable named in ``[database] connection_string_env``
(never from a file) and is registered as a secret; only ``sql.redact_connection_string`` of it is shown.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from smoke.database import sql
from smoke.database.section import DatabaseSection
from smoke.ground import evidence
from smoke.ground.prerequisites import Prerequisite

if TYPE_CHECKING:
    import pyodbc


class Database:
    def __init__(self, section: DatabaseSection) -> None:
        self.section = section
        self.shown_connection_string = ""  # redacted, for the report
        self.prerequisite = Prerequisite("connecting to SQL Server")
        self._conn: pyodbc.Connection | None = None

    def connection(self) -> pyodbc.Connection:
        if self._conn is None:
            with self.prerequisite.attempt():
                connection_string = self.section.connection_string()
                self.shown_connection_string = sql.redact_connection_string(connection_string)
                evidence.attach_text(f"SQL connection string (from {self.section.connection_string_env})",
                                     self.shown_connection_string)
                self._conn = sql.connect(connection_string, self.section.timeout_s)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the server may have gone: nothing left to close then
                self._conn.close()
            self._conn = None
