"""What the sandbox's SQL Server answers to the suite's fixed queries: session encryption, compatibility, version.

Only these queries are answered; any other text is an error (the caller's None), so that drift in the suite's
SQL shows. The answers come from the Catalog the server was started with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tds_messages import CMD_SELECT, DONE_ERROR, TOKEN_ERROR, Column, done, message, result


@dataclass(frozen=True)
class Product:
    version: str
    level: str
    edition: str


HEALTHY_PRODUCT = Product("15.0.4355.3", "RTM", "Standard Edition (64-bit)")  # SQL Server 2019
OLD_PRODUCT = Product("13.0.1601.5", "RTM", "Standard Edition (64-bit)")  # SQL Server 2016 RTM

# The suite's fixed queries, normalised (see _normalise). Unknown text is an error, so drift shows.
_Q_SESSION = "select encrypt_option, auth_scheme, net_transport from sys.dm_exec_connections where session_id = @@spid"
_Q_COMPAT = "select name, compatibility_level from sys.databases where name = db_name()"
_Q_COMPAT_NAMED = re.compile(r"select name, compatibility_level from sys\.databases where name = n'((?:[^']|'')*)'")
_Q_VERSION = (
    "select cast(serverproperty('productversion') as varchar(128)) as product_version,"
    " cast(serverproperty('productlevel') as varchar(128)) as product_level,"
    " cast(serverproperty('edition') as varchar(128)) as edition"
)


@dataclass(frozen=True)
class Catalog:
    """What the server's catalog views and properties report."""

    product: Product
    database: str  # the login's default (and only) database
    compatibility_level: int
    view_server_state: bool = True  # False: the login may not read sys.dm_exec_connections


def answer(text: str, catalog: Catalog, *, encrypted: bool, tds72: bool) -> bytes | None:
    """The tokens answering the SQL batch `text`, or None when it is not one of the suite's queries.
    `encrypted`: the whole session runs inside TLS."""
    sql = _normalise(text)
    if sql == _Q_SESSION:
        if not catalog.view_server_state:
            tokens = message(TOKEN_ERROR, 300, 1, 14, "VIEW SERVER STATE permission was denied on "
                             "object 'server', database 'master'.", tds72)
            tokens += message(TOKEN_ERROR, 297, 1, 16, "The user does not have permission to perform "
                              "this action.", tds72)
            return tokens + done(DONE_ERROR, CMD_SELECT, 0, tds72)
        columns = [Column("encrypt_option", "nvarchar", 40), Column("auth_scheme", "nvarchar", 40),
                   Column("net_transport", "nvarchar", 40)]
        return result(columns, [("TRUE" if encrypted else "FALSE", "SQL", "TCP")], tds72)
    named = _Q_COMPAT_NAMED.fullmatch(sql)
    if sql == _Q_COMPAT or named:
        wanted = named.group(1).replace("''", "'") if named else catalog.database
        rows: list[tuple[object, ...]] = []
        if wanted.casefold() == catalog.database.casefold():  # a case-insensitive server collation
            rows.append((catalog.database, catalog.compatibility_level))
        columns = [Column("name", "nvarchar", 128), Column("compatibility_level", "tinyint", 1)]
        return result(columns, rows, tds72)
    if sql == _Q_VERSION:
        product = catalog.product
        columns = [Column(name, "varchar", 128, nullable=True) for name in ("product_version", "product_level",
                                                                             "edition")]
        return result(columns, [(product.version, product.level, product.edition)], tds72)
    return None


def _normalise(sql: str) -> str:
    return " ".join(sql.split()).strip().rstrip(";").strip().lower()
