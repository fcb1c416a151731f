"""TDS packets over one socket (MS-TDS 2.2.3), and the TLS session that starts inside PRELOGIN packets.

Messages are split into and joined from packets here; what they mean is tds_messages.py's business.
"""

from __future__ import annotations

import socket
import ssl
import struct

from .tds_messages import DropConnection

# Packet types and status (MS-TDS 2.2.3.1.1, 2.2.3.1.2).
SQL_BATCH, RPC, TABULAR, ATTENTION, TRANSACTION_MANAGER, LOGIN7, PRELOGIN = 0x01, 0x03, 0x04, 0x06, 0x0E, 0x10, 0x12
_EOM = 0x01
MAX_PACKET = 32767
_MAX_MESSAGE = 1 << 20


class Wire:
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
            raise DropConnection("peer closed")
        return data

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            if self.tls is None:
                chunk = self.sock.recv(n - len(buf))
                if not chunk:
                    raise DropConnection("peer closed")
                buf += chunk
                continue
            try:
                buf += self.tls.read(n - len(buf))
            except ssl.SSLWantReadError:
                self._incoming.write(self._recv_raw())
            except ssl.SSLError as exc:  # close_notify included
                raise DropConnection(str(exc)) from exc
        return bytes(buf)

    def read_packet(self) -> tuple[int, int, bytes]:
        header = self._recv_exact(8)
        ptype, status, length = struct.unpack(">BBH", header[:4])
        if not 8 <= length <= MAX_PACKET:
            raise DropConnection(f"bad packet length {length}")
        return ptype, status, self._recv_exact(length - 8)

    def read_message(self) -> tuple[int, bytes]:
        first, status, payload = self.read_packet()
        data = bytearray(payload)
        while not status & _EOM:
            ptype, status, payload = self.read_packet()
            if ptype != first:
                raise DropConnection("packet type changed inside a message")
            data += payload
            if len(data) > _MAX_MESSAGE:
                raise DropConnection("message too large")
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
                    raise DropConnection(f"expected a TLS handshake in PRELOGIN packets, got type {ptype:#x}") from None
                self._incoming.write(payload)
            except ssl.SSLError as exc:
                self._flush_handshake()  # send our alert, if any
                raise DropConnection(f"TLS handshake failed: {exc}") from exc
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
