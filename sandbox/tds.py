"""A strict, minimal SQL Server stand-in: MS-TDS 7.1-7.4 over TCP, with canned answers.

It speaks just enough of [MS-TDS] (https://learn.microsoft.com/openspecs/windows_protocols/ms-tds/)
for a real ODBC driver (FreeTDS, Microsoft ODBC Driver 18) to log in and run the suite's fixed
queries: PRELOGIN, the TLS handshake carried in PRELOGIN packets, LOGIN7, SQL_BATCH, ATTENTION.
Anything else closes the connection or answers with an ERROR token, as a real server would:
the sandbox must never be easier than SQL Server.

What it reports is derived from the wire, not assumed: ``encrypt_option`` is TRUE only when the
whole session really runs inside TLS. Faults (names in ``FAULTS``) are data passed to the server.
Standard library only (socket, ssl, threading).

This module is the server: its sockets and threads, and each session's course from PRELOGIN to the queries.
The bytes are in tds_messages.py, the packets and TLS in tds_wire.py, the query answers in tds_answers.py.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .tds_answers import HEALTHY_PRODUCT, OLD_PRODUCT, Catalog, answer
from .tds_messages import (
    COLLATION,
    DONE_ATTN,
    DONE_ERROR,
    DONE_FINAL,
    ENCRYPT_NOT_SUP,
    ENCRYPT_OFF,
    ENCRYPT_ON,
    ENCRYPT_REQ,
    PL_ENCRYPTION,
    TDS_74,
    TDS_VERSIONS,
    TOKEN_ERROR,
    TOKEN_INFO,
    DropConnection,
    Login,
    b_varchar,
    done,
    envchange,
    loginack,
    message,
    parse_login7,
    parse_prelogin,
    prelogin_reply,
)
from .tds_wire import ATTENTION, LOGIN7, MAX_PACKET, PRELOGIN, RPC, SQL_BATCH, TABULAR, TRANSACTION_MANAGER, Wire

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


@dataclass
class SessionRecord:
    """What one client connection did, for self-tests to assert on."""

    encryption: str = ""  # "full", "login-only", "none"
    user: str = ""
    tds_version: str = ""
    logged_in: bool = False
    batches: list[str] = field(default_factory=list)


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
        self.catalog = Catalog(
            product=OLD_PRODUCT if "sql-old-version" in self.faults else HEALTHY_PRODUCT,
            database=database,
            compatibility_level=120 if "sql-compat-120" in self.faults else 150,
            view_server_state="sql-no-view-server-state" not in self.faults,
        )
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
            self._listener.settimeout(0.05)  # how soon the accept loop notices stop()
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
            _Session(self, Wire(sock, spid), record).run()
        except (DropConnection, OSError):
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


class _Session:
    def __init__(self, server: TdsServer, wire: Wire, record: SessionRecord) -> None:
        self.server = server
        self.wire = wire
        self.record = record
        self.tds72 = True

    def run(self) -> None:
        server, wire = self.server, self.wire
        ptype, data = wire.read_message()
        if ptype != PRELOGIN:
            raise DropConnection("the first message must be PRELOGIN")
        options = parse_prelogin(data)
        encryption, mode = server.negotiate(options.get(PL_ENCRYPTION, b"\x00")[0])
        wire.send_message(TABULAR, prelogin_reply(server.catalog.product.version, encryption))
        if mode is None:
            wire.read_message()  # the client hangs up; anything else is a protocol error either way
            raise DropConnection("client requires encryption the server does not have")
        self.record.encryption = mode
        if mode != "none":
            wire.start_tls(server.tls_context)
        ptype, data = wire.read_message()
        if ptype != LOGIN7:
            raise DropConnection(f"expected LOGIN7, got type {ptype:#x}")
        if mode == "login-only":
            wire.stop_tls()
        if not self._login(parse_login7(data)):
            return
        while True:
            ptype, data = wire.read_message()
            if ptype == SQL_BATCH:
                self._batch(data)
            elif ptype == ATTENTION:
                wire.send_message(TABULAR, done(DONE_ATTN, 0, 0, self.tds72))
            elif ptype in (RPC, TRANSACTION_MANAGER):
                kind = "RPC" if ptype == RPC else "transaction manager"
                self._error(50000, 16, f"Sandbox: {kind} requests are not supported")
            else:
                raise DropConnection(f"unexpected packet type {ptype:#x}")

    def _login(self, login: Login) -> bool:
        server = self.server
        self.record.user = login.user
        if login.tds_version not in TDS_VERSIONS and login.tds_version < TDS_74:
            raise DropConnection(f"unsupported TDS version {login.tds_version:#x}")
        version = min(login.tds_version, TDS_74)
        self.record.tds_version = TDS_VERSIONS[version]
        self.tds72 = version >= 0x72090002
        if login.integrated:
            # The sandbox has no domain: Windows authentication fails as it does on an untrusted domain.
            self._login_failed(18452, "Login failed. The login is from an untrusted domain and cannot be "
                               "used with Integrated authentication.")
            return False
        if (login.user.casefold(), login.password) != (server.login[0].casefold(), server.login[1]):
            self._login_failed(18456, f"Login failed for user '{login.user}'.")
            return False
        database = server.catalog.database
        if login.database and login.database.casefold() != database.casefold():
            self._login_failed(
                18456,
                f"Login failed for user '{login.user}'.",
                first=(4060, 11, f'Cannot open database "{login.database}" requested by the login. '
                       "The login failed."),
            )
            return False
        packet_size = min(max(login.packet_size or 4096, 512), MAX_PACKET)
        product = server.catalog.product
        major, minor, build = (int(p) for p in product.version.split(".")[:3])
        tokens = b"".join(
            [
                envchange(1, b_varchar(database), b_varchar("master")),
                message(TOKEN_INFO, 5701, 2, 0, f"Changed database context to '{database}'.", self.tds72),
                envchange(7, bytes([len(COLLATION)]) + COLLATION, b"\x00"),
                envchange(2, b_varchar("us_english"), b_varchar("")),
                message(TOKEN_INFO, 5703, 1, 0, "Changed language setting to us_english.", self.tds72),
                loginack(version, major, minor, build),
                envchange(4, b_varchar(str(packet_size)), b_varchar("4096")),
                done(DONE_FINAL, 0, 0, self.tds72),
            ]
        )
        self.wire.send_message(TABULAR, tokens)
        self.wire.packet_size = packet_size
        self.record.logged_in = True
        return True

    def _login_failed(self, number: int, text: str, first: tuple[int, int, str] | None = None) -> None:
        tokens = b""
        if first:
            tokens += message(TOKEN_ERROR, first[0], 1, first[1], first[2], self.tds72)
        tokens += message(TOKEN_ERROR, number, 1, 14, text, self.tds72)
        self.wire.send_message(TABULAR, tokens + done(DONE_ERROR, 0, 0, self.tds72))

    def _error(self, number: int, severity: int, text: str, state: int = 1) -> None:
        tokens = message(TOKEN_ERROR, number, state, severity, text, self.tds72)
        self.wire.send_message(TABULAR, tokens + done(DONE_ERROR, 0, 0, self.tds72))

    def _batch(self, data: bytes) -> None:
        if self.tds72:  # ALL_HEADERS precede the text from TDS 7.2 on (2.2.5.3)
            if len(data) < 4 or not 4 <= struct.unpack_from("<I", data)[0] <= len(data):
                raise DropConnection("SQL_BATCH without a valid ALL_HEADERS")
            data = data[struct.unpack_from("<I", data)[0] :]
        if len(data) % 2:
            raise DropConnection("SQL_BATCH text is not UCS-2")
        text = data.decode("utf-16-le")
        self.record.batches.append(text)
        result = answer(text, self.server.catalog, encrypted=self.record.encryption == "full", tds72=self.tds72)
        if result is not None and "sql-slow-query" in self.server.faults:
            return  # never answer the suite's queries; the client's ATTENTION is answered by run()
        if result is None:
            self._error(50000, 16, f"Sandbox: query not supported: {' '.join(text.split())[:300]}")
        else:
            self.wire.send_message(TABULAR, result)

