"""Certificate stores the orchestrators manage: GET /CertificateStores as the 10.2/10.4 documentation describes it
(CertificateStoresGet) — the OpenAPI file has the path but only its DELETE.

- paged with `certificateStoreQuery.` (Keyfactor's store automation for 9.x/10.x and its Go client page it so,
  and read X-Total-Count);
- `Storepath` with a lower-case p, `Properties` a JSON string, `Password` an object ({IsManaged, …}) that never
  holds the secret; `AgentId` is the orchestrator that manages the store, `ClientMachine` the machine it is on;
- query fields: StorePath (as Keyfactor's store automation queries it), ClientMachine, CertStoreType, Approved,
  AgentId, ContainerId.

A small set of stores on the named orchestrators; later issues extend it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .api import KeyfactorApi
from .inventory import EXPECTED, Agent
from .listing import Listing

DOCUMENTED = "10.2/10.4 documentation CertificateStoresGet; Keyfactor Go client GetCertificateStoreResponse"
PREFIX = "certificateStoreQuery."

# Custom store types get their ids when an administrator adds them; these are the sandbox's.
IIS_BOUND, PEM_FILE, JAVA_KEYSTORE = 101, 102, 103
_IIS = {"spnwithport": "false", "WinRm Protocol": "https", "WinRm Port": "5986", "ServerUseSsl": "true"}
_PEM = {"IsTrustStore": "false", "IncludesChain": "true", "SeparatePrivateKeyFilePath": "",
        "LinuxFilePermissionsOnStoreCreation": "600"}
_JKS = {"LinuxFilePermissionsOnStoreCreation": "600"}
_TWICE_A_DAY = {"Interval": {"Minutes": 720}}
_NIGHTLY = {"Daily": {"Time": "2023-01-01T02:30:00Z"}}


@dataclass(frozen=True)
class Store:
    number: int  # makes the Id: stable across runs
    client_machine: str
    storepath: str
    store_type: int
    orchestrator: str  # the ClientMachine of the orchestrator that manages it
    properties: dict[str, str]
    schedule: dict[str, Any] | None = None
    approved: bool = True
    container: tuple[int, str] | None = None

    @property
    def id(self) -> str:
        return str(uuid.UUID(int=0x5A0D_B0C5_0000_4000_8000_000000000000 + self.number))

    def response(self, agent_id: str) -> dict[str, Any]:
        container_id, container_name = self.container or (None, None)
        return {
            "Id": self.id,
            "ContainerId": container_id,
            "ClientMachine": self.client_machine,
            "Storepath": self.storepath,
            "CertStoreInventoryJobId": str(uuid.UUID(int=0x10B5_0000_0000_4000_8000_000000000000 + self.number))
            if self.schedule else None,
            "CertStoreType": self.store_type,
            "Approved": self.approved,
            "CreateIfMissing": False,
            "Properties": json.dumps(self.properties),
            "AgentId": agent_id,
            "AgentAssigned": True,
            "ContainerName": container_name,
            "InventorySchedule": self.schedule,
            "ReenrollmentStatus": {"Data": False, "AgentId": agent_id, "Message": "", "JobProperties": "",
                                   "CustomAliasAllowed": 0},
            "SetNewPasswordAllowed": self.store_type == JAVA_KEYSTORE,
            "Password": {"IsManaged": False, "ProviderId": None, "ProviderTypeParameterValues": None},
        }


WEB_SERVERS = (1, "IIS web servers")
STORES: tuple[Store, ...] = (
    Store(1, "web01.corp.example.com", "IIS Personal", IIS_BOUND, EXPECTED[0], _IIS, _TWICE_A_DAY,
          container=WEB_SERVERS),
    Store(2, "web02.corp.example.com", "IIS Personal", IIS_BOUND, EXPECTED[0], _IIS, _TWICE_A_DAY,
          container=WEB_SERVERS),
    Store(3, "lnx-app01.corp.example.com", "/etc/pki/tls/certs/app.pem", PEM_FILE, EXPECTED[0], _PEM, _NIGHTLY),
    Store(4, "app01.corp.example.com", "/opt/tomcat/conf/keystore.jks", JAVA_KEYSTORE, EXPECTED[1], _JKS, _NIGHTLY),
    Store(5, "lnx-app02.corp.example.com", "/etc/pki/tls/certs/app.pem", PEM_FILE, EXPECTED[1], _PEM, _NIGHTLY),
    # Found by a discovery job, waiting for approval: no inventory yet.
    Store(6, "lnx-test07.corp.example.com", "/home/deploy/certs/test.pem", PEM_FILE, EXPECTED[1], _PEM,
          approved=False),
)


def mount(api: KeyfactorApi, agents: Sequence[Agent]) -> None:
    agent_ids = {agent.client_machine: agent.agent_id for agent in agents}
    stores = Listing(PREFIX, lambda: STORES, lambda store: store.response(agent_ids[store.orchestrator]), {
        "id": lambda s: s.id,
        "storepath": lambda s: s.storepath,
        "clientmachine": lambda s: s.client_machine,
        "certstoretype": lambda s: s.store_type,
        "approved": lambda s: s.approved,
        "agentid": lambda s: agent_ids[s.orchestrator],
        "containerid": lambda s: (s.container or (None,))[0],
    }, "Id")
    api.get("/CertificateStores", stores.answer, outside_openapi=DOCUMENTED)
