"""Every web server behind the load balancer ([command] nodes), each reached directly under the site's name: what
each one answers, asked side by side, and which of them differ from the rest. A node that gives no answer at all
is named once, by the first check that meets it; later checks leave it out (and say so in their evidence) while
the other nodes are still checked. Knows nothing of pytest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from smoke.ground import evidence
from smoke.ground.errors import ApiUnreachable, Blocked, SmokeError
from smoke.keyfactor import site
from smoke.keyfactor.client import KeyfactorClient, connect
from smoke.keyfactor.formats import version_matches
from smoke.keyfactor.nodes import labels

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

DOWN_FIX = ("check that IIS runs on that node and that this machine reaches it (firewall): the load balancer may "
            "have taken it out of the pool")
VERSION_FIX = ("finish the upgrade on the node left behind (the installer and the configuration wizard on that "
               "server), then iisreset")
SIGN_IN_FIX = ("give that node's IIS application the same Windows Authentication providers as the others (IIS "
               "Manager > the application > Authentication > Windows Authentication > Providers)")
CERTIFICATE_FIX = ("bind the site's certificate to https on that node (IIS Manager > the site > Bindings), or set "
                   "[command] node_certificates = \"own\" where each node has its own by design")
HEALTH_FIX = ("the load balancer takes a node whose probe fails out of the pool: check that node's site and "
              "application pools, and that [command] health_path is the probe's URL")


@dataclass(eq=False)
class Node:
    given: str  # as [command] nodes lists it: an address or the server's own name
    label: str  # how messages name it: "kf02 (10.20.0.12)"
    down: str | None = None  # why it gave no answer, once a check met that
    version: str | None = None
    failed: list[str] = field(default_factory=list)  # the checks it failed, for the summary
    checked: bool = False

    def verdict(self) -> str:
        version = self.version or "version not read"
        if self.down:
            return f"{self.label}: does not answer"
        if self.failed:
            return f"{self.label}: {version}, failed ({', '.join(self.failed)})"
        return f"{self.label}: {version}, {'passed' if self.checked else 'not checked'}"


@dataclass
class Answer(Generic[T]):
    """What one node gave one check: a value, or the one-line error it met."""

    node: Node
    value: T | None = None
    error: SmokeError | None = None


@dataclass
class Finding:
    """One check over every node: the nodes that fail it, each in one line, and what to do about it."""

    check: str  # its short name in the summary: "version", "sign-in", …
    total: int
    problems: dict[Node, list[str]] = field(default_factory=dict)
    fixes: list[str] = field(default_factory=list)
    left_out: list[Node] = field(default_factory=list)  # gave no answer to an earlier check
    table: dict[str, Any] = field(default_factory=dict)  # per node, for the evidence

    def fail(self, node: Node, line: str, fix: str) -> None:
        self.problems.setdefault(node, []).append(line)
        if fix and fix not in self.fixes:
            self.fixes.append(fix)

    def said(self, node: Node, line: str) -> None:
        """A one-line "<cause> — <fix>" as the node's failure."""
        cause, _, fix = line.partition(" — ")
        self.fail(node, f"{node.label}: {cause}", fix)

    def met(self, answer: Answer[Any]) -> None:
        """An error as the node's failure: no answer at all, or the error's own cause and fix."""
        assert answer.error is not None
        if isinstance(answer.error, ApiUnreachable):
            cause = str(answer.error).partition(" — ")[0]
            self.fail(answer.node, f"{answer.node.label} does not answer ({cause})", DOWN_FIX)
        else:
            self.said(answer.node, str(answer.error))

    def message(self) -> str | None:
        """None when every node checked passes; else one line naming each node that fails."""
        if not self.problems:
            return None
        lines = "; ".join(line for found in self.problems.values() for line in found)
        return f"{len(self.problems)} of {self.total} nodes fail: {lines} — {'; '.join(self.fixes)}"

    def left_out_text(self) -> str:
        return "; ".join(f"{node.label} left out: it gave no answer earlier ({node.down})" for node in self.left_out)


