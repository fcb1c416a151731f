"""What the configuration review and the orchestrator heartbeat read: orchestrators (GET /Agents), certificate
authorities (GET /CertificateAuthority), templates (GET /Templates) and saved certificate collections
(GET /CertificateCollections), with Keyfactor's paging, sorting and query conventions.

Shaped by the 10.x spec (shared/keyfactor-openapi/openapi.yaml) and keyfactor-api-notes §1.4, §1.8, §1.10:
- each endpoint reads only ITS query prefix (`pq.` here, `sq.` for /Templates); unprefixed or foreign names
  are ignored, as ASP.NET's model binding ignores parameters it has no name for, so a client with the wrong
  prefix sees the default first page (50 items) again and again;
- defaults pageReturned 1, returnLimit 50; sortAscending 0 = ascending, 1 = descending; default sort AgentId;
- X-Total-Count on every page (sandbox/listing.py);
- a Universal Orchestrator reported as AgentPlatform 7 (11.x documentation) or 1 (24.4 documentation, a 25.4
  recording): `python -m sandbox --uo-platform 1|7`; 10.x is not documented, so the suite must not rely on either;
- LastSeen as Json.NET writes a DateTime: up to 7 fractional digits with trailing zeros dropped, `Z` for
  UTC kinds and nothing for unspecified ones (read by the environment's `zoneless_times`; UTC here).

Agent count: `python -m sandbox --agents N`, or the KF_SANDBOX_AGENTS environment variable (default 300, so
that the suite pages several times; thousands for bench/). The certificate stores the orchestrators manage:
sandbox/configuration/stores.py.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.x509.oid import NameOID

from .api import KeyfactorApi
from .enrollment import CA_HOST  # the host enrollment names the sandbox's issuing CA by
from .faults import ActiveFaults
from .listing import Listing
from .pki import SandboxPKI
from .templates import DEFAULT_TEMPLATES, FOREST, Template
from .web import Request, Response

AGENTS_ENV = "KF_SANDBOX_AGENTS"
DEFAULT_AGENTS = 300
MIN_AGENTS = 8  # the named ones below and one branch orchestrator

# AgentPlatform (keyfactor-api-notes §1.8): 1 .NET (Windows Orchestrator), 2 Java, 7 Universal Orchestrator as the
# 11.x documentation lists it; later documentation reports a Universal Orchestrator as 1 (UO_PLATFORMS).
DOTNET, JAVA, UNIVERSAL = 1, 2, 7
UO_PLATFORMS = (DOTNET, UNIVERSAL)
NEW, APPROVED, DISAPPROVED = 1, 2, 3

# The named orchestrators environments/sandbox.toml expects, and the one its `ignore` glob retires.
EXPECTED = ("orch01.corp.example.com", "orch02.corp.example.com", "winorch01.corp.example.com")
RETIRED = "retired-orch-2019.corp.example.com"
SITES = ("hq", "emea", "apac", "dc1", "dc2", "branch")
_BRANCH = re.compile(r"uo-\d+\.")

# What the faults make of one orchestrator each.
OLD_UO_VERSION = "9.5.0.0"  # below 10.1, the sandbox environment's Universal Orchestrator minimum
ORCHESTRATOR_ERROR = (
    -2146233087,
    "Unable to connect to https://localhost/KeyfactorAgents: The remote certificate is invalid according to "
    "the validation procedure.",
)
STALE_FOR = dt.timedelta(hours=3, minutes=7)
REMOVED_FIELDS_QUERY = 'CARequestId -gt "0" AND RequestResolutionDate -ge "%TODAY-30%"'


@dataclass
class Agent:
    agent_id: str
    client_machine: str
    username: str
    platform: int
    version: str
    status: int
    seen_seconds_ago: float  # relative to each answer, so that a long run stays fresh
    capabilities: tuple[str, ...]
    thumbprint: str
    zone: bool  # LastSeen written with `Z` (UTC kind) or without a zone (unspecified kind)
    ticks: int  # the 7th fractional digit .NET keeps and Python's datetime does not
    error_code: int | None = None
    error_message: str | None = None

    def last_seen(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(seconds=self.seen_seconds_ago)

    def reported_platform(self, uo_platform: int) -> int:
        """The AgentPlatform the server reports: a Universal Orchestrator's is `uo_platform` (7 or 1)."""
        return uo_platform if self.platform == UNIVERSAL else self.platform

    def response(self, now: dt.datetime, uo_platform: int = UNIVERSAL) -> dict[str, Any]:
        """AgentResponse (spec: KeyfactorApi.Models.Orchestrators.AgentResponse)."""
        return {
            "AgentId": self.agent_id,
            "ClientMachine": self.client_machine,
            "Username": self.username,
            "AgentPlatform": self.reported_platform(uo_platform),
            "Version": self.version,
            "Status": self.status,
            "LastSeen": json_net_time(self.last_seen(now), self.ticks, self.zone),
            "Capabilities": list(self.capabilities),
            "Blueprint": None,
            "Thumbprint": self.thumbprint,
            "LegacyThumbprint": None,
            "AuthCertificateReenrollment": "None",
            "LastThumbprintUsed": self.thumbprint,
            "LastErrorCode": self.error_code,
            "LastErrorMessage": self.error_message,
        }


