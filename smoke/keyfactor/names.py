"""Distinguished names as Keyfactor writes them: "CN=host,O=Corp, OU=IT,C=US" read into an x509.Name (RFC 4514
escapes, .NET quoting, S=/E= spellings) and written back the same way."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

_Fail = Callable[[str], "CertificateError"]

# Attribute names as Keyfactor, .NET (S=, E=) and RFC 4514 write them.
_ATTRIBUTES: dict[str, ObjectIdentifier] = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "C": NameOID.COUNTRY_NAME,
    "E": NameOID.EMAIL_ADDRESS,
    "EMAIL": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "STREET": NameOID.STREET_ADDRESS,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "UID": NameOID.USER_ID,
    "T": NameOID.TITLE,
    "TITLE": NameOID.TITLE,
    "G": NameOID.GIVEN_NAME,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "SN": NameOID.SURNAME,
    "SURNAME": NameOID.SURNAME,
    "POSTALCODE": NameOID.POSTAL_CODE,
}
# How names are written back (first spelling wins): ST as Keyfactor 25.4 shows it, E for e-mail.
_SHORT_NAMES: dict[ObjectIdentifier, str] = {}
for _short, _oid in _ATTRIBUTES.items():
    _SHORT_NAMES.setdefault(_oid, _short)

_DN_EXAMPLE = "CN=host.corp.example.com,O=Corp,OU=IT,C=US"


class CertificateError(ValueError):
    """A certificate, key, CSR or name the suite cannot use; the message is one line."""


def parse_dn(text: str) -> x509.Name:
    """An x509.Name from a Keyfactor-style subject such as "CN=host,O=Corp, OU=IT,C=US".

    Accepts spaces after separators, ";" as separator, "+" for multi-valued RDNs, backslash escapes
    (\\, or \\2C) and .NET-style quoted values (O="Corp, Inc."). The first RDN written is the most
    specific one, as in RFC 4514 and Keyfactor's IssuedDN, so `dn_text(parse_dn(s))` gives back `s`.
    """

    def fail(reason: str) -> CertificateError:
        return CertificateError(f"cannot read the subject {text!r}: {reason}; write it like {_DN_EXAMPLE}")

    if not text or not text.strip():
        raise fail("it is empty")
    rdns: list[x509.RelativeDistinguishedName] = []
    for rdn_text in _split_unescaped(text, ",;", fail):
        attributes = []
        for ava in _split_unescaped(rdn_text, "+", fail):
            if not ava.strip():
                raise fail("an attribute is empty (two separators in a row or a trailing comma)")
            if "=" not in ava:
                raise fail(f"{ava.strip()!r} has no '='")
            raw_type, raw_value = ava.split("=", 1)
            oid = _attribute_oid(raw_type.strip(), fail)
            value = _unescape(raw_value, fail)
            if not value:
                raise fail(f"{raw_type.strip()} has an empty value")
            try:
                attributes.append(x509.NameAttribute(oid, value))
            except ValueError as exc:
                raise fail(f"{raw_type.strip()}={value!r} is not valid ({exc})") from exc
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(list(reversed(rdns)))


def _split_unescaped(text: str, separators: str, fail: _Fail) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char in separators and not quoted:
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(char)
        i += 1
    if quoted:
        raise fail("a quote is not closed")
    parts.append("".join(current))
    return parts


def _attribute_oid(name: str, fail: _Fail) -> ObjectIdentifier:
    key = name.upper()
    if key.startswith("OID."):
        key = key[4:]
    if key in _ATTRIBUTES:
        return _ATTRIBUTES[key]
    if re.fullmatch(r"\d+(\.\d+)+", key):
        return ObjectIdentifier(key)
    raise fail(f"attribute type {name!r} is unknown (use CN, O, OU, L, ST, C, E, DC, or a dotted OID)")


def _unescape(raw: str, fail: _Fail) -> str:
    value = raw.lstrip()
    stripped = value.rstrip()
    # A trailing escaped space ("\ ") belongs to the value.
    value = stripped + " " if stripped.endswith("\\") and len(stripped) < len(value) else stripped
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('""', '"').replace('\\"', '"')
    out = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        pair = value[i + 1 : i + 3]
        if len(pair) == 2 and all(c in string.hexdigits for c in pair):
            out += bytes.fromhex(pair)
            i += 3
        elif i + 1 < len(value):
            out += value[i + 1].encode("utf-8")
            i += 2
        else:
            raise fail("it ends with a lone backslash")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail("a \\XX escape is not valid UTF-8") from exc


def dn_text(name: x509.Name, *, spaces: bool = False) -> str:
    """A name written the Keyfactor way: most specific first, "CN=x,O=y" (GET) or "CN=x, O=y" (POST)."""
    rdns = []
    for rdn in reversed(name.rdns):
        rdns.append("+".join(f"{_SHORT_NAMES.get(a.oid, a.oid.dotted_string)}={_escape(a.value)}" for a in rdn))
    return (", " if spaces else ",").join(rdns)


def _escape(value: str | bytes) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    text = re.sub(r'([,+"\\<>;=])', r"\\\1", text)
    if text.startswith((" ", "#")):
        text = "\\" + text
    if text.endswith(" "):
        text = text[:-1] + "\\ "
    return text


def _norm_value(value: str | bytes) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split()).casefold()


def unordered_key(name: x509.Name) -> Counter[tuple[str, str]]:
    return Counter((a.oid.dotted_string, _norm_value(a.value)) for a in name)
