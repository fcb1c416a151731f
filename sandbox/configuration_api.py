"""The configuration's GET routes (sandbox/configuration holds the data): each list with its own paging prefix, as
the OpenAPI document gives it — or, for the endpoints the 10.x documentation describes but the OpenAPI file lacks
(GET /Security/Roles, /Security/Identities, /CertificateStores), as that documentation and Keyfactor's own scripts
page them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from . import configuration
from .api import KeyfactorApi, error
from .configuration import Configuration, alerts, server, templates
from .configuration.security import Role
from .configuration.stores import container
from .inventory import Inventory
from .listing import Listing
from .portal import REPORTS
from .web import Request, Response, json_response

Item = dict[str, Any]


def _by(*names: str) -> dict[str, Callable[[Item], Any]]:
    """Query and sort fields of a listing of plain records, by their JSON names."""
    def getter(name: str) -> Callable[[Item], Any]:
        return lambda item: item.get(name)

    return {name.lower(): getter(name) for name in names}


def _listing(prefix: str, items: Callable[[], Sequence[Item]], *fields: str) -> Callable[[Request], Response]:
    """A listing of a few plain records (hundreds at the large scale), in the order of its first field."""
    def ordered() -> list[Item]:
        return sorted(items(), key=lambda item: item[fields[0]])

    return Listing(prefix, ordered, lambda item: item, _by(*fields), fields[0]).answer


def _constant(items: Sequence[Item]) -> Callable[[], Sequence[Item]]:
    return lambda: items


def _get_one(api: KeyfactorApi, path: str, handler: Callable[..., Response]) -> None:
    """A GET of one item, routed by its path's parameters and listed (GET /Status/Endpoints) as the spec writes it."""
    api.get(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path), handler)
    api.endpoints[-1] = f"GET {path}"


def _not_found(what: str, key: str) -> Response:
    return error(404, "0xA0110004", f"{what} '{key}' was not found.")


def mount(api: KeyfactorApi, inventory: Inventory) -> Configuration:
    """Serves the configuration over the inventory's orchestrators, CAs, templates and collections."""
    found = configuration.build(inventory, api.faults, configuration.scale_from_environment())
    inventory.template_json = found.templates.summary
    template_by_id = {t.id: t for t in inventory.templates}

    def template(request: Request, id: str) -> Response:
        chosen = template_by_id.get(int(id)) if id.isdigit() else None
        return json_response(200, found.templates.detail(chosen)) if chosen else _not_found("Template", id)

    api.get("/Templates/Settings", lambda request: json_response(200, templates.settings_response()))
    _get_one(api, "/Templates/{id}", template)
    api.get("/MetadataFields", _listing("pq.", lambda: server.METADATA_FIELDS, "Id", "Name", "DataType"))

    security = found.security
    api.get("/Security/Roles", Listing("", lambda: security.roles, Role.response, {
        "id": lambda r: r.id, "name": lambda r: r.name, "description": lambda r: r.description,
        "enabled": lambda r: r.enabled, "private": lambda r: r.private}, "Id").answer,
        outside_openapi="10.3/10.5 documentation SecurityRolesGET; Keyfactor Go client GetSecurityRolesResponse")
    api.get("/Security/Identities", Listing("", lambda: security.identities, security.identity_response, {
        "id": lambda i: i.id, "accountname": lambda i: i.account_name,
        "identitytype": lambda i: i.identity_type}, "Id").answer,
        outside_openapi="10.x documentation SecurityIdentitiesGET; Keyfactor Go client GetSecurityIdentityResponse")

    for kind, listed in found.alerts.by_kind.items():
        api.get(f"/Alerts/{kind}", _listing("pagedQuery.", _constant(listed), "Id", "DisplayName", "Subject"))
    api.get("/Alerts/Expiration/Schedule", lambda request: json_response(200, alerts.SCHEDULE))

    definitions = {w.id: w for w in found.workflows}

    def definition(request: Request, definitionId: str) -> Response:
        chosen = definitions.get(definitionId.lower())
        return json_response(200, chosen.response()) if chosen else _not_found("Workflow definition", definitionId)

    summaries = [w.summary() for w in found.workflows]
    api.get("/Workflow/Definitions", _listing("query.", lambda: summaries, "DisplayName", "Id", "WorkflowType",
                                              "Key"))
    _get_one(api, "/Workflow/Definitions/{definitionId}", definition)

    agents = inventory.agents
    api.get("/AgentPools", _listing("pq.", lambda: configuration.stores.pools(agents), "AgentPoolId", "Name"))
    api.get("/CertificateStoreTypes", _listing("cstquery.", lambda: configuration.stores.STORE_TYPES, "StoreType",
                                               "Name", "ShortName"))
    stores = found.stores
    api.get("/CertificateStoreContainers", _listing("pq.", stores.containers, "Id", "Name", "CertStoreType"))
    api.get("/CertificateStores", Listing("certificateStoreQuery.", lambda: stores.stores, stores.response, {
        "id": lambda s: s.id, "clientmachine": lambda s: s.client_machine, "storepath": lambda s: s.storepath,
        "category": lambda s: s.store_type, "certstoretype": lambda s: s.store_type,
        "approved": lambda s: s.approved, "agentid": lambda s: agents[s.agent].agent_id,
        "containerid": lambda s: (container(s) or (None,))[0]}, "Id").answer,
        outside_openapi="10.2/10.4 documentation CertificateStoresGet; Keyfactor Go client "
                        "GetCertificateStoreResponse")

    networks = [network for network, _ in found.networks]
    ranges = {network["NetworkId"]: items for network, items in found.networks}

    def network_ranges(request: Request, id: str) -> Response:
        chosen = ranges.get(id.lower())
        return json_response(200, chosen) if chosen is not None else _not_found("Network", id)

    api.get("/SSL/Networks", _listing("sq.", lambda: networks, "Name", "NetworkId", "AgentPoolName", "Enabled"))
    _get_one(api, "/SSL/NetworkRanges/{id}", network_ranges)

    def report_schedules(request: Request, id: str) -> Response:
        if not any(str(r.id) == id for r in REPORTS):  # also anything not a number
            return _not_found("Report", id)
        return _listing("pq.", lambda: server.REPORT_SCHEDULES.get(int(id), ()), "Id", "ReportFormat")(request)

    api.get("/Reports/Custom", _listing("query.", lambda: server.CUSTOM_REPORTS, "Id", "DisplayName"))
    _get_one(api, "/Reports/{id}/Schedules", report_schedules)
    api.get("/SMTP", lambda request: json_response(200, server.SMTP))
    api.get("/JobTypes/Custom", _listing("pq.", lambda: server.JOB_TYPES, "JobTypeName", "Id"))
    return found