def json_net_time(when: dt.datetime, ticks: int = 0, zone: bool = True) -> str:
    """A DateTime as Json.NET writes it (`yyyy-MM-ddTHH:mm:ss.FFFFFFFK`): trailing zeros of the fraction dropped,
    `Z` for a UTC kind, nothing for an unspecified one."""
    fraction = f"{when.microsecond:06d}{ticks % 10}".rstrip("0")
    text = when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "")
    return text + ("Z" if zone else "")


@dataclass(frozen=True)
class CertificateAuthority:
    id: int
    logical_name: str
    host_name: str
    forest_root: str = FOREST
    # What an administrator set on the CA in Keyfactor (the configuration a baseline keeps).
    delegate: bool = False
    key_retention: tuple[int, int | None] = (0, None)  # (KeyRetention, KeyRetentionDays)
    requesters: tuple[str, ...] = ()
    explicit_user: str | None = None  # with the password below: ExplicitCredentials
    explicit_password: str | None = None
    thresholds: tuple[int, int, int, int] | None = None  # (IssuanceMax, IssuanceMin, DenialMax, FailureMax)
    full_scan_hour: int = 2
    incremental_minutes: int = 60
    rfc_enforcement: bool = False
    enforce_unique_dn: bool = False
    synchronised: bool = True  # FullScan and IncrementalScan scheduled
    reachable: bool = True  # what POST /CertificateAuthority/Test finds (sandbox/ca_test.py)

    @property
    def name(self) -> str:
        return f"{self.host_name}\\{self.logical_name}"

    def response(self) -> dict[str, Any]:
        """CertificateAuthorityResponse (spec: Models.CertificateAuthorities.CertificateAuthorityResponse)."""
        hourly = {"Interval": {"Minutes": self.incremental_minutes}}
        issuance_max, issuance_min, denial_max, failure_max = self.thresholds or (None, None, None, None)
        return {
            "Id": self.id,
            "LogicalName": self.logical_name,
            "HostName": self.host_name,
            "Delegate": self.delegate,
            "DelegateEnrollment": self.delegate,
            "ForestRoot": self.forest_root,
            "ConfigurationTenant": self.forest_root,
            "Remote": False,
            "Agent": None,
            "Standalone": False,
            "MonitorThresholds": self.thresholds is not None,
            "IssuanceMax": issuance_max,
            "IssuanceMin": issuance_min,
            "DenialMax": denial_max,
            "FailureMax": failure_max,
            "RFCEnforcement": self.rfc_enforcement,
            "Properties": "{}",
            "AllowedEnrollmentTypes": 3,
            "KeyRetention": self.key_retention[0],
            "KeyRetentionDays": self.key_retention[1],
            "ExplicitCredentials": self.explicit_user is not None,
            "SubscriberTerms": False,
            "ExplicitUser": self.explicit_user,
            "ExplicitPassword": {"SecretValue": self.explicit_password}
            if self.explicit_password else None,
            "UseAllowedRequesters": bool(self.requesters),
            "AllowedRequesters": list(self.requesters),
            "FullScan": {"Daily": {"Time": f"2023-01-01T{self.full_scan_hour:02d}:00:00Z"}}
            if self.synchronised else None,
            "IncrementalScan": hourly if self.synchronised else None,
            "ThresholdCheck": {"Interval": {"Minutes": 30}} if self.thresholds else None,
            "CAType": 0,
            "AuthCertificate": None,
            "EnforceUniqueDN": self.enforce_unique_dn,
            "LastScan": None,
        }


