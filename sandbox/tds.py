"""A strict, minimal SQL Server stand-in: MS-TDS 7.1-7.4 over TCP, with canned answers.

It speaks just enough of [MS-TDS] (https://learn.microsoft.com/openspecs/windows_protocols/ms-tds/)
for a real ODBC driver (FreeTDS, Microsoft ODBC Driver 18) to log in and run the suite's fixed
queries: PRELOGIN, the TLS handshake carried in PRELOGIN packets, LOGIN7, SQL_BATCH, ATTENTION.
Anything else closes the connection or answers with an ERROR token, as a real server would:
the sandbox must never be easier than SQL Server.

What it reports is derived from the wire, not assumed: ``encrypt_option`` is TRUE only when the
whole session really runs inside TLS. Faults (names in ``FAULTS``) are data passed to the server.
Standard library only (socket, ssl, threading).
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

FAULTS: dict[str, str] = {
    "sql-down": "the port is bound but nothing listens: connections are refused",
    "sql-hang": "connections are accepted but never answered: the client's login timeout expires",
    "sql-unencrypted": "the server has no TLS (PRELOGIN answers ENCRYPT_NOT_SUP): clients that require "
    "encryption give up, others run the whole session, login included, in plaintext",
    "sql-encryption-optional": "Force Encryption is off (PRELOGIN answers ENCRYPT_OFF): a client that does "
    "not ask for encryption gets TLS for the login packet only, then plaintext",
    "sql-compat-120": "the Keyfactor database has compatibility level 120 (SQL Server 2014)",
    "sql-old-version": "the engine is SQL Server 2016 RTM 13.0.1601.5, older than 2016 CU2",
    "sql-no-view-server-state": "the login lacks VIEW SERVER STATE: sys.dm_exec_connections is denied",
    "sql-slow-query": "queries never complete until the client cancels them (query timeout)",
}

# Packet types and status (MS-TDS 2.2.3.1.1, 2.2.3.1.2).
SQL_BATCH, RPC, TABULAR, ATTENTION, TRANSACTION_MANAGER, LOGIN7, PRELOGIN = 0x01, 0x03, 0x04, 0x06, 0x0E, 0x10, 0x12
_EOM = 0x01
_MAX_PACKET = 32767
_MAX_MESSAGE = 1 << 20

# PRELOGIN option tokens and ENCRYPTION values (2.2.6.5).
_PL_VERSION, _PL_ENCRYPTION, _PL_INSTOPT, _PL_THREADID, _PL_MARS, _PL_TERMINATOR = 0, 1, 2, 3, 4, 0xFF
ENCRYPT_OFF, ENCRYPT_ON, ENCRYPT_NOT_SUP, ENCRYPT_REQ = 0, 1, 2, 3

# Token types (2.2.7).
_TOKEN_COLMETADATA, _TOKEN_ERROR, _TOKEN_INFO, _TOKEN_LOGINACK = 0x81, 0xAA, 0xAB, 0xAD
_TOKEN_ROW, _TOKEN_ENVCHANGE, _TOKEN_DONE = 0xD1, 0xE3, 0xFD
_DONE_FINAL, _DONE_ERROR, _DONE_COUNT, _DONE_ATTN = 0x00, 0x02, 0x10, 0x20
_CMD_SELECT = 0xC1

# TDS versions as LOGIN7 carries them (little-endian there, big-endian in LOGINACK; 2.2.6.4).
_TDS_VERSIONS = {0x71000001: "7.1", 0x72090002: "7.2", 0x730A0003: "7.3A", 0x730B0003: "7.3B", 0x74000004: "7.4"}
_TDS_74 = 0x74000004

# SQL_Latin1_General_CP1_CI_AS (2.2.5.1.2): LCID 0x409, ignore case/kana/width, sort id 52.
_COLLATION = bytes([0x09, 0x04, 0xD0, 0x00, 0x34])
_SERVER_NAME = "KFSQL-SANDBOX"


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


@dataclass
class SessionRecord:
    """What one client connection did, for self-tests to assert on."""

    encryption: str = ""  # "full", "login-only", "none"
    user: str = ""
    tds_version: str = ""
    logged_in: bool = False
    batches: list[str] = field(default_factory=list)


class _Closed(Exception):
    """The peer went away, or broke the protocol: drop the connection."""


class _Wire:
    """TDS packets over a socket, optionally through TLS (ssl.SSLObject over memory BIOs)."""

    def __init__(self, sock: socket.socket, spid: int) -> None:
        self.sock = sock
        self.spid = spid
        self.packet_size = 4096
        self.tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._packet_id = 0

    def _recv_raw(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise _Closed("peer closed")
        return data

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            if self.tls is None:
                chunk = self.sock.recv(n - len(buf))
                if not chunk:
                    raise _Closed("peer closed")
                buf += chunk
                continue
            try:
                buf += self.tls.read(n - len(buf))
            except ssl.SSLWantReadError:
                self._incoming.write(self._recv_raw())
            except ssl.SSLError as exc:  # close_notify included
                raise _Closed(str(exc)) from exc
        return bytes(buf)

    def read_packet(self) -> tuple[int, int, bytes]:
        header = self._recv_exact(8)
        ptype, status, length = struct.unpack(">BBH", header[:4])
        if not 8 <= length <= _MAX_PACKET:
            raise _Closed(f"bad packet length {length}")
        return ptype, status, self._recv_exact(length - 8)

    def read_message(self) -> tuple[int, bytes]:
        first, status, payload = self.read_packet()
        data = bytearray(payload)
        while not status & _EOM:
            ptype, status, payload = self.read_packet()
            if ptype != first:
                raise _Closed("packet type changed inside a message")
            data += payload
            if len(data) > _MAX_MESSAGE:
                raise _Closed("message too large")
        return first, bytes(data)

    def send_message(self, ptype: int, payload: bytes) -> None:
        room = self.packet_size - 8
        chunks = [payload[i : i + room] for i in range(0, len(payload), room)] or [b""]
        out = bytearray()
        for i, chunk in enumerate(chunks):
            self._packet_id = (self._packet_id + 1) % 256
            status = _EOM if i == len(chunks) - 1 else 0
            out += struct.pack(">BBHHBB", ptype, status, len(chunk) + 8, self.spid, self._packet_id, 0) + chunk
        if self.tls is None:
            self.sock.sendall(out)
        else:
            self.tls.write(bytes(out))
            self.sock.sendall(self._outgoing.read())

    def start_tls(self, context: ssl.SSLContext) -> None:
        """Server side of the TLS handshake, whose records travel inside PRELOGIN packets (2.2.6.5)."""
        tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush_handshake()
                ptype, _status, payload = self.read_packet()
                if ptype != PRELOGIN:
                    raise _Closed(f"expected a TLS handshake in PRELOGIN packets, got type {ptype:#x}") from None
                self._incoming.write(payload)
            except ssl.SSLError as exc:
                self._flush_handshake()  # send our alert, if any
                raise _Closed(f"TLS handshake failed: {exc}") from exc
        self._flush_handshake()
        # From here on TLS records go straight on the socket, with TDS packets inside them.
        self.tls = tls

    def _flush_handshake(self) -> None:
        data = self._outgoing.read()
        if data:
            self.send_message(PRELOGIN, data)

    def stop_tls(self) -> None:
        """'Encrypt login only': after LOGIN7 both sides drop TLS without a close_notify."""
        self.tls = None


class TdsServer:
    """A SQL Server stand-in on ``host:port`` (port 0 picks a free one), serving in background threads.

    ``login`` is the one SQL login accepted; ``database`` the login's default (and only) database.
    ``faults`` are names from ``FAULTS``; ``refuse=True`` is the same as the ``sql-down`` fault.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        certfile: str,
        keyfile: str | None = None,
        login: tuple[str, str] = ("kf_smoke", "kf-Smoke-Passw0rd"),
        database: str = "Keyfactor",
        faults: Iterable[str] = frozenset(),
        refuse: bool = False,
    ) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown TDS fault(s): {', '.join(sorted(unknown))}; known: {', '.join(FAULTS)}")
        self.host = host
        self.faults = frozenset(faults) | ({"sql-down"} if refuse else set())
        self.login = login
        self.database = database
        self.product = OLD_PRODUCT if "sql-old-version" in self.faults else HEALTHY_PRODUCT
        self.compatibility_level = 120 if "sql-compat-120" in self.faults else 150
        self.sessions: list[SessionRecord] = []
        self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls_context.load_cert_chain(certfile, keyfile)
        # SQL Server speaks TLS 1.3 only with TDS 8.0 ("strict"); TDS 7.x sessions use TLS 1.2.
        self.tls_context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.tls_context.maximum_version = ssl.TLSVersion.TLSv1_2
        self._listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._listener.bind((host, port))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._next_spid = 51

    def start(self) -> int:
        if "sql-down" not in self.faults:  # bound but not listening: the kernel refuses connections
            self._listener.listen(16)
            self._listener.settimeout(0.2)
            self._spawn(self._accept_loop)
        return self.port

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            clients = list(self._clients)
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> TdsServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            with self._lock:
                self._clients.add(sock)
                spid, self._next_spid = self._next_spid, self._next_spid + 1
            self._spawn(self._serve, sock, spid)

    def _serve(self, sock: socket.socket, spid: int) -> None:
        record = SessionRecord()
        with self._lock:
            self.sessions.append(record)
        try:
            if "sql-hang" in self.faults:
                while sock.recv(65536):
                    pass
                return
            _Session(self, _Wire(sock, spid), record).run()
        except (_Closed, OSError):
            pass
        finally:
            with self._lock:
                self._clients.discard(sock)
            sock.close()

    def negotiate(self, client: int) -> tuple[int, str | None]:
        """PRELOGIN ENCRYPTION: (value to answer, session mode or None to hang up) per 2.2.6.5's table."""
        client &= 0x0F  # the high bits carry ENCRYPT_CLIENT_CERT
        wants_tls = client in (ENCRYPT_ON, ENCRYPT_REQ)
        if "sql-unencrypted" in self.faults:
            return ENCRYPT_NOT_SUP, None if wants_tls else "none"
        if "sql-encryption-optional" in self.faults:
            if client == ENCRYPT_NOT_SUP:
                return ENCRYPT_NOT_SUP, "none"
            return (ENCRYPT_ON, "full") if wants_tls else (ENCRYPT_OFF, "login-only")
        # Force Encryption on: everyone gets TLS; a client that cannot do it must hang up.
        return (ENCRYPT_ON if wants_tls else ENCRYPT_REQ), "full"


