"""TLS as the suite does it everywhere: the OS trust store (where internal CAs live) unless a PEM bundle is
configured, verification never off. And why TLS failed, as one line with its real cause: the server's certificate
expired or is not yet valid (with its dates), is for other names (with the names it covers), comes from an issuer we
do not trust (then, and only then, [command] ca_bundle is the fix), or the local ca_bundle is no PEM file of
certificates (then the file is named).

To name dates and names, the server's certificate is read with a second handshake that verifies nothing. That
connection only reads the certificate for the message and is closed at once: nothing is ever sent over it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter

# OpenSSL's verify codes (X509_V_ERR_*) by cause.
_DATE_CODES = {9, 10}  # not yet valid, expired
_NAME_CODES = {62}  # hostname mismatch
_ISSUER_CODES = {2, 18, 19, 20, 21}  # issuer unknown, self-signed, self-signed in chain, no local issuer, no leaf sig
_FIX_BUNDLE = "point it at the PEM (Base-64) file of the root CA that issued the server's certificate"


def bundle_problem(bundle: str | Path) -> str | None:
    """Why `bundle` cannot serve as the CAs to trust (one line naming the file), or None when it can."""
    path = Path(bundle)
    why: str | None
    try:
        why = _pem_problem(path.read_bytes(), path)
    except IsADirectoryError:
        why = "is a directory, not a PEM file"
    except OSError as exc:
        why = f"cannot be read ({exc.strerror or exc})"
    return f"TLS: [command] ca_bundle {path} {why} — {_FIX_BUNDLE}" if why else None


def _pem_problem(data: bytes, path: Path) -> str | None:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        try:
            x509.load_der_x509_certificate(data)
        except ValueError:
            return "holds no PEM certificate (no -----BEGIN CERTIFICATE----- block)"
        return (f"is a binary (DER) certificate, not PEM (convert it: openssl x509 -inform der -in {path.name} "
                "-out ca.pem)")
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError:
        return "holds a certificate block that is not a valid certificate (cut short or edited?)"
    return None


def verify_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error somewhere in an exception's chain (requests wraps it three deep)."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
    return None


def kind_of(verify: ssl.SSLCertVerificationError | None, text: str) -> str:
    """"dates", "name", "issuer" or "other", from OpenSSL's verify code or a Chromium net::ERR_CERT_* name."""
    code = getattr(verify, "verify_code", None)
    lowered = f"{getattr(verify, 'verify_message', '') or ''} {text}".lower()
    if code in _DATE_CODES or "expired" in lowered or "not yet valid" in lowered or "date_invalid" in lowered:
        return "dates"
    if code in _NAME_CODES or "hostname mismatch" in lowered or "common_name_invalid" in lowered:
        return "name"
    if code in _ISSUER_CODES or "authority_invalid" in lowered or "issuer" in lowered or "self-signed" in lowered \
            or "self signed" in lowered:
        return "issuer"
    return "other"


def peer_certificate(host: str, port: int, timeout_s: float, address: str | None = None) -> x509.Certificate | None:
    """The server's certificate, read without verifying it (only ever to name what is wrong with it); `address`:
    one node behind the load balancer, asked under `host`'s name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((address or host, port), timeout=timeout_s) as raw, \
                context.wrap_socket(raw, server_hostname=host) as connection:
            der = connection.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der) if der else None
    except (OSError, ValueError):
        return None


def diagnose(url: str, kind: str, detail: str, ca_bundle: str | Path | None, timeout_s: float,
             address: str | None = None) -> str:
    """One line for a handshake with `url` (at `address`, one node) that failed verification (`kind` from kind_of,
    `detail` as reported)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    where = f"{host}:{port}" + (f" at {address}" if address else "")
    return describe(where, host, peer_certificate(host, port, min(timeout_s, 10), address), kind, detail, ca_bundle)


def describe(where: str, host: str, cert: x509.Certificate | None, kind: str, detail: str,
             ca_bundle: str | Path | None, now: dt.datetime | None = None) -> str:
    """The cause, by what the certificate shows first (its dates and names are facts), then by what was reported."""
    now = now or dt.datetime.now(dt.UTC)
    if cert is not None:
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        valid = f"valid {_when(start)} to {_when(end)}"
        if now > end:
            return (f"TLS: the certificate of {where} expired on {_when(end)} ({valid}) — renew it and bind the new "
                    "one to the IIS https site")
        if now < start:
            return (f"TLS: the certificate of {where} is not valid before {_when(start)} ({valid}) — check the clocks "
                    "of this machine and of the server, or bind a certificate that is valid now")
        names = covered_names(cert)
        if not covers(names, host):
            shown = ", ".join(names) if names else f"no name (CN {_common_name(cert)!r} only, no subjectAltName)"
            return (f"TLS: the certificate of {where} is for {shown}, not for {host} — use one of those names in "
                    f"[command] url, or reissue the certificate with {host} among its subject alternative names")
    if kind == "dates":
        return (f"TLS: a certificate in the chain of {where} is expired or not yet valid ({detail}) — renew the CA "
                "certificate the IIS binding sends, or check the clocks of this machine and of the server")
    if kind == "name":
        return (f"TLS: the certificate of {where} does not cover the name {host} ({detail}) — use the name it was "
                "issued for in [command] url")
    if kind == "issuer":
        issuer = cert.issuer.rfc4514_string() if cert is not None else "an unknown issuer"
        if ca_bundle:
            return (f"TLS: the certificate of {where} (issued by {issuer}) is not trusted by [command] ca_bundle "
                    f"{ca_bundle} ({detail}) — put the root CA of that issuer into that file")
        return (f"TLS: the certificate of {where} (issued by {issuer}) is not trusted ({detail}) — set [command] "
                "ca_bundle to the PEM file of your internal root CA (verification is never switched off)")
    return f"TLS: the certificate of {where} was refused ({detail}) — check the certificate of the IIS https binding"


def covered_names(cert: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses of the certificate's subjectAltName (what clients match, not the CN)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [*sans.get_values_for_type(x509.DNSName), *(str(ip) for ip in sans.get_values_for_type(x509.IPAddress))]


def covers(names: list[str], host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for name in names:
        if address is not None:
            if name == str(address):
                return True
            continue
        pattern, wanted = name.lower().rstrip("."), host.lower().rstrip(".")
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _common_name(cert: x509.Certificate) -> str:
    found = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else ""


def _when(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


class TruststoreAdapter(HTTPAdapter):
    """The OS trust store (Windows certificate store, macOS keychain, /etc/ssl) for https when no ca_bundle is set."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        import truststore

        kwargs["ssl_context"] = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        super().init_poolmanager(*args, **kwargs)
