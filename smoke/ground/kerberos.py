"""Kerberos pre-flight: is there a usable ticket, and can the KDC give one for the server's SPN?

requests-kerberos alone turns every one of these problems into a silent 401; this module turns them
into one line that tells the user what to run. On Windows, SSPI uses the logon session and the
MIT-specific pre-check is skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from smoke.ground.errors import KerberosError
from smoke.ground.prerequisites import Prerequisite


@dataclass(frozen=True)
class TicketStatus:
    principal: str
    seconds_left: int | None
    source: str  # "credential cache FILE:/tmp/krb5cc_0", "keytab ...", "Windows logon session (SSPI)"


def configure(ccache: str | None, krb5_config: Path | None) -> None:
    """Points MIT Kerberos at the environment's ticket cache and krb5.conf, when the file names them."""
    if krb5_config:
        os.environ["KRB5_CONFIG"] = str(krb5_config)
    if ccache:
        os.environ["KRB5CCNAME"] = ccache


def _gssapi():  # type: ignore[no-untyped-def]
    try:
        import gssapi  # type: ignore[import-not-found]
    except ImportError:
        return None
    return gssapi


def acquire_from_keytab(principal: str, keytab: Path) -> None:
    """kinit -kt, in memory: tickets for `principal` from `keytab` into a per-process cache."""
    gssapi = _gssapi()
    if gssapi is None:
        raise KerberosError("Kerberos: [auth] keytab needs MIT Kerberos bindings (pip install 'pyspnego[kerberos]'); "
                            "on Windows remove keytab and log on as the service account instead")
    if not keytab.is_file():
        raise KerberosError(f"Kerberos: keytab {keytab} does not exist — create it with ktutil or ktpass, or fix "
                            "[auth] keytab")
    cache = f"MEMORY:kf-smoke-{os.getpid()}"
    name = gssapi.Name(principal, gssapi.NameType.user)
    try:
        creds = gssapi.Credentials(name=name, usage="initiate",
                                   store={b"client_keytab": str(keytab).encode(), b"ccache": cache.encode()})
        # Acquiring from a client keytab is lazy; asking for a service ticket makes it real.
        creds.inquire()
        gssapi.raw.store_cred_into({b"ccache": cache.encode()}, creds, usage="initiate", overwrite=True)
    except gssapi.exceptions.GSSError as exc:
        raise KerberosError(f"Kerberos: could not get a ticket for {principal} from keytab {keytab}: "
                            f"{_gss_text(exc)} — check the principal's spelling and the keytab's key version") from None
    os.environ["KRB5CCNAME"] = cache


def preflight(auth: Any, server_url: str) -> Callable[[], None]:
    """What the API client and the browser run before their first request to `server_url` with the [auth] section:
    point MIT Kerberos at the environment's cache and krb5.conf now; later, take a ticket from the keytab (once per
    process) and check that it gets a service ticket for the server's SPN."""
    configure(auth.ccache, auth.krb5_config)
    host = auth.spn or urlsplit(server_url).hostname or ""

    def run() -> None:
        if auth.keytab and os.environ.get("KRB5CCNAME") != f"MEMORY:kf-smoke-{os.getpid()}":
            acquire_from_keytab(auth.principal, auth.keytab)
        precheck(host, auth.principal)

    return run


_tickets: dict[tuple[str | None, str], Prerequisite] = {}


def precheck(spn_host: str, principal_hint: str | None = None) -> TicketStatus:
    """Once a ticket problem is found, every later pre-check in the run (API, browser) is skipped naming it."""
    ticket = _tickets.setdefault((os.environ.get("KRB5CCNAME"), spn_host), Prerequisite("Kerberos"))
    with ticket.attempt():
        return _precheck(spn_host, principal_hint)


def _precheck(spn_host: str, principal_hint: str | None) -> TicketStatus:
    gssapi = _gssapi()
    if gssapi is None:
        if sys.platform == "win32":
            return TicketStatus(os.environ.get("USERNAME", "current user"), None, "Windows logon session (SSPI)")
        raise KerberosError("Kerberos: MIT Kerberos bindings are missing — pip install 'pyspnego[kerberos]' "
                            "(needs libkrb5-dev and gcc), or set [auth] method = \"basic\"")
    cache = f"the credential cache {os.environ['KRB5CCNAME']}" if os.environ.get("KRB5CCNAME") else \
        "the default credential cache"
    who = principal_hint or "<user>@<REALM>"
    try:
        creds = gssapi.Credentials(usage="initiate")
        lifetime = creds.lifetime
        principal = str(creds.name)
    except gssapi.exceptions.ExpiredCredentialsError:
        raise KerberosError(f"Kerberos: the ticket in {cache} has expired — run kinit {who} again "
                            "or set [auth] keytab") from None
    except gssapi.exceptions.GSSError:
        raise KerberosError(f"Kerberos: no ticket in {cache} — run kinit {who} "
                            "or set [auth] keytab") from None
    if lifetime is not None and lifetime <= 0:
        raise KerberosError(f"Kerberos: the ticket for {principal} has expired — run kinit {principal} again "
                            "or set [auth] keytab")
    target = gssapi.Name(f"HTTP@{spn_host}", gssapi.NameType.hostbased_service)
    try:
        gssapi.SecurityContext(name=target, creds=creds, usage="initiate").step()
    except gssapi.exceptions.ExpiredCredentialsError:
        raise KerberosError(f"Kerberos: the ticket for {principal} has expired — run kinit {principal} again "
                            "or set [auth] keytab") from None
    except gssapi.exceptions.GSSError as exc:
        text = _gss_text(exc)
        if "not found in Kerberos database" in text or "Server not found" in text:
            raise KerberosError(f"Kerberos: the KDC has no service principal HTTP/{spn_host} — register the SPN on "
                                f"the IIS app-pool account (setspn -S HTTP/{spn_host} DOMAIN\\apppool-account) "
                                "or set [auth] spn to the name it is registered under") from None
        if "Cannot contact any KDC" in text or "Cannot find KDC" in text:
            raise KerberosError(f"Kerberos: no KDC answers for {principal} ({text}) — check krb5.conf (KRB5_CONFIG) "
                                "and that the domain controllers are reachable on port 88") from None
        raise KerberosError(f"Kerberos: cannot get a service ticket for HTTP/{spn_host}: {text} — "
                            f"check the SPN and run kinit {principal} again") from None
    return TicketStatus(principal, lifetime, f"credential cache {cache}")


def _gss_text(exc: Exception) -> str:
    """GSSAPI's useful words are in the minor status: "Major (…): …, Minor (…): <this>"."""
    text = " ".join(str(exc).split())
    _, found, minor = text.rpartition("Minor (")
    if found:
        text = minor.partition("): ")[2] or text
    return text[:240]
