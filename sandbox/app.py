"""Assembles the sandbox: PKI, Kerberos realm, HTTPS server with its parts, and the environment
file that points the suite at it."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import (
    configuration_api,
    database,
    enrollment,
    identity,
    iis,
    inventory,
    kdc,
    logs,
    nodes,
    operations,
    portal,
    run_environment,
    site_files,
    tickets,
)
from .api import HEALTHY_VERSION, KeyfactorApi
from .configuration import Configuration
from .configuration.stores import inventory_jobs
from .enrollment import EnrollmentService
from .faults import ActiveFaults
from .handover import Handover
from .inventory import Inventory
from .tickets import Tickets
from .web import Authenticator, Router, SandboxHTTPServer, port_free, reserve_port, serve, tls_context

HOST = "localhost"  # the SPN is HTTP/localhost; the server binds 127.0.0.1
SITE_NAMES = [HOST, "127.0.0.1"]
DOMAIN = "SANDBOX"
PASSWORD_ENV = "KF_SANDBOX_PASSWORD"


@dataclass
class Sandbox:
    state_dir: Path
    faults: ActiveFaults
    kerberos: bool = True
    port: int = 0
    uo_platform: int = inventory.UNIVERSAL  # the AgentPlatform a Universal Orchestrator is reported as: 7 or 1
    total_count: str = "sent"  # X-Total-Count: sent, absent, or one too high or too low (api.TOTAL_COUNT_MODES)
    nodes: int = 1  # web servers behind the one name (sandbox/nodes.py)
    # The environment file whose sections the run's environment file carries (run_environment.py); None: only
    # what exists at run time.
    environment: Path | None = None
    portal_layout: str = "default"  # where the portal puts its pages (sandbox/portal_layouts.py)
    # What the server keeps from one start to the next (its CA, site certificate and port, its files on disk);
    # None: a home for this start only, inside state_dir.
    home: Path | None = None
    version: str = HEALTHY_VERSION
    notes: list[str] = field(default_factory=list)
    realm: kdc.Realm | None = None
    server: SandboxHTTPServer | None = None
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    # What the started parts handed over (see Handover): lines for the run's environment file (never a secret),
    # variables for the suite's process (secrets go here: the handshake file is private), and how to stop them.
    extra_toml: list[str] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    # Self-tests read what the sandbox received (the API shows the rest); set by start().
    api: KeyfactorApi = field(init=False, repr=False)
    enrollment: EnrollmentService = field(init=False, repr=False)
    inventory: Inventory = field(init=False, repr=False)
    tickets: Tickets = field(init=False, repr=False)
    configuration: Configuration = field(init=False, repr=False)
    operations: operations.Operations = field(init=False, repr=False)
    starting: threading.Timer | None = None  # slow-start: the server that is not listening yet
    port_kept: bool = field(default=True, init=False)  # the port is the home's, not one asked for with --port
    serving_since: float | None = None

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.home = home = self.home or self.state_dir / "home"
        kept, notes = identity.kept(home, SITE_NAMES)
        self.notes += notes
        self.pki = kept.pki
        site = kept.site
        if self.faults.on("tls-certificate-replaced"):
            site = self.pki.server_certificate(SITE_NAMES, valid_days=identity.SITE_DAYS)
        self.chain, self.key, self.ca_bundle = self.pki.write_server_files(self.state_dir, SITE_NAMES, site)
        if self.kerberos and not kdc.available():
            self.kerberos = False
            self.notes.append("Kerberos: MIT KDC binaries not found (krb5-kdc, krb5-admin-server, krb5-user); "
                              "the sandbox serves Basic authentication only")
        if self.kerberos:
            self.realm = kdc.start(
                self.state_dir / "kerberos", [HOST], self.password,
                service_key=not self.faults.on("spn-missing"),
            )
            os.environ["KRB5_KTNAME"] = f"FILE:{self.realm.service_keytab}"
            os.environ["KRB5_CONFIG"] = str(self.realm.krb5_config)
            os.environ["KRB5RCACHETYPE"] = "none"
        self.port_kept = not self.port
        self.port = self.port or self._kept_port(kept.port)
        router = Router()
        self.api = api = KeyfactorApi(router, self.faults, total_count=self.total_count, version=self.version)
        api.mount()
        # --- parts mounted on the API and the site, and the services beside it (one line each) ---
        self.enrollment = enrollment.mount(api, self.pki)
        self.inventory = inventory.mount(api, self.pki, self.uo_platform)
        self.configuration = configuration_api.mount(api, self.inventory)
        self.operations = operations.mount(api, self.pki, self.inventory, self.enrollment, self.state_dir,
                                           inventory_jobs(self.configuration.stores), kept.revocation_port)
        self._take(self.operations.handover)
        self._take(logs.start(self.state_dir, self.faults))
        self._take(site_files.start(home, self.faults))
        self._take(database.start(self.state_dir, self.faults,
                                  chain=self.chain, key=self.key, ca_bundle=self.ca_bundle))
        self.tickets = tickets.start(self.state_dir, self.faults, chain=self.chain, key=self.key,
                                     ca_bundle=self.ca_bundle)
        self._take(self.tickets.handover)
        portal.mount(api, self.portal_layout)
        if self.portal_layout != "default":
            self.notes.append(f"portal layout: {self.portal_layout}")
        iis.mount(router)
        auth = Authenticator(self.kerberos, {f"{DOMAIN}\\{kdc.USER}": self.password}, HOST,
                             iis.sign_in_methods(self.faults))
        if self.faults.on("slow-start"):
            self._slow_start(lambda: self._listen(router, auth))
        elif not self.faults.on("api-down"):
            self._listen(router, auth)

    def _take(self, handover: Handover) -> None:
        self.extra_toml += handover.toml
        self.environ.update(handover.environ)
        self.notes += handover.notes
        if handover.stop:
            self.on_stop.append(handover.stop)

    def _kept_port(self, port: int) -> int:
        """The site's port of the previous starts, as a real site keeps its binding. Another sandbox of the same home
        may be serving on it; this start then takes another and says so."""
        if port_free(port):
            return port
        taken, port = port, reserve_port()
        self.notes.append(f"the site's port {taken} is in use (another sandbox of {self.home}?): this start serves "
                          f"on {port}")
        return port

    def _listen(self, router: Router, auth: Authenticator) -> None:
        tls = tls_context(str(self.chain), str(self.key))
        try:
            self.server = SandboxHTTPServer(("127.0.0.1", self.port), router, auth, tls)
        except OSError:
            if self.starting or not self.port_kept:  # slow-start: the URL is out already; --port: as asked
                raise
            self.port = self._kept_port(self.port)  # taken since the start began: a sandbox of the same home
            self.server = SandboxHTTPServer(("127.0.0.1", self.port), router, auth, tls)
        serve(self.server)
        self.serving_since = time.time()
        if self.nodes > 1:
            self._take(nodes.start(self.nodes, self.port, router, auth, (self.chain, self.key), self.pki,
                                   SITE_NAMES, self.state_dir, self.faults))

    def stop(self) -> None:
        for stop in reversed(self.on_stop):
            stop()
        if self.starting:
            self.starting.cancel()
            self.starting.join()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        if self.realm:
            kdc.stop(self.realm)

    # --- slow-start (issue 7) ---
    def _slow_start(self, listen: Callable[[], None]) -> None:
        """A reboot: nothing listens on the port (connection refused) for a while, then the site is healthy."""
        seconds = self.faults.seconds("slow-start") or 0.0
        self.notes.append(f"slow-start: the site refuses connections for {seconds:g} s, then comes up healthy")
        self.starting = threading.Timer(seconds, listen)
        self.starting.daemon = True
        self.starting.start()

    def environment_toml(self) -> str:
        """An environment file for this run: what only exists at run time, over the sections of `environment`.
        Holds no secret."""
        lines = [
            "# Written by the Keyfactor Command sandbox for one run; it holds no secret.",
            f"# Faults: {', '.join(self.faults.names()) or 'none'}",
            "[command]",
            f'url = "{self.url}"',
            f"ca_bundle = {json.dumps(str(self.ca_bundle))}",
            *nodes.environment_lines(self.nodes),
            "",
            "[auth]",
            f'method = "{"kerberos" if self.kerberos else "basic"}"',
            f'username = "{DOMAIN}\\\\{kdc.USER}"',
            f'password_env = "{PASSWORD_ENV}"',
        ]
        if self.realm:
            lines += [
                f'principal = "{self.realm.user_principal}"',
                f"ccache = {json.dumps(self.realm.environ['KRB5CCNAME'])}",
                f"krb5_config = {json.dumps(str(self.realm.krb5_config))}",
            ]
        if self.extra_toml:
            lines += ["", *self.extra_toml]
        return run_environment.complete("\n".join(lines) + "\n", self.environment)

    def write_ready(self, ready_file: Path) -> dict[str, object]:
        env_file = self.state_dir / "sandbox-run.toml"
        env_file.write_text(self.environment_toml())
        ready = {
            "url": self.url,
            "env_file": str(env_file),
            "kerberos": self.kerberos,
            "faults": self.faults.names(),
            "version": self.version,
            "notes": self.notes,
            "environ": {PASSWORD_ENV: self.password, **self.environ},
            "pid": os.getpid(),
            "started": time.time(),
        }
        tmp = ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ready))
        os.chmod(tmp, 0o600)
        tmp.replace(ready_file)
        return ready
