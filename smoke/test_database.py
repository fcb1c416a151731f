"""SQL Server as Keyfactor Command 10 needs it: a TLS-encrypted connection, the Keyfactor database at
compatibility level 130 or more, SQL Server 2016 CU2 or later."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

import pytest

from smoke.database import sql
from smoke.database.connection import Database
from smoke.ground import evidence

AREA = "Database"  # the report's suite and feature
pytestmark = pytest.mark.database

# compatibility_level -> the release that introduced it
LEVELS = {100: "SQL Server 2008", 110: "SQL Server 2012", 120: "SQL Server 2014", 130: "SQL Server 2016",
          140: "SQL Server 2017", 150: "SQL Server 2019", 160: "SQL Server 2022", 170: "SQL Server 2025"}
MIN_VERSION = ".".join(str(part) for part in sql.MIN_SERVER_VERSION)


@pytest.fixture(scope="module")
def database(smoke_settings) -> Iterator[Database]:
    # Connected in a check's call, not here, so that an unreachable server is that check's one line.
    if smoke_settings.database is None:
        pytest.skip(smoke_settings.not_configured("database"))
    found = Database(smoke_settings.database)
    yield found
    found.close()


def test_the_sql_server_connection_is_encrypted(database):
    conn = database.connection()
    security = sql.session_security(conn)
    evidence.attach_text("SQL: this session (sys.dm_exec_connections)",
                         f"{sql.SESSION_SECURITY_SQL}\n\n{asdict(security)}")
    evidence.note_fact("SQL session", f"encrypted: {'yes' if security.encrypt_option else 'NO'}, authentication "
                                      f"{security.auth_scheme} over {security.net_transport}")
    assert security.encrypt_option, (
        f"SQL: this session to SQL Server is not encrypted (sys.dm_exec_connections encrypt_option FALSE, "
        f"{security.auth_scheme} login over {security.net_transport}) — Keyfactor Command 10 connects with TLS by "
        "default: give SQL Server a certificate for its host name, turn on Force Encryption (SQL Server "
        "Configuration Manager), and require encryption in the connection string (Driver 18: Encrypt=yes; "
        "FreeTDS: Encryption=require)"
    )


def test_the_keyfactor_database_is_at_compatibility_level_130_or_more(database):
    name, level = sql.compatibility_level(database.connection(), database.section.database)
    evidence.attach_text("SQL: sys.databases", f"{sql.COMPATIBILITY_SQL}\n\nname={name}, compatibility_level={level}")
    evidence.note_fact("Keyfactor database", f"{name}, compatibility level {level}")
    assert level >= sql.MIN_COMPATIBILITY_LEVEL, (
        f"SQL: database '{name}' is at compatibility level {level} ({LEVELS.get(level, 'unknown release')}), "
        f"below the {sql.MIN_COMPATIBILITY_LEVEL} Keyfactor Command 10 requires — after a backup, run "
        f"ALTER DATABASE [{name}] SET COMPATIBILITY_LEVEL = {sql.MIN_COMPATIBILITY_LEVEL} (or the server's own "
        "level), then run the checks again"
    )


def test_the_sql_server_is_2016_cu2_or_later(database):
    version = sql.server_version(database.connection())
    evidence.attach_text("SQL: SERVERPROPERTY", f"{sql.SERVER_VERSION_SQL}\n\n{asdict(version)}")
    evidence.note_fact("SQL Server", f"{version.release} {version.product_level} {version.text} ({version.edition})")
    assert version.is_at_least(sql.MIN_SERVER_VERSION), (
        f"SQL: the server runs {version.release} {version.product_level} {version.text}, older than SQL Server "
        f"2016 RTM CU2 ({MIN_VERSION}), the minimum for Keyfactor Command 10 — install the latest SQL Server 2016 "
        "service pack (SP3) and its cumulative update, or move the database to SQL Server 2017 or later"
    )