@dataclass
class _Login:
    tds_version: int
    packet_size: int
    integrated: bool
    user: str
    password: str
    database: str


class _Session:
    def __init__(self, server: TdsServer, wire: _Wire, record: SessionRecord) -> None:
        self.server = server
        self.wire = wire
        self.record = record
        self.tds72 = True

    def run(self) -> None:
        server, wire = self.server, self.wire
        ptype, data = wire.read_message()
        if ptype != PRELOGIN:
            raise _Closed("the first message must be PRELOGIN")
        options = _parse_prelogin(data)
        answer, mode = server.negotiate(options.get(_PL_ENCRYPTION, b"\x00")[0])
        wire.send_message(TABULAR, _prelogin_reply(server.product, answer))
        if mode is None:
            wire.read_message()  # the client hangs up; anything else is a protocol error either way
            raise _Closed("client requires encryption the server does not have")
        self.record.encryption = mode
        if mode != "none":
            wire.start_tls(server.tls_context)
        ptype, data = wire.read_message()
        if ptype != LOGIN7:
            raise _Closed(f"expected LOGIN7, got type {ptype:#x}")
        if mode == "login-only":
            wire.stop_tls()
        if not self._login(_parse_login7(data)):
            return
        while True:
            ptype, data = wire.read_message()
            if ptype == SQL_BATCH:
                self._batch(data)
            elif ptype == ATTENTION:
                wire.send_message(TABULAR, _done(_DONE_ATTN, 0, 0, self.tds72))
            elif ptype in (RPC, TRANSACTION_MANAGER):
                kind = "RPC" if ptype == RPC else "transaction manager"
                self._error(50000, 16, f"Sandbox: {kind} requests are not supported")
            else:
                raise _Closed(f"unexpected packet type {ptype:#x}")

    def _login(self, login: _Login) -> bool:
        server = self.server
        self.record.user = login.user
        if login.tds_version not in _TDS_VERSIONS and login.tds_version < _TDS_74:
            raise _Closed(f"unsupported TDS version {login.tds_version:#x}")
        version = min(login.tds_version, _TDS_74)
        self.record.tds_version = _TDS_VERSIONS[version]
        self.tds72 = version >= 0x72090002
        if login.integrated:
            # The sandbox has no domain: Windows authentication fails as it does on an untrusted domain.
            self._login_failed(18452, "Login failed. The login is from an untrusted domain and cannot be "
                               "used with Integrated authentication.")
            return False
        if (login.user.casefold(), login.password) != (server.login[0].casefold(), server.login[1]):
            self._login_failed(18456, f"Login failed for user '{login.user}'.")
            return False
        if login.database and login.database.casefold() != server.database.casefold():
            self._login_failed(
                18456,
                f"Login failed for user '{login.user}'.",
                first=(4060, 11, f'Cannot open database "{login.database}" requested by the login. '
                       "The login failed."),
            )
            return False
        packet_size = min(max(login.packet_size or 4096, 512), _MAX_PACKET)
        product = server.product
        major, minor, build = (int(p) for p in product.version.split(".")[:3])
        tokens = b"".join(
            [
                _envchange(1, _b_varchar(server.database), _b_varchar("master")),
                _message(_TOKEN_INFO, 5701, 2, 0, f"Changed database context to '{server.database}'.", self.tds72),
                _envchange(7, bytes([len(_COLLATION)]) + _COLLATION, b"\x00"),
                _envchange(2, _b_varchar("us_english"), _b_varchar("")),
                _message(_TOKEN_INFO, 5703, 1, 0, "Changed language setting to us_english.", self.tds72),
                _loginack(version, major, minor, build),
                _envchange(4, _b_varchar(str(packet_size)), _b_varchar("4096")),
                _done(_DONE_FINAL, 0, 0, self.tds72),
            ]
        )
        self.wire.send_message(TABULAR, tokens)
        self.wire.packet_size = packet_size
        self.record.logged_in = True
        return True

    def _login_failed(self, number: int, text: str, first: tuple[int, int, str] | None = None) -> None:
        tokens = b""
        if first:
            tokens += _message(_TOKEN_ERROR, first[0], 1, first[1], first[2], self.tds72)
        tokens += _message(_TOKEN_ERROR, number, 1, 14, text, self.tds72)
        self.wire.send_message(TABULAR, tokens + _done(_DONE_ERROR, 0, 0, self.tds72))

    def _error(self, number: int, severity: int, text: str, state: int = 1) -> None:
        tokens = _message(_TOKEN_ERROR, number, state, severity, text, self.tds72)
        self.wire.send_message(TABULAR, tokens + _done(_DONE_ERROR, 0, 0, self.tds72))

    def _batch(self, data: bytes) -> None:
        if self.tds72:  # ALL_HEADERS precede the text from TDS 7.2 on (2.2.5.3)
            if len(data) < 4 or not 4 <= struct.unpack_from("<I", data)[0] <= len(data):
                raise _Closed("SQL_BATCH without a valid ALL_HEADERS")
            data = data[struct.unpack_from("<I", data)[0] :]
        if len(data) % 2:
            raise _Closed("SQL_BATCH text is not UCS-2")
        text = data.decode("utf-16-le")
        self.record.batches.append(text)
        result = self._answer(_normalise(text))
        if result is not None and "sql-slow-query" in self.server.faults:
            return  # never answer the suite's queries; the client's ATTENTION is answered by run()
        if result is None:
            self._error(50000, 16, f"Sandbox: query not supported: {' '.join(text.split())[:300]}")
        else:
            self.wire.send_message(TABULAR, result)

    def _answer(self, sql: str) -> bytes | None:
        server, tds72 = self.server, self.tds72
        if sql == _Q_SESSION:
            if "sql-no-view-server-state" in server.faults:
                tokens = _message(_TOKEN_ERROR, 300, 1, 14, "VIEW SERVER STATE permission was denied on "
                                  "object 'server', database 'master'.", tds72)
                tokens += _message(_TOKEN_ERROR, 297, 1, 16, "The user does not have permission to perform "
                                   "this action.", tds72)
                return tokens + _done(_DONE_ERROR, _CMD_SELECT, 0, tds72)
            encrypted = "TRUE" if self.record.encryption == "full" else "FALSE"
            columns = [_Column("encrypt_option", "nvarchar", 40), _Column("auth_scheme", "nvarchar", 40),
                       _Column("net_transport", "nvarchar", 40)]
            return _result(columns, [(encrypted, "SQL", "TCP")], tds72)
        named = _Q_COMPAT_NAMED.fullmatch(sql)
        if sql == _Q_COMPAT or named:
            wanted = named.group(1).replace("''", "'") if named else server.database
            rows: list[tuple[object, ...]] = []
            if wanted.casefold() == server.database.casefold():  # a case-insensitive server collation
                rows.append((server.database, server.compatibility_level))
            columns = [_Column("name", "nvarchar", 128), _Column("compatibility_level", "tinyint", 1)]
            return _result(columns, rows, tds72)
        if sql == _Q_VERSION:
            product = server.product
            columns = [_Column(name, "varchar", 128, nullable=True) for name in ("product_version", "product_level",
                                                                                  "edition")]
            return _result(columns, [(product.version, product.level, product.edition)], tds72)
        return None


