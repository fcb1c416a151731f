"""SQL Server, read only: connect through ODBC (pyodbc) and run the suite's fixed T-SQL.

Knows nothing of pytest and nothing of a particular driver: it works wherever pyodbc and an ODBC
driver for SQL Server do (Windows, Linux, macOS). Every failure is a ``SqlError`` whose str() is
one line naming the cause and the fix; the connection string's password never appears in one.

Connection strings (the user supplies one through an environment variable)
---------------------------------------------------------------------------
Microsoft ODBC Driver 18 for SQL Server (Windows, Linux, macOS)::

    DRIVER={ODBC Driver 18 for SQL Server};SERVER=sql01.corp.example,1433;DATABASE=Keyfactor;
    UID=kf_smoke;PWD=...;Encrypt=yes

- ``Encrypt=yes`` is the default in 18; the driver then validates the server certificate.
  ``Encrypt=strict`` is TDS 8.0 (TLS before anything else) and ignores TrustServerCertificate.
- ``TrustServerCertificate=yes`` skips validation: a stop-gap only. The fix is a server certificate
  issued by a CA the client trusts, for the name used in SERVER (else ``HostNameInCertificate=``).
- The port goes in ``SERVER=host,port`` (``PORT=`` is ignored); a named instance is ``SERVER=host\\NAME``.
- Windows authentication: ``Trusted_Connection=yes`` instead of UID/PWD (on Linux and macOS it uses
  the Kerberos ticket from ``kinit``; the server needs the SPN ``MSSQLSvc/host:port``).

FreeTDS (Debian/Ubuntu package ``tdsodbc``, driver name ``FreeTDS`` or the path of libtdsodbc.so)::

    DRIVER={FreeTDS};SERVER=sql01.corp.example;PORT=1433;DATABASE=Keyfactor;UID=kf_smoke;PWD=...;
    TDS_Version=7.4;Encryption=require

- ``Encryption=off|request|require`` (FreeTDS ignores ``Encrypt`` and ``TrustServerCertificate``).
  ``require`` refuses a server without TLS but does NOT validate its certificate. A server that
  forces encryption gets TLS even from ``off``.
- Validation needs a freetds.conf section with ``ca file``, reached through ``Servername=`` (FreeTDS
  1.3 ignores a ``[global]`` ca file for DSN-less ``SERVER=`` connections)::

      [kfsql]
          host = sql01.corp.example
          port = 1433
          tds version = 7.4
          encryption = require
          ca file = /etc/ssl/certs/corp-root-ca.pem   # or: ca file = system
          # check certificate hostname = yes is the default

  with ``FREETDSCONF=/path/to/freetds.conf`` (or ``~/.freetds.conf``) and the connection string
  ``DRIVER={FreeTDS};Servername=kfsql;DATABASE=Keyfactor;UID=kf_smoke;PWD=...``.
- FreeTDS reports every TLS failure as "Unable to connect to data source"; ``connect`` then asks the
  server's PRELOGIN whether it supports encryption, to tell an untrusted certificate from no TLS.
- ``Trusted_Connection=yes`` uses the Kerberos ticket from ``kinit``.
"""

from __future__ import annotations

import configparser
import math
import os
import re
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from smoke.ground.errors import SmokeError

if TYPE_CHECKING:
    import pyodbc

# Keyfactor Command 10.x: "database compatibility level 130+" and "SQL Server 2016 CU2+".
MIN_COMPATIBILITY_LEVEL = 130
# SQL Server 2016 RTM CU2 (KB3182270) is build 13.0.2164.0:
# https://learn.microsoft.com/troubleshoot/sql/releases/sqlserver-2016/rtm-cumulativeupdate2
# Every later 2016 build sorts above it as a tuple (RTM CU3+ 13.0.21xx-22xx, SP1 13.0.4001.0+,
# SP2 13.0.5026.0+, SP3 13.0.6300.2+), and RTM GDR builds (13.0.17xx, no CU fixes) below it:
# https://learn.microsoft.com/troubleshoot/sql/releases/sqlserver-2016/build-versions
MIN_SERVER_VERSION = (13, 0, 2164, 0)

