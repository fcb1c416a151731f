"""Several web servers behind the sandbox's one name, as a load-balanced Keyfactor Command site (`--nodes N`).

Node 1 is the sandbox's own server on 127.0.0.1, where the name leads (a load balancer that happens to pick it);
nodes 2 … N listen on 127.0.0.2 … 127.0.0.N (all loopback on Linux) on the same port, with the same routes, the
same CA and the same Kerberos service key (HTTP/<name>), as the servers of one site share them. The node faults
each change one node, 2 … N, so that the load-balanced name itself stays healthy:

- node-not-upgraded=N: its GET /License reports the previous version;
- node-down=N: nothing listens on its address (connection refused);
- node-ntlm-only=N: its KeyfactorAPI application offers only NTLM (the Negotiate provider was removed);
- node-certificate=N: its https binding presents another certificate from the same CA.

Every node also answers the load balancer's probe, `/lb-probe.htm`, without credentials (an IIS static file).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .api import STALE_VERSION
from .faults import ActiveFaults
from .handover import Handover
from .pki import SandboxPKI
from .web import (
    Authenticator,
    Request,
    Response,
    Route,
    Router,
    SandboxHTTPServer,
    html_response,
    serve,
    tls_context,
)

MAX_NODES = 16
PROBE = "/lb-probe.htm"
NODE_FAULTS = ("node-not-upgraded", "node-down", "node-ntlm-only", "node-certificate")
API = "/KeyfactorAPI"


def address(number: int) -> str:
    return f"127.0.0.{number}"


def problem(faults: ActiveFaults, count: int) -> str | None:
    """One line when --nodes or a node fault's number does not fit, else None."""
    if not 1 <= count <= MAX_NODES:
        return f"--nodes {count}: from 1 to {MAX_NODES} web servers (127.0.0.1 … 127.0.0.{MAX_NODES})"
    for name in NODE_FAULTS:
        number = faults.node(name)
        if number is not None and number not in range(2, count + 1):
            upto = f"from 2 to {count}" if count > 1 else "2 or more, with --nodes 2 or more"
            return (f"sandbox fault {name}={number}: give a node number {upto} (node 1, 127.0.0.1, is where the "
                    "site's name leads)")
    return None


def faulty(faults: ActiveFaults, name: str) -> int | None:
    """The node number a node fault names, if it is on."""
    return faults.node(name)


def environment_lines(count: int) -> list[str]:
    """The run's environment file's [command] lines: the nodes and the load balancer's probe."""
    if count <= 1:
        return []
    return [f"nodes = {json.dumps([address(n) for n in range(1, count + 1)])}", f'health_path = "{PROBE}"']


def start(count: int, port: int, router: Router, auth: Authenticator, tls_files: tuple[Path, Path], pki: SandboxPKI,
          hostnames: list[str], state_dir: Path, faults: ActiveFaults) -> Handover:
    """Nodes 2 … count, beside node 1 (the sandbox's own server, already listening); the probe on all of them."""
    router.add("GET", PROBE, _probe, authenticated=False)
    servers = []
    for number in range(2, count + 1):
        if faulty(faults, "node-down") == number:
            continue
        chain, key = tls_files
        if faulty(faults, "node-certificate") == number:
            folder = state_dir / f"node{number}"
            folder.mkdir(exist_ok=True)
            chain, key, _ = pki.write_server_files(folder, hostnames)
        own = NodeRouter(router, stale=faulty(faults, "node-not-upgraded") == number)
        signs_in = _ntlm_only_api(auth) if faulty(faults, "node-ntlm-only") == number else auth
        server = SandboxHTTPServer((address(number), port), own, signs_in, tls_context(str(chain), str(key)))
        serve(server)
        servers.append(server)

    def stop() -> None:
        for server in servers:
            server.shutdown()
            server.server_close()

    named = ", ".join(f"{name}={faults.node(name)}" for name in NODE_FAULTS if faults.on(name))
    note = f"{count} nodes behind the site's name on {address(1)} … {address(count)}" + (f" ({named})" if named else "")
    return Handover(notes=[note], stop=stop)


class NodeRouter(Router):
    """One node's view of the site: the same routes; on a node left behind, its licence reports the old version."""

    def __init__(self, site: Router, stale: bool) -> None:
        super().__init__()
        self.routes = site.routes
        self.front = site.front
        self.stale = stale

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None | str:
        found = super().match(method, path)
        if self.stale and isinstance(found, tuple) and path.rstrip("/").lower() == f"{API}/license".lower():
            route, params = found
            return replace(route, handler=_previous_version(route.handler)), params
        return found


def _previous_version(handler: Callable[..., Response]) -> Callable[..., Response]:
    def answer(request: Request, **params: str) -> Response:
        response = handler(request, **params)
        if response.status != 200:
            return response
        licence = json.loads(response.body)
        licence["KeyfactorVersion"] = STALE_VERSION
        for product in licence.get("LicenseData", {}).get("LicensedProducts", []):
            product["MajorRev"], product["MinorRev"] = STALE_VERSION.split(".")[:2]
        response.body = json.dumps(licence).encode()
        return response

    return answer


def _ntlm_only_api(site: Authenticator) -> Authenticator:
    """The site's sign-in, but the API application offers NTLM alone (which the sandbox cannot complete): a Kerberos
    ticket is refused there, as IIS refuses a provider it does not have."""
    return Authenticator(site.kerberos, site.basic_users, site.negotiate_host, {**site.applications, API: ("NTLM",)})


def _probe(request: Request) -> Response:
    return html_response(200, "<html><body>OK</body></html>")
