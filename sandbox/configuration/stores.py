"""Certificate store types (GET /CertificateStoreTypes, `cstquery.`), containers (GET /CertificateStoreContainers),
stores (GET /CertificateStores) and orchestrator pools (GET /AgentPools).

GET /CertificateStores as the 10.2/10.4 documentation describes it (CertificateStoresGet) — the OpenAPI file has the
path but only its DELETE: paged with `certificateStoreQuery.` (Keyfactor's store automation for 9.x/10.x pages it
so); `Storepath` with a lower-case p; `Properties` a JSON string of `{"name": {"value": …}}` entries, credentials
as `{"value": {"SecretValue": …}}` (as Keyfactor's 10.x store scripts write them) or a PAM provider's parameters;
`Password` an object ({IsManaged, …}). A store is a small record until a page renders it, so that 50,000 cost little.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..inventory import APPROVED, SITES, UNIVERSAL, Agent
from .common import Secrets, daily, every, guid

JKS, PEM, F5_SSL_REST, IIS_PERSONAL, F5_WEB_REST = 0, 2, 10, 6, 9
IISU, K8S_SECRET, REMOTE_PEM = 102, 104, 105  # custom store types: their ids come when an administrator adds them
MISSING = ("web02.corp.example.com", "My", IISU)  # store-missing

_STRING, _BOOL, _CHOICE, _SECRET = 0, 1, 2, 3
_STORE_IDS, _JOB_IDS = 0x5A0D_B0C5_0000_4000_8000_000000000000, 0x10B5_0000_0000_4000_8000_000000000000


def _type(store_type: int, name: str, short: str, capability: str, *, local: bool = False, server: bool = False,
          properties: Sequence[tuple[str, str, int, str, bool]] = (),
          entry: Sequence[tuple[str, str, int, str]] = (), path: str = "", private_key: int = 1,
          discovery: bool = True, store_password: bool = False, custom: bool = False) -> dict[str, Any]:
    """A CertificateStoreTypeResponse."""
    jobs = {job: guid("job type", short, job) for job in ("Inventory", "Management", "Discovery")}
    return {
        "Name": name, "ShortName": short, "Capability": capability, "StoreType": store_type,
        "ImportType": store_type, "LocalStore": local,
        "SupportedOperations": {"Add": True, "Create": custom, "Discovery": discovery, "Enrollment": False,
                                "Remove": True},
        "Properties": [{"StoreTypeId": store_type, "Name": n, "DisplayName": d, "Type": t, "DependsOn": "",
                        "DefaultValue": v, "Required": r} for n, d, t, v, r in properties],
        "EntryParameters": [{"StoreTypeId": store_type, "Name": n, "DisplayName": d, "Type": t, "RequiredWhen": {},
                             "DependsOn": "", "DefaultValue": v, "Options": ""} for n, d, t, v in entry],
        "PasswordOptions": {"EntrySupported": False, "StoreRequired": store_password, "Style": 0},
        "StorePathType": "Fixed" if path else "Freeform", "StorePathValue": path, "PrivateKeyAllowed": private_key,
        "JobProperties": [n for n, *_ in entry], "ServerRequired": server, "PowerShell": False,
        "BlueprintAllowed": True, "CustomAliasAllowed": 1, "ServerRegistration": 0, "InventoryEndpoint": "",
        "InventoryJobType": jobs["Inventory"], "ManagementJobType": jobs["Management"],
        "DiscoveryJobType": jobs["Discovery"] if discovery else None, "EnrollmentJobType": None,
    }


_WINRM = (("spnwithport", "SPN with port", _BOOL, "false", False),
          ("WinRm Protocol", "WinRM protocol", _CHOICE, "https", True),
          ("WinRm Port", "WinRM port", _STRING, "5986", True),
          ("ServerUsername", "Server username", _SECRET, "", False),
          ("ServerPassword", "Server password", _SECRET, "", False),
          ("ServerUseSsl", "Use SSL", _BOOL, "true", True))
STORE_TYPES: tuple[dict[str, Any], ...] = (
    _type(JKS, "Java Keystore", "JKS", "JKS", local=True, store_password=True),
    _type(PEM, "PEM File", "PEM", "PEM", local=True, properties=(
        ("PrivateKeyPath", "Separate private key file", _STRING, "", False),)),
    _type(IIS_PERSONAL, "IIS Personal", "IIS", "IIS", path="IIS Personal", discovery=False),
    _type(F5_WEB_REST, "F5 Web Server REST", "F5-WS-REST", "F5-WS-REST", server=True, discovery=False),
    _type(F5_SSL_REST, "F5 SSL Profiles REST", "F5-SL-REST", "F5-SL-REST", server=True, discovery=False,
          properties=(("PrimaryNode", "Primary node", _STRING, "", True),
                      ("ServerUsername", "Server username", _SECRET, "", True),
                      ("ServerPassword", "Server password", _SECRET, "", True))),
    _type(IISU, "IIS Bound Certificate", "IISU", "IISU", path="My,WebHosting", discovery=False, custom=True,
          properties=_WINRM, entry=(("Port", "Port", _STRING, "443"), ("IPAddress", "IP address", _STRING, "*"),
                                    ("HostName", "Host name", _STRING, ""),
                                    ("SiteName", "IIS site", _STRING, "Default Web Site"),
                                    ("SniFlag", "SNI", _CHOICE, "0 - No SNI"), ("Protocol", "Protocol", _CHOICE,
                                                                               "https"))),
    _type(K8S_SECRET, "Kubernetes Secret", "K8SSecret", "K8SSecret", server=True, discovery=True, custom=True,
          properties=(("KubeNamespace", "Namespace", _STRING, "default", True),
                      ("KubeSecretType", "Secret type", _CHOICE, "tls_secret", True),
                      ("ServerPassword", "Service account token", _SECRET, "", True))),
    _type(REMOTE_PEM, "Remote File PEM", "RFPEM", "RFPEM", custom=True, properties=(
        ("IsTrustStore", "Trust store", _BOOL, "false", False),
        ("IncludesChain", "Includes chain", _BOOL, "true", False),
        ("ServerUsername", "Server username", _SECRET, "", False),
        ("ServerPassword", "Server password", _SECRET, "", False),
        ("LinuxFilePermissionsOnStoreCreation", "File permissions", _STRING, "600", False))),
)
CONTAINERS: tuple[tuple[int, str, int, dict[str, Any] | None], ...] = (
    # (Id, Name, CertStoreType, Schedule the container imposes on its stores)
    (1, "IIS web servers", IISU, every(720)),
    (2, "Linux PEM stores", REMOTE_PEM, daily(2, 30)),
    (3, "Tomcat keystores", JKS, None),
    (4, "Kubernetes clusters", K8S_SECRET, every(60)),
)
_CONTAINER_OF = {store_type: (number, name) for number, name, store_type, _ in CONTAINERS}
_PATHS = {IISU: "My", REMOTE_PEM: "/etc/pki/tls/certs/app.pem", JKS: "/opt/tomcat/conf/keystore.jks",
          K8S_SECRET: "apps/tls-app", PEM: "/etc/ssl/certs/server.pem"}
_SCHEDULES = (every(720), daily(2, 30), daily(3), every(1440))


@dataclass(frozen=True, slots=True)
class Store:
    number: int  # makes the Id and the inventory job's id: stable across starts
    client_machine: str
    storepath: str
    store_type: int
    agent: int  # index into the agent list: the orchestrator that manages it
    schedule: int = 0  # index into _SCHEDULES; -1: none (not approved yet)
    approved: bool = True
    pam: bool = False  # the server credential comes from a PAM provider

    @property
    def id(self) -> str:
        return str(uuid.UUID(int=_STORE_IDS + self.number))  # ordered like the numbers: the listing's default sort


def container(store: Store) -> tuple[int, str] | None:
    """(Id, Name) of the container that holds an approved store of its type."""
    return _CONTAINER_OF.get(store.store_type) if store.approved else None


@dataclass
class Stores:
    agents: Sequence[Agent]
    secrets: Secrets
    stores: list[Store] = field(default_factory=list)
    credential: dict[int, str] = field(default_factory=dict)  # store type → the WinRM/SSH password it uses

    def __post_init__(self) -> None:
        self.credential = {kind: self.secrets.new() for kind in (IISU, REMOTE_PEM, F5_SSL_REST, K8S_SECRET)}

    def properties(self, store: Store) -> dict[str, Any]:
        server = ({"value": {"Provider": 1, "Parameters": {"SafeName": "PKI", "SecretName": f"{store.client_machine}"}}}
                  if store.pam else {"value": {"SecretValue": self.credential.get(store.store_type)}})
        username = {"value": {"SecretValue": "CORP\\svc-kf-orchestrator"}}
        if store.store_type == IISU:
            return {"spnwithport": {"value": "false"}, "WinRm Protocol": {"value": "https"},
                    "WinRm Port": {"value": "5986"}, "ServerUsername": username, "ServerPassword": server,
                    "ServerUseSsl": {"value": "true"}}
        if store.store_type == REMOTE_PEM:
            return {"IsTrustStore": {"value": "false"}, "IncludesChain": {"value": "true"},
                    "ServerUsername": {"value": {"SecretValue": "svc-kf-ssh"}}, "ServerPassword": server,
                    "LinuxFilePermissionsOnStoreCreation": {"value": "600"}}
        if store.store_type == F5_SSL_REST:
            return {"PrimaryNode": {"value": store.client_machine},
                    "ServerUsername": {"value": {"SecretValue": "admin"}}, "ServerPassword": server}
        if store.store_type == K8S_SECRET:
            return {"KubeNamespace": {"value": store.storepath.split("/")[0]},
                    "KubeSecretType": {"value": "tls_secret"}, "ServerPassword": server}
        return {}

    def password(self, store: Store) -> dict[str, Any]:
        if store.store_type != JKS:
            return {"IsManaged": False, "ProviderId": None, "ProviderTypeParameterValues": None}
        return {"IsManaged": True, "ProviderId": 1, "ProviderTypeParameterValues": [
            {"Id": store.number, "Value": f"Keystores/{store.client_machine}", "ParameterId": 0, "InstanceId": None,
             "InstanceGuid": None, "Provider": None,
             "ProviderTypeParam": {"Id": 1, "Name": "SecretName", "DisplayName": "Secret name", "DataType": 1,
                                   "InstanceLevel": True, "ProviderType": None}}]}

    def response(self, store: Store) -> dict[str, Any]:
        agent = self.agents[store.agent]
        held_by = container(store)
        schedule = _SCHEDULES[store.schedule] if store.schedule >= 0 else None
        return {
            "Id": store.id,
            "ContainerId": held_by[0] if held_by else None,
            "ClientMachine": store.client_machine,
            "Storepath": store.storepath,
            "CertStoreInventoryJobId": str(uuid.UUID(int=_JOB_IDS + store.number)) if schedule else None,
            "CertStoreType": store.store_type,
            "Approved": store.approved,
            "CreateIfMissing": False,
            "Properties": json.dumps(self.properties(store)),
            "AgentId": agent.agent_id,
            "AgentAssigned": True,
            "ContainerName": held_by[1] if held_by else None,
            "InventorySchedule": schedule,
            "ReenrollmentStatus": {"Data": False, "AgentId": agent.agent_id, "Message": "", "JobProperties": "",
                                   "CustomAliasAllowed": 0},
            "SetNewPasswordAllowed": store.store_type == JKS,
            "Password": self.password(store),
        }

    def containers(self) -> list[dict[str, Any]]:
        counts: dict[int, int] = {}
        for store in self.stores:
            if store.approved and store.store_type in _CONTAINER_OF:
                counts[store.store_type] = counts.get(store.store_type, 0) + 1
        return [{"Id": number, "Name": name, "OverwriteSchedules": schedule is not None,
                 "Schedule": json.dumps(schedule) if schedule else None, "CertStoreType": store_type,
                 "StoreCount": counts.get(store_type, 0)} for number, name, store_type, schedule in CONTAINERS]


def build(agents: Sequence[Agent], total: int, secrets: Secrets, store_missing: bool) -> Stores:
    """The named stores on the named orchestrators, then stores on branch servers up to `total`, each managed by
    an approved Universal Orchestrator."""
    found = Stores(agents, secrets)
    index = {agent.client_machine: n for n, agent in enumerate(agents)}
    approved = [n for n, agent in enumerate(agents) if agent.status == APPROVED and agent.platform == UNIVERSAL]
    orch01, orch02 = index["orch01.corp.example.com"], index["orch02.corp.example.com"]
    named = [
        Store(1, "web01.corp.example.com", "My", IISU, orch01),
        Store(2, *MISSING, orch01),
        Store(3, "web03.corp.example.com", "WebHosting", IISU, orch01, pam=True),
        Store(4, "lnx-app01.corp.example.com", _PATHS[REMOTE_PEM], REMOTE_PEM, orch01, 1),
        Store(5, "app01.corp.example.com", _PATHS[JKS], JKS, orch02, 2),
        Store(6, "f5-prod-01.corp.example.com", "Common", F5_SSL_REST, orch02, 3),
        Store(7, "aks-prod.corp.example.com", "payments/tls-payments", K8S_SECRET, orch02, 0),
        Store(8, "lnx-test07.corp.example.com", "/home/deploy/certs/test.pem", REMOTE_PEM, orch02, -1,
              approved=False),
    ]
    found.stores = [s for s in named if not (store_missing and (s.client_machine, s.storepath, s.store_type)
                                              == MISSING)]
    kinds = (IISU, REMOTE_PEM, IISU, JKS, K8S_SECRET)
    for n in range(max(total - len(named), 0)):
        kind = kinds[n % len(kinds)]
        machine = f"srv-{n // 2 + 1:05d}.{SITES[n % len(SITES)]}.corp.example.com"
        path = _PATHS[kind] if kind != K8S_SECRET else f"app-{n:05d}/tls-app"
        found.stores.append(Store(100 + n, machine, path, kind, approved[n % len(approved)], n % len(_SCHEDULES),
                                  pam=n % 11 == 0))
    return found


def pools(agents: Sequence[Agent]) -> list[dict[str, Any]]:
    """GET /AgentPools (Models.Agents.AgentPool): the default pool holds every approved orchestrator that can scan
    SSL endpoints; the DMZ pool the named ones."""
    def member(agent: Agent, discover: bool = True) -> dict[str, Any]:
        return {"AgentId": agent.agent_id, "EnableDiscover": discover, "EnableMonitor": True,
                "Version": agent.version, "AllowsDiscover": True, "AllowsMonitor": True,
                "ClientMachine": agent.client_machine}

    scanners = [a for a in agents if a.status == APPROVED and "SSL" in a.capabilities]
    dmz = [a for a in scanners if a.client_machine in ("orch01.corp.example.com", "orch02.corp.example.com")]
    return [
        {"AgentPoolId": "00000000-0000-0000-0000-000000000000", "Name": "Default Agent Pool",
         "DiscoverAgentsCount": len(scanners), "MonitorAgentsCount": len(scanners),
         "Agents": [member(a) for a in scanners]},
        {"AgentPoolId": guid("agent pool", "DMZ scanners"), "Name": "DMZ scanners",
         "DiscoverAgentsCount": len(dmz), "MonitorAgentsCount": len(dmz), "Agents": [member(a, False) for a in dmz]},
    ]


def inventory_jobs(found: Stores) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(job id, orchestrator, store machine, store path, schedule) of each named store's scheduled inventory, as
    GET /OrchestratorJobs/ScheduledJobs lists them (the branch servers' stores are listed by sandbox/job_history)."""
    return [(str(uuid.UUID(int=_JOB_IDS + store.number)), found.agents[store.agent].client_machine,
             store.client_machine, store.storepath, _SCHEDULES[store.schedule])
            for store in found.stores if store.number < 100 and store.schedule >= 0]