_RELEASES = {11: "SQL Server 2012", 12: "SQL Server 2014", 13: "SQL Server 2016", 14: "SQL Server 2017",
             15: "SQL Server 2019", 16: "SQL Server 2022", 17: "SQL Server 2025"}

# Fixed, driver-portable T-SQL. sql_variant (SERVERPROPERTY's type) is cast: FreeTDS cannot read it.
SESSION_SECURITY_SQL = (
    "SELECT encrypt_option, auth_scheme, net_transport FROM sys.dm_exec_connections WHERE session_id = @@SPID"
)
COMPATIBILITY_SQL = "SELECT name, compatibility_level FROM sys.databases WHERE name = {name}"
SERVER_VERSION_SQL = (
    "SELECT CAST(SERVERPROPERTY('ProductVersion') AS varchar(128)) AS product_version, "
    "CAST(SERVERPROPERTY('ProductLevel') AS varchar(128)) AS product_level, "
    "CAST(SERVERPROPERTY('Edition') AS varchar(128)) AS edition"
)

_VENDOR_TLS_ERROR = (
    '"Encountered an invalid or untrusted certificate and could not connect to the database. '
    'TLS encryption is enabled by default."'
)
_SECRET_KEYS = {"pwd", "password"}


class SqlError(SmokeError):
    """SQL Server could not give the answer a check needs."""


class DriverMissing(SqlError):
    """pyodbc, the ODBC driver manager or the named ODBC driver is not installed."""


class ServerUnreachable(SqlError):
    """No TDS conversation with the server: refused, unresolvable, connection broken."""


class SqlTimeout(SqlError):
    """The server did not answer the login or a query within the timeout."""


class LoginFailed(SqlError):
    """The server refused the credentials."""


class DatabaseMissing(SqlError):
    """The database named in the connection string or the settings cannot be opened or found."""


class UntrustedCertificate(SqlError):
    """TLS failed on the server's certificate: the failure Keyfactor Command 10 meets too."""


class EncryptionUnavailable(SqlError):
    """The client requires encryption and the server offers none."""


class PermissionMissing(SqlError):
    """The login lacks a server permission a check needs."""


class QueryFailed(SqlError):
    """The server answered a query with an error."""


@dataclass(frozen=True)
class SessionSecurity:
    encrypt_option: bool
    auth_scheme: str  # SQL, NTLM or KERBEROS
    net_transport: str  # TCP, Shared memory, Named pipe


@dataclass(frozen=True)
class ServerVersion:
    version: tuple[int, ...]
    product_level: str  # RTM, SP1, ...
    edition: str

    @property
    def text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def release(self) -> str:
        return _RELEASES.get(self.version[0], f"SQL Server (major version {self.version[0]})")

    def is_at_least(self, minimum: tuple[int, ...] = MIN_SERVER_VERSION) -> bool:
        return self.version >= minimum


def connect(connection_string: str, timeout_s: float) -> pyodbc.Connection:
    """Open an autocommit connection (no transaction is ever left open) with login and query timeouts."""
    odbc = _pyodbc()
    seconds = max(1, math.ceil(timeout_s))
    try:
        conn = odbc.connect(connection_string, timeout=seconds, autocommit=True)
    except odbc.Error as exc:
        raise _connect_error(exc, connection_string, seconds) from None
    conn.timeout = seconds
    return conn


def session_security(conn: pyodbc.Connection) -> SessionSecurity:
    """How this very connection reached the server: is it encrypted, how did it authenticate."""
    try:
        rows = _fetch(conn, SESSION_SECURITY_SQL, "reading sys.dm_exec_connections")
    except QueryFailed as exc:
        if re.search(r"\((?:297|300)\)|VIEW SERVER STATE", str(exc)):
            raise PermissionMissing(
                "SQL: the login cannot read sys.dm_exec_connections — grant VIEW SERVER STATE to it "
                "(GRANT VIEW SERVER STATE TO [login]) so the encryption check can run"
            ) from None
        raise
    encrypt, scheme, transport = _one_row(rows, "sys.dm_exec_connections")
    if str(encrypt).upper() not in ("TRUE", "FALSE"):
        raise SqlError(f"SQL: sys.dm_exec_connections gave encrypt_option {encrypt!r}, expected TRUE or FALSE")
    return SessionSecurity(str(encrypt).upper() == "TRUE", str(scheme), str(transport))


