"""Which service a Kerberos ticket was for, read from the Authorization header that carried it: the evidence that
the exchange with a node used the site's service name (HTTP/<site>), not the node's. A ticket's service name
and realm travel in clear inside the AP-REQ (RFC 4120 §5.3, §5.5.1); nothing secret is read."""

from __future__ import annotations

import base64
import binascii

_AP_REQ = 0x6E  # [APPLICATION 14]
_TICKET = 0x61  # [APPLICATION 1]


def ticket_service(authorization: str) -> str | None:
    """"HTTP/kf.corp.example.com@CORP.EXAMPLE.COM" for a Negotiate or Kerberos header holding an AP-REQ, else None
    (another scheme, NTLM inside Negotiate, a token that is not an AP-REQ)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in ("negotiate", "kerberos") or not token.strip():
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    start = raw.find(bytes([0x01, 0x00, _AP_REQ]))  # the krb5 GSS token's TOK_ID, then the AP-REQ
    if start < 0:
        return None
    try:
        ap_req = _field(_sequence(_value(raw, start + 2, _AP_REQ)), 3)
        ticket = _sequence(_value(ap_req, 0, _TICKET))
        realm = _value(_field(ticket, 1), 0).decode("ascii")
        sname = _sequence(_field(ticket, 2))
        parts = [_value(part, 0).decode("ascii") for part in _elements(_value(_field(sname, 1), 0, 0x30))]
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    return "/".join(parts) + "@" + realm


def _read(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, where the content starts, where it ends) of the DER element at `at`."""
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4:
            raise ValueError("DER length")
        length, at = int.from_bytes(data[at:at + size], "big"), at + size
    if at + length > len(data):
        raise ValueError("DER element runs past its container")
    return tag, at, at + length


def _value(data: bytes, at: int = 0, tag: int | None = None) -> bytes:
    found, start, end = _read(data, at)
    if tag is not None and found != tag:
        raise ValueError(f"DER tag {found:#x}, expected {tag:#x}")
    return data[start:end]


def _elements(data: bytes) -> list[bytes]:
    """The elements of a constructed value's content, each with its tag and length."""
    found, at = [], 0
    while at < len(data):
        _, _, end = _read(data, at)
        found.append(data[at:end])
        at = end
    return found


def _sequence(data: bytes) -> list[bytes]:
    return _elements(_value(data, 0, 0x30))


def _field(elements: list[bytes], number: int) -> bytes:
    """The content of context tag [number] among a SEQUENCE's elements."""
    for element in elements:
        if element[0] == 0xA0 + number:
            return _value(element)
    raise ValueError(f"no field [{number}]")
