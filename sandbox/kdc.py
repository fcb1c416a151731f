"""A throwaway MIT Kerberos realm on loopback: KDC, principals, the service keytab, and a
ticket cache for the test user. Needs Debian's krb5-kdc, krb5-admin-server and krb5-user.

Everything lives under one state folder (private krb5.conf via KRB5_CONFIG), nothing in /etc.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REALM = "SANDBOX.KEYFACTOR.TEST"
USER = "svc-smoke"
KDC_BINARIES = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")


def available() -> bool:
    """MIT Kerberos is installed. KF_SANDBOX_KDC=off pretends it is not (a Windows machine, say)."""
    if os.environ.get("KF_SANDBOX_KDC", "").lower() == "off":
        return False
    return all(_which(b) for b in KDC_BINARIES)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Realm:
    """A running KDC. `environ` is what a client needs (KRB5_CONFIG, KRB5CCNAME)."""

    directory: Path
    realm: str = REALM
    port: int = 0
    user_password: str = ""
    process: subprocess.Popen[bytes] | None = None
    environ: dict[str, str] = field(default_factory=dict)

    @property
    def user_principal(self) -> str:
        return f"{USER}@{self.realm}"

    @property
    def krb5_config(self) -> Path:
        return self.directory / "krb5.conf"

    @property
    def service_keytab(self) -> Path:
        return self.directory / "http.keytab"

    @property
    def user_keytab(self) -> Path:
        return self.directory / "user.keytab"

    @property
    def ccache(self) -> Path:
        return self.directory / "ccache"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KRB5_CONFIG=str(self.krb5_config),
            KRB5_KDC_PROFILE=str(self.directory / "kdc.conf"),
            KRB5CCNAME=f"FILE:{self.ccache}",
            KRB5RCACHETYPE="none",
        )
        return env

    def _run(self, *args: str, stdin: str | None = None) -> str:
        exe = _which(args[0]) or args[0]
        done = subprocess.run(
            [exe, *args[1:]], input=stdin, capture_output=True, text=True, env=self._env(), timeout=30
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def kadmin(self, query: str) -> str:
        return self._run("kadmin.local", "-r", self.realm, "-q", query)

    def kinit(self, lifetime: str | None = None) -> None:
        """Gets a ticket for the test user into the realm's ccache."""
        args = ["kinit", "-c", f"FILE:{self.ccache}"]
        if lifetime:
            args += ["-l", lifetime]
        self._run(*args, self.user_principal, stdin=self.user_password + "\n")


def start(directory: Path, service_hosts: list[str], user_password: str, register_spn: bool = True,
          service_key: bool = True) -> Realm:
    """Creates the realm and starts `krb5kdc -n` on 127.0.0.1.

    register_spn=False leaves HTTP/<host> out of the KDC (SPN not registered);
    service_key=False keeps it in the KDC but gives the web server no key for it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    realm = Realm(directory=directory, port=free_port(), user_password=user_password)
    (directory / "krb5.conf").write_text(
        f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    forwardable = true
    ticket_lifetime = 10h
[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{realm.port}
    }}
[domain_realm]
    localhost = {REALM}
    127.0.0.1 = {REALM}
"""
    )
    (directory / "kdc.conf").write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{realm.port}
    kdc_tcp_listen = 127.0.0.1:{realm.port}
[realms]
    {REALM} = {{
        database_name = {directory}/principal
        key_stash_file = {directory}/stash
        acl_file = {directory}/kadm5.acl
        max_life = 10h
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}
[logging]
    kdc = FILE:{directory}/kdc.log
"""
    )
    (directory / "kadm5.acl").write_text("")
    master = os.urandom(16).hex()
    realm._run("kdb5_util", "-r", REALM, "create", "-s", "-P", master)
    realm.kadmin(f"addprinc -pw {user_password} {USER}")
    for host in service_hosts:
        if register_spn:
            realm.kadmin(f"addprinc -randkey HTTP/{host}")
            if service_key:
                realm.kadmin(f"ktadd -k {realm.service_keytab} HTTP/{host}")
    if not realm.service_keytab.exists():
        # The acceptor needs a keytab file to exist; an empty-ish one holds a key for nothing we serve.
        realm.kadmin(f"addprinc -randkey HTTP/unrelated.{REALM.lower()}")
        realm.kadmin(f"ktadd -k {realm.service_keytab} HTTP/unrelated.{REALM.lower()}")
    realm.kadmin(f"ktadd -k {realm.user_keytab} -norandkey {USER}")
    realm.process = subprocess.Popen(
        [_which("krb5kdc") or "krb5kdc", "-n", "-r", REALM],
        env=realm._env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(realm.port)
    realm.kinit()
    realm.environ = {"KRB5_CONFIG": str(realm.krb5_config), "KRB5CCNAME": f"FILE:{realm.ccache}"}
    return realm


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the sandbox KDC did not start listening on 127.0.0.1:{port}")


def stop(realm: Realm) -> None:
    if realm.process and realm.process.poll() is None:
        realm.process.terminate()
        try:
            realm.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            realm.process.kill()
