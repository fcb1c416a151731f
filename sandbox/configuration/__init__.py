"""The server's configuration as its administrators left it — what a baseline keeps before the upgrade and the
carried-over checks compare after it: template settings, roles and identities, alerts, workflows, certificate
stores and pools, discovery networks, server settings (revocation monitoring: sandbox/revocation.py).

The same at every start (fixed data, counters and uuid5 GUIDs; no random ids, no times), so that two baselines of
an unchanged sandbox are byte-identical; only the secrets it answers with are fresh at each start. The large scale
(`python -m sandbox --configuration large`, for bench/) is generated the same way, cheaply: stores are small
records until a page renders them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..faults import ActiveFaults
from ..inventory import Inventory
from . import alerts, discovery, security, stores, templates, workflows
from .common import Secrets
from .security import Security
from .stores import Stores
from .templates import TemplateSettings

SCALE_ENV = "KF_SANDBOX_CONFIGURATION"


@dataclass(frozen=True)
class Scale:
    templates: int  # in all, the inventory's included
    roles: int
    stores: int
    alerts: int


SCALES = {"default": Scale(templates=0, roles=0, stores=600, alerts=0),
          "large": Scale(templates=2_000, roles=500, stores=50_000, alerts=1_000)}


def scale_from_environment() -> Scale:
    name = os.environ.get(SCALE_ENV, "") or "default"
    if name not in SCALES:
        raise ValueError(f"{SCALE_ENV}={name!r}: expected one of {', '.join(SCALES)}")
    return SCALES[name]


@dataclass
class Configuration:
    templates: TemplateSettings
    security: Security
    alerts: alerts.Alerts
    workflows: list[workflows.Workflow]
    stores: Stores
    networks: list[tuple[dict[str, Any], list[dict[str, Any]]]]
    secrets: Secrets = field(default_factory=Secrets)


def build(inventory: Inventory, faults: ActiveFaults, scale: Scale) -> Configuration:
    """The configuration over the inventory's orchestrators, CAs, templates and collections; the inventory's
    template list gains the templates this adds."""
    secrets = Secrets()
    settings = templates.build(inventory.templates, scale.templates, faults.on("template-policy-reset"),
                               faults.on("approval-without-key-retention"))
    inventory.templates.extend(settings.added)
    by_name = {(t.forest_root, t.common_name): t for t in inventory.templates}

    def alert_template(forest: str, name: str) -> dict[str, Any]:
        found = by_name[(forest, name)]
        return {"Id": found.id, "DisplayName": found.display_name, "ForestRoot": forest, "ConfigurationTenant": forest}

    def workflow_key(forest: str, name: str) -> tuple[str, str]:
        found = by_name[(forest, name)]
        return str(found.id), found.display_name

    issuing = inventory.authorities[0]
    apps = [(t.forest_root, t.common_name) for t in settings.added if t.common_name.startswith("App")]
    found_alerts = alerts.build({c.name: c.id for c in inventory.collections}, alert_template, apps, scale.alerts,
                                f"{issuing.host_name}\\{issuing.logical_name}", secrets,
                                faults.on("alert-handler-moved"))
    found_stores = stores.build(inventory.agents, scale.stores, secrets, faults.on("store-missing"))
    pools = stores.pools(inventory.agents)
    secrets.values += [ca.explicit_password for ca in inventory.authorities if ca.explicit_password]
    return Configuration(
        templates=settings,
        security=security.build(scale.roles, faults.on("role-permission-lost")),
        alerts=found_alerts,
        workflows=workflows.build(workflow_key, secrets, faults.on("workflow-step-changed")),
        stores=found_stores,
        networks=discovery.networks(*[(p["AgentPoolId"], p["Name"]) for p in pools]),
        secrets=secrets,
    )