def _normalise(sql: str) -> str:
    return " ".join(sql.split()).strip().rstrip(";").strip().lower()


def _parse_prelogin(data: bytes) -> dict[int, bytes]:
    """PRELOGIN option table (2.2.6.5): token, offset, length ... 0xFF, then the option data."""
    options: dict[int, bytes] = {}
    pos = 0
    while True:
        if pos >= len(data):
            raise _Closed("PRELOGIN without terminator")
        token = data[pos]
        if token == _PL_TERMINATOR:
            break
        if pos + 5 > len(data):
            raise _Closed("truncated PRELOGIN option")
        offset, length = struct.unpack_from(">HH", data, pos + 1)
        if offset + length > len(data):
            raise _Closed("PRELOGIN option points outside the message")
        options[token] = data[offset : offset + length]
        pos += 5
    if len(options.get(_PL_VERSION, b"")) != 6:
        raise _Closed("PRELOGIN without VERSION")
    if _PL_ENCRYPTION in options and len(options[_PL_ENCRYPTION]) != 1:
        raise _Closed("bad PRELOGIN ENCRYPTION")
    return options


def _prelogin_reply(product: Product, encryption: int) -> bytes:
    major, minor, build = (int(p) for p in product.version.split(".")[:3])
    values = [
        (_PL_VERSION, struct.pack(">BBHH", major, minor, build, 0)),
        (_PL_ENCRYPTION, bytes([encryption])),
        (_PL_INSTOPT, b"\x00"),
        (_PL_THREADID, b""),
        (_PL_MARS, b"\x00"),
    ]
    offset = 5 * len(values) + 1
    table, body = bytearray(), bytearray()
    for token, value in values:
        table += struct.pack(">BHH", token, offset + len(body), len(value))
        body += value
    return bytes(table) + bytes([_PL_TERMINATOR]) + bytes(body)