def compatibility_level(conn: pyodbc.Connection, database: str | None = None) -> tuple[str, int]:
    """(name, compatibility_level) of ``database``, by default the connection's current database."""
    name = "DB_NAME()" if database is None else "N'" + database.replace("'", "''") + "'"
    rows = _fetch(conn, COMPATIBILITY_SQL.format(name=name), "reading sys.databases")
    if not rows:
        raise DatabaseMissing(
            f"SQL: sys.databases has no database '{database}' visible to this login — check the database "
            "name in the settings (or DATABASE= in the connection string)"
        )
    found, level = _one_row(rows, "sys.databases")
    return str(found), int(level)


def server_version(conn: pyodbc.Connection) -> ServerVersion:
    rows = _fetch(conn, SERVER_VERSION_SQL, "reading SERVERPROPERTY")
    version, level, edition = _one_row(rows, "SERVERPROPERTY")
    try:
        parts = tuple(int(part) for part in str(version).split("."))
    except ValueError:
        parts = ()
    if len(parts) != 4:
        raise SqlError(
            f"SQL: SERVERPROPERTY('ProductVersion') gave {version!r}, expected four numbers like 15.0.4355.3"
        )
    return ServerVersion(parts, str(level), str(edition))


def redact_connection_string(connection_string: str) -> str:
    """The connection string with the values of PWD= and Password= replaced by ***."""
    out, last = [], 0
    for key, _value, start, end in _attributes(connection_string):
        if key.lower() in _SECRET_KEYS:
            out += [connection_string[last:start], "***"]
            last = end
    return "".join(out) + connection_string[last:]


def _attributes(connection_string: str) -> list[tuple[str, str, int, int]]:
    """ODBC ``key=value;`` pairs as (key, value, start, end of the raw value); a value may be
    ``{braced; with ;}``, ``}}`` standing for ``}``. An unclosed brace runs to the end."""
    s, i, found = connection_string, 0, []
    while i < len(s):
        eq = s.find("=", i)
        if eq < 0:
            break
        key, start = s[i:eq].strip(" ;"), eq + 1
        while s[start:start + 1] == " ":
            start += 1
        if s[start:start + 1] == "{":
            chars, j = [], start + 1
            while j < len(s):
                if s[j] == "}":
                    if s[j + 1:j + 2] != "}":
                        j += 1
                        break
                    j += 1
                chars.append(s[j])
                j += 1
            value, end = "".join(chars), j
            semi = s.find(";", end)
            next_i = len(s) if semi < 0 else semi + 1
        else:
            semi = s.find(";", start)
            end = len(s) if semi < 0 else semi
            value, next_i = s[start:end], end + 1
        found.append((key, value, start, end))
        i = next_i
    return found


def _settings(connection_string: str) -> dict[str, str]:
    return {key.lower(): value for key, value, _s, _e in _attributes(connection_string)}


def _pyodbc() -> ModuleType:
    try:
        import pyodbc
    except ImportError as exc:
        raise DriverMissing(
            f"SQL: pyodbc cannot load ({exc}) — install the ODBC driver manager (Debian/Ubuntu: "
            "apt install unixodbc; macOS: brew install unixodbc; Windows has one built in)"
        ) from None
    return pyodbc


def _fetch(conn: pyodbc.Connection, sql: str, what: str) -> list[Any]:
    odbc = _pyodbc()
    try:
        cursor = conn.cursor()
        try:
            return list(cursor.execute(sql).fetchall())
        finally:
            cursor.close()
    except odbc.Error as exc:
        state, text = _state_and_text(exc)
        if state in ("HYT00", "HYT01"):
            raise SqlTimeout(
                f"SQL: {what} got no answer within {conn.timeout} s — the server is overloaded or the query "
                "is blocked; check the server, or raise the timeout"
            ) from None
        if state in ("08S01", "08S02"):
            raise ServerUnreachable(f"SQL: the connection to the server broke while {what}: {text}") from None
        raise QueryFailed(f"SQL: {what} failed: {text} (SQLSTATE {state})") from None