@dataclass(frozen=True)
class Collection:
    id: int
    name: str
    content: str
    description: str = ""
    show_on_dashboard: bool = False

    def response(self) -> dict[str, Any]:
        """CertificateQuery (spec: Models.CertificateQuery): the query text is `Content`."""
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "Automated": False,
            "Content": self.content,
            "DuplicationField": 0,
            "ShowOnDashboard": self.show_on_dashboard,
            "Favorite": False,
        }


# A template with the same short name in a second forest is legal (the rule is per forest).
_CORP_VPN_OID = "1.3.6.1.4.1.311.21.8.7720317.13478329.1605123.8711612.10485126.20"
_PARTNER_VPN_OID = "1.3.6.1.4.1.311.21.8.5512081.2250961.9912044.1208834.4420197.20"
PARTNER_FOREST = "partner.example.net"
EXTRA_TEMPLATES: tuple[Template, ...] = (
    Template(5, "CorpVPN", "Corp VPN", "Corp VPN", _CORP_VPN_OID, 2048, "RSA", allowed_enrollment_types=2),
    Template(6, "CorpVPN", "Corp VPN", "Corp VPN (partner forest)", _PARTNER_VPN_OID, 2048, "RSA",
             forest_root=PARTNER_FOREST, allowed_enrollment_types=2),
)




def certificate_authorities(issuing_ca: str) -> list[CertificateAuthority]:
    """The sandbox's issuing CA (logical name = its certificate's CN), and three more records: one reached with
    explicit credentials, a switched-off DR copy, one in a partner forest."""
    return [
        CertificateAuthority(1, issuing_ca, CA_HOST, delegate=True, key_retention=(1, None),
                             requesters=("CORP\\PKI-Operators", "CORP\\Web-Admins"), thresholds=(500, 5, 20, 10),
                             rfc_enforcement=True),
        # In another forest's trust: reached with explicit credentials (the password is never answered).
        CertificateAuthority(2, "CorpIssuingCA2", "ca02.corp.example.com", delegate=True, full_scan_hour=3,
                             explicit_user="CORP\\svc-ca02-enroll"),
        # Same logical name on another host: allowed (the constraint is on logical name AND host name). The DR copy
        # is switched off: neither synchronised nor offered for enrollment, and its host does not answer.
        CertificateAuthority(3, "CorpIssuingCA2", "ca02-dr.corp.example.com", full_scan_hour=4,
                             incremental_minutes=240, synchronised=False, reachable=False),
        # In a forest without a trust: Keyfactor signs in with an explicit account.
        CertificateAuthority(4, "PartnerIssuingCA", "pki01.partner.example.net", forest_root=PARTNER_FOREST,
                             key_retention=(2, 365), explicit_user="PARTNER\\svc-keyfactor",
                             explicit_password=secrets.token_urlsafe(18), enforce_unique_dn=True),
    ]

COLLECTIONS: tuple[Collection, ...] = (
    Collection(1, "Expiring in 30 days", 'NotAfter -le "%TODAY+30%" AND CertState -eq "1"', show_on_dashboard=True),
    Collection(2, "Web servers", 'TemplateShortName -eq "WebServer"'),
    Collection(3, "Revoked last week", 'RevocationEffDate -ge "%TODAY-7%"'),
    # Names of removed fields outside the query's field positions do not count.
    Collection(4, "Requests from the old portal", 'IssuedCN -contains "CARequestId-migrated"',
               description="Replaces the search on KeyfactorRequestId"),
)