def _parse_login7(data: bytes) -> _Login:
    """LOGIN7 (2.2.6.4): fixed header, then (offset, length-in-characters) pairs into the data."""
    if len(data) < 94:
        raise _Closed("LOGIN7 too short")
    length, tds_version, packet_size = struct.unpack_from("<III", data, 0)
    if length != len(data):
        raise _Closed("LOGIN7 length does not match the message")
    option_flags2 = data[25]

    def text(at: int, obfuscated: bool = False) -> str:
        offset, chars = struct.unpack_from("<HH", data, at)
        raw = data[offset : offset + 2 * chars]
        if len(raw) != 2 * chars:
            raise _Closed("LOGIN7 field points outside the message")
        if obfuscated:  # the client swapped each byte's nibbles, then XORed with 0xA5
            raw = bytes((((b ^ 0xA5) << 4) & 0xF0) | ((b ^ 0xA5) >> 4) for b in raw)
        return raw.decode("utf-16-le")

    return _Login(
        tds_version=tds_version,
        packet_size=packet_size,
        integrated=bool(option_flags2 & 0x80),  # fIntSecurity: SSPI (Kerberos/NTLM) instead of a password
        user=text(40),
        password=text(44, obfuscated=True),
        database=text(68),
    )


def _b_varchar(value: str) -> bytes:
    raw = value.encode("utf-16-le")
    return bytes([len(raw) // 2]) + raw


def _us_varchar(value: str) -> bytes:
    raw = value.encode("utf-16-le")
    return struct.pack("<H", len(raw) // 2) + raw


def _envchange(kind: int, new: bytes, old: bytes) -> bytes:
    body = bytes([kind]) + new + old
    return struct.pack("<BH", _TOKEN_ENVCHANGE, len(body)) + body


def _message(token: int, number: int, state: int, severity: int, text: str, tds72: bool) -> bytes:
    """ERROR / INFO token (2.2.7.10, 2.2.7.13); LineNumber grew from 2 to 4 bytes in TDS 7.2."""
    line = struct.pack("<i", 1) if tds72 else struct.pack("<H", 1)
    body = struct.pack("<iBB", number, state, severity) + _us_varchar(text) + _b_varchar(_SERVER_NAME)
    body += _b_varchar("") + line
    return struct.pack("<BH", token, len(body)) + body


def _loginack(tds_version: int, major: int, minor: int, build: int) -> bytes:
    body = bytes([1]) + struct.pack(">I", tds_version) + _b_varchar("Microsoft SQL Server")
    body += bytes([major, minor, build >> 8, build & 0xFF])
    return struct.pack("<BH", _TOKEN_LOGINACK, len(body)) + body


def _done(status: int, command: int, rows: int, tds72: bool) -> bytes:
    count = struct.pack("<Q", rows) if tds72 else struct.pack("<I", rows)
    return struct.pack("<BHH", _TOKEN_DONE, status, command) + count


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # "nvarchar", "varchar" or "tinyint"
    size: int  # characters for strings
    nullable: bool = False


def _result(columns: list[_Column], rows: list[tuple[object, ...]], tds72: bool) -> bytes:
    """COLMETADATA, ROWs and DONE (2.2.7.4, 2.2.7.19). NOT NULL tinyint is the fixed-length INT1TYPE,
    as SQL Server sends it; nullable columns use the variable-length types."""
    out = bytearray(struct.pack("<BH", _TOKEN_COLMETADATA, len(columns)))
    for col in columns:
        out += struct.pack("<I", 0) if tds72 else struct.pack("<H", 0)  # UserType
        out += struct.pack("<H", 1 if col.nullable else 0)  # Flags: fNullable
        if col.kind == "nvarchar":
            out += struct.pack("<BH", 0xE7, col.size * 2) + _COLLATION
        elif col.kind == "varchar":
            out += struct.pack("<BH", 0xA7, col.size) + _COLLATION
        else:
            out += b"\x26\x01" if col.nullable else b"\x30"
        out += _b_varchar(col.name)
    for row in rows:
        out.append(_TOKEN_ROW)
        for col, value in zip(columns, row, strict=True):
            if col.kind in ("nvarchar", "varchar"):
                if value is None:
                    out += b"\xff\xff"
                    continue
                raw = str(value).encode("utf-16-le" if col.kind == "nvarchar" else "cp1252")
                out += struct.pack("<H", len(raw)) + raw
            elif value is None:
                out += b"\x00"
            else:
                out += (b"\x01" if col.nullable else b"") + bytes([int(str(value))])
    out += _done(_DONE_COUNT, _CMD_SELECT, len(rows), tds72)
    return bytes(out)