def _one_row(rows: list[Any], source: str) -> tuple[Any, ...]:
    if len(rows) != 1:
        raise SqlError(f"SQL: {source} gave {len(rows)} rows where one was expected")
    return tuple(rows[0])


def _state_and_text(exc: Exception, secrets: tuple[str, ...] = ()) -> tuple[str, str]:
    """pyodbc errors are (SQLSTATE, "[state] [vendor][driver]message (native) (SQLFunction)")."""
    state = str(exc.args[0]) if len(exc.args) > 1 else ""
    text = str(exc.args[-1]) if exc.args else str(exc)
    text = re.sub(r"\[[0-9A-Z]{5}\]\s*|\s*\(SQL\w+\)|\s\(0\)", "", text)
    text = re.sub(r"\[(?:FreeTDS|Microsoft|unixODBC|SQL Server|ODBC [^\]]*|Driver Manager)\]", "", text)
    text = " ".join(text.split()).strip(" ;")
    for secret in secrets:
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return state, text


def _connect_error(exc: Exception, connection_string: str, seconds: int) -> SqlError:
    settings = _settings(connection_string)
    secrets = tuple(value for key, value in settings.items() if key in _SECRET_KEYS)
    state, text = _state_and_text(exc, secrets)
    lowered = text.lower()
    target = _target(settings)
    if state in ("IM002", "IM003") or "can't open lib" in lowered or "data source name not found" in lowered:
        return _driver_missing(settings)
    if "4060" in text or "cannot open database" in lowered:
        return DatabaseMissing(
            f"SQL: the login cannot open database '{settings.get('database', '?')}' on {target} — check DATABASE= "
            "in the connection string and that the login is a user in that database"
        )
    if "18452" in text or ("login failed" in lowered and settings.get("trusted_connection", "").lower() == "yes"):
        return LoginFailed(
            f"SQL: Windows authentication failed on {target} ({text}) — check the Kerberos ticket (klist) and "
            "the SPN MSSQLSvc/<host>:<port> of the SQL Server service account"
        )
    if "18456" in text or "login failed" in lowered or state == "28000":
        # SQL Server sends 4060 before 18456 for a database the login cannot open; FreeTDS shows only 18456.
        database = f", may open database '{settings['database']}'" if settings.get("database") else ""
        return LoginFailed(
            f"SQL: login failed for user '{settings.get('uid', '?')}' on {target} — check UID and the password "
            f"(PWD), that the login exists, is enabled{database}, and that the server allows SQL Server "
            "authentication"
        )
    if "encryption not supported" in lowered or "does not support encryption" in lowered:
        return _no_encryption(target)
    if re.search(r"certificate|ssl provider|self.signed|not trusted|unable to get local issuer", lowered):
        return _untrusted(target, text)
    endpoint = _endpoint(settings)
    refused = endpoint is not None and _connection_refused(*endpoint, seconds)
    if refused:  # Driver 18 reports a refused port as a login timeout, after retrying
        return ServerUnreachable(
            f"SQL: nothing accepts connections on {target} (connection refused) — check the host name and "
            "port in the connection string, and that SQL Server runs and listens on TCP"
        )
    if state in ("HYT00", "HYT01") or "timeout expired" in lowered:
        return SqlTimeout(
            f"SQL: no answer from {target} within {seconds} s while logging in — SQL Server is stopped or "
            "hung, or a firewall drops the traffic; check the service and the port"
        )
    if "unable to connect to data source" in lowered and "adaptive server is unavailable" not in lowered:
        # FreeTDS's only words for a failed TLS negotiation: ask the server whether it has TLS at all.
        if endpoint and _prelogin_encryption(*endpoint, seconds) == 2:  # ENCRYPT_NOT_SUP
            return _no_encryption(target)
        return _untrusted(target, "FreeTDS: the TLS handshake failed")
    if settings.get("encrypt", "").lower() == "strict":
        return ServerUnreachable(
            f"SQL: {target} broke off the connection ({text}) — Encrypt=strict (TDS 8.0) needs SQL Server 2022 "
            "or later; use Encrypt=yes with older servers"
        )
    if state.startswith("08") or re.search(r"unable to connect|unavailable or does not exist|tcp provider|"
                                           r"network-related|not found or was not accessible", lowered):
        return ServerUnreachable(
            f"SQL: cannot reach SQL Server at {target} ({text}) — check the host name and port in the "
            "connection string, that SQL Server runs and listens on TCP, and firewalls in between"
        )
    return SqlError(f"SQL: cannot connect to {target}: {text} (SQLSTATE {state})")


