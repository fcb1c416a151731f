"""What the sandbox keeps from one start to the next, as a real server does: its CA, the site's TLS certificate, the
site's port and the port its CRLs are published on, in the folder `identity/` of its home. A baseline taken at one
start then compares clean with the next (the carried-over checks compare the site's certificate and the CRLs' URLs).

The folder is written beside its place and renamed into it whole, so a start never reads half of one; two starts
that make it at once take turns (a lock file) and the second uses the first's. An unusable folder (damaged,
expiring, for other host names) is moved aside and made again, and the start says so in a note.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from .pki import CertificateAuthority, PrivateKey, SandboxPKI, key_pem, pem
from .web import port_free, reserve_port

FOLDER = "identity"
CA_DAYS = 20 * 365
SITE_DAYS = 3 * 365
RENEW_DAYS = 30  # a site certificate this close to its end is replaced, like a renewal before it expires
PORTS = range(20000, 30000)  # below every OS's ephemeral range: no outgoing connection borrows the site's port
LOCK_WAIT_S = 60.0
STALE_LOCK_S = 120.0  # a lock this old belongs to a start that died while making the identity

_FILES = {"root": "root-ca.pem", "root_key": "root-ca-key.pem", "issuing": "issuing-ca.pem",
          "issuing_key": "issuing-ca-key.pem", "site": "site.pem", "site_key": "site-key.pem"}
_SITE = "site.json"


class Unusable(Exception):
    """The kept identity cannot be used: why, in a few words."""


class HomeError(Exception):
    """The home cannot hold an identity: one line naming the folder and the fix."""


@dataclass(frozen=True)
class Identity:
    pki: SandboxPKI
    site: tuple[x509.Certificate, PrivateKey]
    port: int
    revocation_port: int  # where its CRLs and OCSP responder answer: their URLs are in Revocation Monitoring


def kept(home: Path, hostnames: list[str]) -> tuple[Identity, list[str]]:
    """The identity kept in `home` (made at the first start) and notes on what had to be made again."""
    folder = home / FOLDER
    with contextlib.suppress(Unusable):  # the usual start: the folder is complete, no need to take turns
        found = _load(folder, hostnames)
        if found:
            return found, []
    try:
        home.mkdir(parents=True, exist_ok=True)
        with _turn(home):
            return _made_once(folder, hostnames)
    except OSError as exc:
        raise HomeError(f"{home}: cannot keep the sandbox's CA and site certificate there ({exc.strerror or exc}) — "
                        "check the folder's permissions and space, or give another --home") from None


def _made_once(folder: Path, hostnames: list[str]) -> tuple[Identity, list[str]]:
    for orphan in folder.parent.glob(f".{FOLDER}-*"):  # half made by a start that died: none is being made now
        shutil.rmtree(orphan, ignore_errors=True)
    notes: list[str] = []
    try:
        found = _load(folder, hostnames)  # made by another start while this one waited its turn
        if found:
            return found, notes
    except Unusable as exc:
        aside = folder.with_name(f"{FOLDER}.unusable-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}")
        folder.rename(aside)
        notes.append(f"the sandbox's kept CA and site certificate in {folder} were unusable ({exc}): new ones were "
                     f"made (the old ones are in {aside.name}) — a baseline taken before names another TLS "
                     "certificate")
    made = _make(hostnames)
    _publish(made, folder)
    return made, notes


def _make(hostnames: list[str]) -> Identity:
    pki = SandboxPKI.create(valid_days=CA_DAYS)
    site_port = _choose_port()
    return Identity(pki, pki.server_certificate(hostnames, valid_days=SITE_DAYS), site_port,
                    _choose_port(but=site_port))


def _choose_port(but: int = 0) -> int:
    for port in random.sample(PORTS, 50):
        if port != but and port_free(port):
            return port
    return reserve_port()


def _publish(identity: Identity, folder: Path) -> None:
    building = folder.with_name(f".{FOLDER}-{os.getpid()}-{secrets.token_hex(4)}")
    building.mkdir(mode=0o700)
    parts = {"root": identity.pki.root.cert, "issuing": identity.pki.issuing.cert, "site": identity.site[0]}
    keys = {"root_key": identity.pki.root.key, "issuing_key": identity.pki.issuing.key, "site_key": identity.site[1]}
    for name, cert in parts.items():
        (building / _FILES[name]).write_bytes(pem(cert))
    for name, key in keys.items():
        path = building / _FILES[name]
        path.write_bytes(key_pem(key))
        path.chmod(0o600)
    (building / _SITE).write_text(json.dumps({"port": identity.port, "revocation_port": identity.revocation_port})
                                  + "\n")
    building.rename(folder)


def _load(folder: Path, hostnames: list[str]) -> Identity | None:
    """The identity in `folder`; None when there is none yet."""
    if not folder.exists():
        return None
    certs: dict[str, x509.Certificate] = {}
    keys: dict[str, PrivateKey] = {}
    for name, file in _FILES.items():
        try:
            data = (folder / file).read_bytes()
        except OSError as exc:
            raise Unusable(f"{file}: {exc.strerror or exc}") from None
        try:
            if name.endswith("_key"):
                key = serialization.load_pem_private_key(data, password=None)
                if not isinstance(key, PrivateKey):
                    raise TypeError(type(key).__name__)
                keys[name] = key
            else:
                certs[name] = x509.load_pem_x509_certificate(data)
        except (ValueError, TypeError):
            raise Unusable(f"{file} is damaged") from None
    try:
        site = json.loads((folder / _SITE).read_text())
        port, revocation_port = int(site["port"]), int(site["revocation_port"])
    except (OSError, ValueError, KeyError, TypeError):
        raise Unusable(f"{_SITE} is missing or damaged") from None
    if not {port, revocation_port} <= set(range(1, 65536)):
        raise Unusable(f"{_SITE}: {port} or {revocation_port} is not a port")
    root = CertificateAuthority(certs["root"], keys["root_key"])
    issuing = CertificateAuthority(certs["issuing"], keys["issuing_key"])
    _check_chain(root, issuing, (certs["site"], keys["site_key"]), hostnames)
    return Identity(SandboxPKI(root, issuing), (certs["site"], keys["site_key"]), port, revocation_port)


def _check_chain(root: CertificateAuthority, issuing: CertificateAuthority,
                 site: tuple[x509.Certificate, PrivateKey], hostnames: list[str]) -> None:
    for label, cert, key in (("root CA", root.cert, root.key), ("issuing CA", issuing.cert, issuing.key),
                             ("site certificate", *site)):
        if _public(cert.public_key()) != _public(key.public_key()):
            raise Unusable(f"the {label}'s key does not match it")
    try:
        issuing.cert.verify_directly_issued_by(root.cert)
        site[0].verify_directly_issued_by(issuing.cert)
    except Exception:  # InvalidSignature, ValueError, TypeError: any of them means a broken chain
        raise Unusable("the chain root → issuing CA → site certificate is broken") from None
    now = dt.datetime.now(dt.UTC)
    for label, cert in (("root CA", root.cert), ("issuing CA", issuing.cert), ("site certificate", site[0])):
        if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc - dt.timedelta(days=RENEW_DAYS):
            raise Unusable(f"the {label} is valid {cert.not_valid_before_utc:%Y-%m-%d} to "
                           f"{cert.not_valid_after_utc:%Y-%m-%d}")
    names = site[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    present = {str(n.value) for n in names}
    if not set(hostnames) <= present:
        raise Unusable(f"the site certificate names {sorted(present)}, not {hostnames}")


def _public(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@contextlib.contextmanager
def _turn(home: Path) -> Iterator[None]:
    """One start at a time makes the identity (a lock file, created exclusively: works on every OS)."""
    lock = home / f".{FOLDER}.lock"
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - lock.stat().st_mtime > STALE_LOCK_S:
                    lock.unlink()
                    continue
            if time.monotonic() > deadline:
                raise HomeError(f"{lock}: another sandbox start has been making its CA and site certificate for "
                                f"{LOCK_WAIT_S:g} s — remove the file if no sandbox is starting") from None
            time.sleep(0.05)
    try:
        yield
    finally:
        os.close(handle)
        lock.unlink(missing_ok=True)
