"""The bytes of MS-TDS messages: PRELOGIN and LOGIN7 as clients send them, the tokens a server answers with.

Decoding is strict: a malformed message raises DropConnection, as SQL Server drops such a client. No sockets
here (tds_wire.py carries the packets), no answers (tds_answers.py knows what the sandbox says).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


class DropConnection(Exception):
    """The peer went away, or broke the protocol: drop the connection."""


# PRELOGIN option tokens and ENCRYPTION values (2.2.6.5).
_PL_VERSION, PL_ENCRYPTION, _PL_INSTOPT, _PL_THREADID, _PL_MARS, _PL_TERMINATOR = 0, 1, 2, 3, 4, 0xFF
ENCRYPT_OFF, ENCRYPT_ON, ENCRYPT_NOT_SUP, ENCRYPT_REQ = 0, 1, 2, 3

# Token types (2.2.7).
_TOKEN_COLMETADATA, TOKEN_ERROR, TOKEN_INFO, _TOKEN_LOGINACK = 0x81, 0xAA, 0xAB, 0xAD
_TOKEN_ROW, _TOKEN_ENVCHANGE, _TOKEN_DONE = 0xD1, 0xE3, 0xFD
DONE_FINAL, DONE_ERROR, _DONE_COUNT, DONE_ATTN = 0x00, 0x02, 0x10, 0x20
CMD_SELECT = 0xC1

# TDS versions as LOGIN7 carries them (little-endian there, big-endian in LOGINACK; 2.2.6.4).
TDS_VERSIONS = {0x71000001: "7.1", 0x72090002: "7.2", 0x730A0003: "7.3A", 0x730B0003: "7.3B", 0x74000004: "7.4"}
TDS_74 = 0x74000004

# SQL_Latin1_General_CP1_CI_AS (2.2.5.1.2): LCID 0x409, ignore case/kana/width, sort id 52.
COLLATION = bytes([0x09, 0x04, 0xD0, 0x00, 0x34])
_SERVER_NAME = "KFSQL-SANDBOX"


@dataclass
class Login:
    tds_version: int
    packet_size: int
    integrated: bool
    user: str
    password: str
    database: str


def parse_prelogin(data: bytes) -> dict[int, bytes]:
    """PRELOGIN option table (2.2.6.5): token, offset, length ... 0xFF, then the option data."""
    options: dict[int, bytes] = {}
    pos = 0
    while True:
        if pos >= len(data):
            raise DropConnection("PRELOGIN without terminator")
        token = data[pos]
        if token == _PL_TERMINATOR:
            break
        if pos + 5 > len(data):
            raise DropConnection("truncated PRELOGIN option")
        offset, length = struct.unpack_from(">HH", data, pos + 1)
        if offset + length > len(data):
            raise DropConnection("PRELOGIN option points outside the message")
        options[token] = data[offset : offset + length]
        pos += 5
    if len(options.get(_PL_VERSION, b"")) != 6:
        raise DropConnection("PRELOGIN without VERSION")
    if PL_ENCRYPTION in options and len(options[PL_ENCRYPTION]) != 1:
        raise DropConnection("bad PRELOGIN ENCRYPTION")
    return options


def prelogin_reply(version: str, encryption: int) -> bytes:
    major, minor, build = (int(p) for p in version.split(".")[:3])
    values = [
        (_PL_VERSION, struct.pack(">BBHH", major, minor, build, 0)),
        (PL_ENCRYPTION, bytes([encryption])),
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


def parse_login7(data: bytes) -> Login:
    """LOGIN7 (2.2.6.4): fixed header, then (offset, length-in-characters) pairs into the data."""
    if len(data) < 94:
        raise DropConnection("LOGIN7 too short")
    length, tds_version, packet_size = struct.unpack_from("<III", data, 0)
    if length != len(data):
        raise DropConnection("LOGIN7 length does not match the message")
    option_flags2 = data[25]

    def text(at: int, obfuscated: bool = False) -> str:
        offset, chars = struct.unpack_from("<HH", data, at)
        raw = data[offset : offset + 2 * chars]
        if len(raw) != 2 * chars:
            raise DropConnection("LOGIN7 field points outside the message")
        if obfuscated:  # the client swapped each byte's nibbles, then XORed with 0xA5
            raw = bytes((((b ^ 0xA5) << 4) & 0xF0) | ((b ^ 0xA5) >> 4) for b in raw)
        return raw.decode("utf-16-le")

    return Login(
        tds_version=tds_version,
        packet_size=packet_size,
        integrated=bool(option_flags2 & 0x80),  # fIntSecurity: SSPI (Kerberos/NTLM) instead of a password
        user=text(40),
        password=text(44, obfuscated=True),
        database=text(68),
    )


def b_varchar(value: str) -> bytes:
    raw = value.encode("utf-16-le")
    return bytes([len(raw) // 2]) + raw


def _us_varchar(value: str) -> bytes:
    raw = value.encode("utf-16-le")
    return struct.pack("<H", len(raw) // 2) + raw


def envchange(kind: int, new: bytes, old: bytes) -> bytes:
    body = bytes([kind]) + new + old
    return struct.pack("<BH", _TOKEN_ENVCHANGE, len(body)) + body


def message(token: int, number: int, state: int, severity: int, text: str, tds72: bool) -> bytes:
    """ERROR / INFO token (2.2.7.10, 2.2.7.13); LineNumber grew from 2 to 4 bytes in TDS 7.2."""
    line = struct.pack("<i", 1) if tds72 else struct.pack("<H", 1)
    body = struct.pack("<iBB", number, state, severity) + _us_varchar(text) + b_varchar(_SERVER_NAME)
    body += b_varchar("") + line
    return struct.pack("<BH", token, len(body)) + body


def loginack(tds_version: int, major: int, minor: int, build: int) -> bytes:
    body = bytes([1]) + struct.pack(">I", tds_version) + b_varchar("Microsoft SQL Server")
    body += bytes([major, minor, build >> 8, build & 0xFF])
    return struct.pack("<BH", _TOKEN_LOGINACK, len(body)) + body


def done(status: int, command: int, rows: int, tds72: bool) -> bytes:
    count = struct.pack("<Q", rows) if tds72 else struct.pack("<I", rows)
    return struct.pack("<BHH", _TOKEN_DONE, status, command) + count


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "nvarchar", "varchar" or "tinyint"
    size: int  # characters for strings
    nullable: bool = False


def result(columns: list[Column], rows: list[tuple[object, ...]], tds72: bool) -> bytes:
    """COLMETADATA, ROWs and DONE (2.2.7.4, 2.2.7.19). NOT NULL tinyint is the fixed-length INT1TYPE,
    as SQL Server sends it; nullable columns use the variable-length types."""
    out = bytearray(struct.pack("<BH", _TOKEN_COLMETADATA, len(columns)))
    for col in columns:
        out += struct.pack("<I", 0) if tds72 else struct.pack("<H", 0)  # UserType
        out += struct.pack("<H", 1 if col.nullable else 0)  # Flags: fNullable
        if col.kind == "nvarchar":
            out += struct.pack("<BH", 0xE7, col.size * 2) + COLLATION
        elif col.kind == "varchar":
            out += struct.pack("<BH", 0xA7, col.size) + COLLATION
        else:
            out += b"\x26\x01" if col.nullable else b"\x30"
        out += b_varchar(col.name)
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
    out += done(_DONE_COUNT, CMD_SELECT, len(rows), tds72)
    return bytes(out)