def _driver_missing(settings: dict[str, str]) -> DriverMissing:
    odbc = _pyodbc()
    installed = ", ".join(odbc.drivers()) or "none"
    if "driver" not in settings and "dsn" in settings:
        return DriverMissing(
            f"SQL: ODBC data source '{settings['dsn']}' is not defined (installed drivers: {installed}) — define "
            "it in odbc.ini / the ODBC administrator, or name a driver with DRIVER= in the connection string"
        )
    return DriverMissing(
        f"SQL: ODBC driver '{settings.get('driver', '(none named)')}' is not installed (installed: {installed}) — "
        "install Microsoft ODBC Driver 18 for SQL Server, or FreeTDS (Debian/Ubuntu: apt install tdsodbc), "
        "and name it in DRIVER= of the connection string"
    )


def _untrusted(target: str, detail: str) -> UntrustedCertificate:
    return UntrustedCertificate(
        f"SQL: the server certificate of {target} is not trusted ({detail}); Keyfactor Command says "
        f"{_VENDOR_TLS_ERROR} — install on SQL Server a certificate for its host name issued by a CA the "
        "clients trust (TrustServerCertificate=yes only as a stop-gap)"
    )


def _no_encryption(target: str) -> EncryptionUnavailable:
    return EncryptionUnavailable(
        f"SQL: {target} does not support encryption, and Keyfactor Command 10 connects with TLS by default — "
        "give SQL Server a certificate (SQL Server Configuration Manager > Protocols > Certificate) "
        "and turn on Force Encryption"
    )


def _target(settings: dict[str, str]) -> str:
    if "servername" in settings:
        endpoint = freetds_endpoint(settings["servername"])
        where = f" ({endpoint[0]},{endpoint[1]})" if endpoint else ""
        return f"freetds.conf server '{settings['servername']}'{where}"
    if "dsn" in settings and "server" not in settings:
        return f"ODBC data source '{settings['dsn']}'"
    server = settings.get("server", "(no SERVER=)")
    if "port" in settings and "," not in server:
        server += f",{settings['port']}"
    return server


def _endpoint(settings: dict[str, str]) -> tuple[str, int] | None:
    if "servername" in settings:  # FreeTDS validates certificates only through a freetds.conf section
        return freetds_endpoint(settings["servername"])
    server = re.sub(r"^tcp:", "", settings.get("server", ""), flags=re.IGNORECASE)
    host, _, port = server.partition(",")
    if not host or "\\" in host:
        return None
    try:
        return host.strip(), int(port or settings.get("port") or 1433)
    except ValueError:
        return None


def _connection_refused(host: str, port: int, timeout_s: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def _prelogin_encryption(host: str, port: int, timeout_s: float) -> int | None:
    """The ENCRYPTION byte of the server's PRELOGIN answer (MS-TDS 2.2.6.5), or None if unknown."""
    # Options VERSION (6 bytes) and ENCRYPTION (1 byte: ENCRYPT_OFF), then the 0xFF terminator.
    body = struct.pack(">BHHBHHB", 0, 11, 6, 1, 17, 1, 0xFF) + bytes(6) + b"\x00"
    packet = struct.pack(">BBHHBB", 0x12, 0x01, len(body) + 8, 0, 1, 0) + body
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(packet)
            data = b""
            while len(data) < 8 or len(data) < struct.unpack(">H", data[2:4])[0]:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except OSError:
        return None
    payload, pos = data[8:struct.unpack(">H", data[2:4])[0]], 0
    while pos + 5 <= len(payload) and payload[pos] != 0xFF:
        token, offset, length = struct.unpack_from(">BHH", payload, pos)
        if token == 1 and length == 1 and offset < len(payload):
            return payload[offset]
        pos += 5
    return None


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