class Fleet:
    """The nodes of one environment, and what each of them has shown so far in this run."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        command = settings.command
        self.site = urlsplit(command.url).hostname or ""
        named = labels(command.nodes, self.site, min(command.timeout_s, 2.0))
        self.nodes = [Node(given, named[given]) for given in command.nodes]
        self.verify: str | bool = str(command.ca_bundle) if command.ca_bundle else True
        self.timeout_s = command.timeout_s
        self.clients: dict[Node, KeyfactorClient] = {}
        self.note()

    # --- running a check on every node ---------------------------------------------------------------
    def each(self, check: str, work: Callable[[Node], T]) -> tuple[Finding, list[Answer[T]]]:
        """`work` on every node that has answered so far, side by side (one thread per node)."""
        def side_by_side(nodes: list[Node]) -> list[Answer[T]]:
            with ThreadPoolExecutor(max_workers=len(nodes), thread_name_prefix="node") as pool:
                futures = [(node, pool.submit(work, node)) for node in nodes]
                return [_answer(node, future.result) for node, future in futures]

        return self.together(check, side_by_side)

    def together(self, check: str, work: Callable[[list[Node]], list[Answer[T]]]) -> tuple[Finding, list[Answer[T]]]:
        """`work` on all the nodes that have answered so far at once (it answers for each). A node that gives no
        answer at all is marked so: the later checks leave it out."""
        finding = Finding(check, len(self.nodes), left_out=[node for node in self.nodes if node.down])
        up = [node for node in self.nodes if not node.down]
        if not up:
            raise Blocked(f"not run: every node failed earlier in this run — {self.nodes[0].down}")
        answers = work(up)
        for answer in answers:
            answer.node.checked = True
            if isinstance(answer.error, ApiUnreachable):
                answer.node.down = str(answer.error).split(" — ")[0]
        return finding, answers

    def record(self, finding: Finding) -> None:
        """The check's outcome per node, into the summary's line of nodes."""
        for node in finding.problems:
            if finding.check not in node.failed and not node.down:
                node.failed.append(finding.check)
        self.note()

    def note(self) -> None:
        evidence.note_fact("Nodes", "; ".join(node.verdict() for node in self.nodes))

    # --- the checks -------------------------------------------------------------------------------------
    def versions(self, expected: str | None, kerberos: bool) -> Finding:
        """Each node answers an authenticated request, with Kerberos when configured so, and reports the expected
        version — the same version as the others."""
        clients = {node: self.clients.get(node) or connect(self.settings, node=node.given) for node in self.nodes}
        self.clients.update(clients)
        preflight = next((c.preflight for c in clients.values() if c.preflight), None)
        for client in clients.values():
            client.preflight = None
        if preflight:
            preflight()  # once, here: the ticket is this machine's, not a node's

        def read(node: Node) -> tuple[str | None, Any]:
            client = clients[node]
            endpoints = client.get_json("/Status/Endpoints")
            if not (isinstance(endpoints, list) and endpoints):
                raise SmokeError(f"GET /Status/Endpoints answered {str(endpoints)[:80]!r}, not the list of endpoint "
                                 "names — check that node's KeyfactorAPI application")
            return client.scheme_used, client.get_json("/License").get("KeyfactorVersion")

        finding, answers = self.each("version", read)
        versions: dict[Node, str] = {}
        for answer in answers:
            if answer.error:
                finding.met(answer)
                continue
            assert answer.value is not None
            scheme, version = answer.value
            answer.node.version = str(version)
            versions[answer.node] = str(version)
            finding.table[answer.node.label] = {"authentication": scheme, "version": version}
            if kerberos and not (scheme or "").startswith("Kerberos"):
                finding.fail(answer.node, f"{answer.node.label} accepted {scheme}, not Kerberos",
                             "check the SPN (setspn -Q HTTP/<site>) and that node's Windows Authentication providers")
        for node, version, common in odd_ones(versions):
            wrong = f" (expected {expected})" if expected and not version_matches(version, expected) else ""
            others = f", the others {common}" if common else ""
            finding.fail(node, f"{node.label} reports {version}{others}{wrong}", VERSION_FIX)
        for node, version in versions.items():
            if node not in finding.problems and expected and not version_matches(version, expected):
                finding.fail(node, f"{node.label} reports {version}, expected {expected}", VERSION_FIX)
        return finding

    def sign_in(self) -> Finding:
        """Each IIS application offers the same sign-in methods on every node (an application absent everywhere,
        such as /CMSAPI on most sites, is left alone)."""
        applications = site.applications(self.settings)
        url = self.settings.command.url

        def offered(node: Node) -> dict[str, str]:
            return {path: site.sign_in_methods(url + path + probe, self.verify, self.timeout_s, node.given)
                    for path, probe in applications.items()}

        finding, answers = self.each("sign-in", offered)
        methods: dict[str, dict[Node, str]] = {path: {} for path in applications}
        for answer in answers:
            if answer.error:
                finding.met(answer)
                continue
            assert answer.value is not None
            finding.table[answer.node.label] = answer.value
            for path, found in answer.value.items():
                methods[path][answer.node] = found
        for path, by_node in methods.items():
            for node, found, common in odd_ones(by_node):
                others = f"; on the others: {common}" if common else ""
                finding.fail(node, f"{path} on {node.label}: {found}{others}", SIGN_IN_FIX)
        return finding

    def certificates(self, own: bool) -> Finding:
        """Every node presents the load-balanced name's certificate — or, with `own`, a valid one of its own that
        covers the site's name (verified as the suite verifies the site) — with its days to expiry."""
        url, bundle = self.settings.command.url, self.settings.command.ca_bundle
        ca_bundle = str(bundle) if bundle else None
        site_cert = None if own else site.site_certificate(url, ca_bundle, self.timeout_s)
        if site_cert:
            site_cert["DaysLeft"] = site.days_left(site_cert)

        def presented(node: Node) -> dict[str, Any]:
            found = site.site_certificate(url, ca_bundle, self.timeout_s, address=node.given)
            return {**found, "DaysLeft": site.days_left(found)}

        finding, answers = self.each("certificate", presented)
        if site_cert:
            finding.table[f"the load-balanced name {self.site}"] = site_cert
        for answer in answers:
            if answer.error:
                finding.met(answer)
                continue
            found = answer.value
            assert found is not None
            finding.table[answer.node.label] = found
            if site_cert and found["Thumbprint"] != site_cert["Thumbprint"]:
                finding.fail(answer.node, f"{answer.node.label} presents {_certificate(found)}, the load-balanced "
                                          f"name {_certificate(site_cert)}", CERTIFICATE_FIX)
        return finding

    def health(self, path: str) -> Finding:
        """The load balancer's probe answers 200 on every node, asked as the probe asks: without credentials."""
        url = self.settings.command.url + path

        def probe(node: Node) -> int:
            return site.visit(url, self.verify, self.timeout_s, node.given).status_code

        finding, answers = self.each("health", probe)
        for answer in answers:
            if answer.error:
                finding.met(answer)
                continue
            finding.table[answer.node.label] = answer.value
            if answer.value != 200:
                asks = " (it asks for credentials: a probe has none)" if answer.value == 401 else ""
                finding.fail(answer.node, f"{path} on {answer.node.label} answers {answer.value}{asks}", HEALTH_FIX)
        return finding


def odd_ones(values: dict[K, str]) -> list[tuple[K, str, str | None]]:
    """(key, its value, the others' value) for each key whose value differs from what most of them have; when no
    value holds a majority, every key with the others' value None."""
    counts = Counter(values.values())
    if len(counts) <= 1:
        return []
    common, n = counts.most_common(1)[0]
    if n * 2 > len(values):
        return [(key, value, common) for key, value in values.items() if value != common]
    return [(key, value, None) for key, value in values.items()]


def _answer(node: Node, result: Callable[[], T]) -> Answer[T]:
    try:
        return Answer(node, result())
    except SmokeError as exc:
        return Answer(node, error=exc)


def _certificate(found: dict[str, Any]) -> str:
    return f"{found['Subject']} (thumbprint {found['Thumbprint'][:16]}…, until {found['NotAfter'][:10]})"