@dataclass
class Inventory:
    faults: ActiveFaults
    agent_count: int = DEFAULT_AGENTS
    issuing_ca: str = "Keyfactor Smoke Sandbox Issuing CA 1"
    uo_platform: int = UNIVERSAL  # the AgentPlatform a Universal Orchestrator is reported as (UO_PLATFORMS)
    agents: list[Agent] = field(default_factory=list)
    templates: list[Template] = field(default_factory=list)
    authorities: list[CertificateAuthority] = field(default_factory=list)
    collections: list[Collection] = field(default_factory=list)
    # A GET /Templates item; the configuration (sandbox/configuration) adds what an administrator set on each.
    template_json: Callable[[Template], dict[str, Any]] = Template.template_response

    def __post_init__(self) -> None:
        self.agents = sorted(make_agents(self.agent_count), key=lambda a: a.agent_id)
        self.templates = [*DEFAULT_TEMPLATES, *EXTRA_TEMPLATES]
        self.authorities = certificate_authorities(self.issuing_ca)
        self.collections = list(COLLECTIONS)
        self._apply_faults()

    def _apply_faults(self) -> None:
        on = self.faults.on

        def branch_orchestrators() -> list[Agent]:
            return [a for a in self.agents if _BRANCH.match(a.client_machine) and a.platform == UNIVERSAL]

        if on("orchestrator-stale"):
            # The last orchestrator of the default order (AgentId) sits on the last page of any paged listing;
            # make sure that one is an ordinary branch orchestrator, then let it stop checking in.
            last, mover = self.agents[-1], branch_orchestrators()[-1]
            last.agent_id, mover.agent_id = mover.agent_id, last.agent_id
            self.agents.sort(key=lambda a: a.agent_id)
            self.agents[-1].seen_seconds_ago = STALE_FOR.total_seconds()
        if on("orchestrator-unapproved"):
            # Re-registered with a new certificate after the upgrade: back to New, awaiting approval.
            self._named(EXPECTED[0]).status = NEW
        if on("orchestrator-old-version"):
            chosen = branch_orchestrators()
            chosen[len(chosen) // 2].version = OLD_UO_VERSION
        if on("orchestrator-error"):
            chosen = branch_orchestrators()
            chosen[len(chosen) // 3].error_code, chosen[len(chosen) // 3].error_message = ORCHESTRATOR_ERROR
        if on("duplicate-templates"):
            # The same template imported twice into one forest (same CommonName, same OID).
            web = self.templates[0]
            self.templates.append(replace(web, id=max(t.id for t in self.templates) + 1))
        if on("duplicate-cas"):
            first = self.authorities[0]
            self.authorities.append(replace(first, id=max(c.id for c in self.authorities) + 1))
        if on("deprecated-collection-fields"):
            self.collections.append(Collection(len(self.collections) + 1, "Pending CA requests (legacy)",
                                               REMOVED_FIELDS_QUERY))

    def _named(self, name: str) -> Agent:
        return next(a for a in self.agents if a.client_machine == name)

    def mount(self, api: KeyfactorApi) -> None:
        now: list[dt.datetime] = []

        def agent_json(agent: Agent) -> dict[str, Any]:
            return agent.response(now[-1], self.uo_platform)

        agents = Listing("pq.", lambda: self.agents, agent_json, {
            "agentid": lambda a: a.agent_id,
            "clientmachine": lambda a: a.client_machine,
            "identity": lambda a: a.username,
            "username": lambda a: a.username,
            "platform": lambda a: a.reported_platform(self.uo_platform),
            "agentplatform": lambda a: a.reported_platform(self.uo_platform),
            "status": lambda a: a.status,
            "version": lambda a: a.version,
            "lastseen": lambda a: a.last_seen(now[-1]),
        }, "AgentId")

        def list_agents(request: Request) -> Response:
            now[:] = [dt.datetime.now(dt.UTC).replace(tzinfo=None)]
            return agents.answer(request)

        api.get("/Agents", list_agents)
        api.get("/CertificateAuthority", Listing("pq.", lambda: self.authorities, CertificateAuthority.response, {
            "id": lambda c: c.id,
            "logicalname": lambda c: c.logical_name,
            "hostname": lambda c: c.host_name,
            "forestroot": lambda c: c.forest_root,
        }, "Id").answer)
        api.get("/Templates", Listing("sq.", lambda: self.templates, lambda t: self.template_json(t), {
            "id": lambda t: t.id,
            "commonname": lambda t: t.common_name,
            "templatename": lambda t: t.template_name,
            "oid": lambda t: t.oid,
            "forestroot": lambda t: t.forest_root,
            "keysize": lambda t: t.key_size,
            "keytype": lambda t: t.key_type,
        }, "Id").answer)
        api.get("/CertificateCollections", Listing("pq.", lambda: self.collections, Collection.response, {
            "id": lambda c: c.id,
            "name": lambda c: c.name,
            "query": lambda c: c.content,
        }, "Id").answer)


def make_agents(count: int, seed: int = 5) -> list[Agent]:
    """`count` orchestrators: the named ones the sandbox environment expects, a few that must not count (new,
    disapproved, retired), and bulk Universal and Windows Orchestrators at branch sites, all checked in."""
    rng = random.Random(seed)

    def agent(name: str, platform: int, version: str, status: int = APPROVED, seen: float | None = None,
              **extra: Any) -> Agent:
        capabilities = {UNIVERSAL: ("CertStores.IIS.Inventory", "CertStores.PEM.Inventory", "LOGS", "SSL"),
                        DOTNET: ("IIS", "F5", "LOGS", "SSL"), JAVA: ("JKS", "PEM")}[platform]
        return Agent(
            agent_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            client_machine=name,
            username=f"CORP\\svc-{name.split('.')[0]}",
            platform=platform,
            version=version,
            status=status,
            seen_seconds_ago=seen if seen is not None else rng.uniform(2, 12 * 60),
            capabilities=capabilities,
            thumbprint=f"{rng.getrandbits(160):040X}",
            zone=rng.random() < 0.3,
            ticks=rng.randrange(10),
            **extra,
        )

    named = [
        agent(EXPECTED[0], UNIVERSAL, "10.4.1.0"),
        agent(EXPECTED[1], UNIVERSAL, "10.1.0.0"),
        agent(EXPECTED[2], DOTNET, "8.7.0.0"),  # the last Windows Orchestrator, still supported by 10.2
        agent("javaagent01.corp.example.com", JAVA, "8.5.0.0"),
        agent("uo-staging.lab.corp.example.com", UNIVERSAL, "10.4.1.0", status=NEW),
        agent("uo-rogue.guest.example.org", UNIVERSAL, "9.10.0.0", status=DISAPPROVED, seen=40 * 86400,
              error_code=-2146233088, error_message="Access denied: the orchestrator is not approved."),
        agent(RETIRED, UNIVERSAL, "8.5.0.0", seen=400 * 86400),
    ]
    bulk = []
    for n in range(max(count - len(named), 1)):
        windows = n % 7 == 3
        bulk.append(agent(
            f"uo-{n + 1:05d}.{SITES[n % len(SITES)]}.corp.example.com",
            DOTNET if windows else UNIVERSAL,
            "8.7.0.0" if windows else rng.choice(("10.1.0.0", "10.4.1.0", "10.4.1.0")),
        ))
    return named + bulk


def agent_count() -> int:
    text = os.environ.get(AGENTS_ENV, "")
    if not text:
        return DEFAULT_AGENTS
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{AGENTS_ENV}={text!r}: expected a whole number of orchestrators") from None
    if count < MIN_AGENTS:
        raise ValueError(f"{AGENTS_ENV}={count}: the sandbox needs at least {MIN_AGENTS} orchestrators")
    return count


def mount(api: KeyfactorApi, pki: SandboxPKI, uo_platform: int = UNIVERSAL) -> Inventory:
    """Serves the orchestrators, CAs, templates and collections; `pki`'s issuing CA is the first CA listed."""
    issuing = pki.issuing.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    inventory = Inventory(api.faults, agent_count(), str(issuing), uo_platform)
    inventory.mount(api)
    return inventory
