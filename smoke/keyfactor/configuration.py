"""The server's configuration as the API shows it, area by area: what to read (GETs only, every page, each
endpoint's paging prefix), how a person names each item (a template by forest and short name, a CA by host and
logical name …), and what is left out (ids, counters, last-seen times) or kept only as set / not set (secrets).

The result is plain data for the baseline wing; nothing here writes to the server.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.comparable import NOT_SET, SET, normalise

Item = dict[str, Any]

# Database ids differ between servers (prod and DR) and say nothing a person checks; references keep their names.
IDS = ("Id", "AgentId", "ContainerId", "AgentPoolId", "NetworkId", "TemplateId", "CertificateAuthorityId",
       "DefinitionId", "CollectionId", "CertificateCollectionId", "RoleId", "IdentityId", "StepId",
       "CertStoreInventoryJobId", "MetadataId")
# Fields that change without anyone changing the configuration.
VOLATILE = ("LastSeen", "LastScan", "LastThumbprintUsed", "Thumbprint", "LegacyThumbprint", "LastErrorCode",
            "LastErrorMessage", "StoreCount", "DiscoverAgentsCount", "MonitorAgentsCount", "DiscoverPercentComplete",
            "MonitorPercentComplete", "DiscoverStatus", "MonitorStatus", "DiscoverLastScanned", "MonitorLastScanned",
            "NextRun", "LastRun", "Scheduled", "DraftVersion", "Favorite", "InventorySchedule_NextRun")
SECRETS = ("Password", "ExplicitPassword", "StorePassword", "ServerPassword", "ServerUsername", "RelayPassword",
           "SecretValue", "ClientSecret", "Token", "ApiKey", "PrivateKey", "Pkcs12Blob")
_SECRET_NAME = re.compile(r"password|secret|token|apikey|pam", re.I)


@dataclass(frozen=True)
class Reference:
    """An id that points into another listing: the baseline keeps the name it points to, which is what a person
    checks and what stays the same between prod and DR (the id itself is left out with the other ids)."""

    field: str  # e.g. "MetadataId"
    listing: str  # the GET path that names it
    named: str  # the field that holds the name, e.g. "MetadataField"


REFERENCES = {r.field: r for r in (Reference("MetadataId", "/MetadataFields", "MetadataField"),
                                   Reference("CertificateCollectionId", "/CertificateCollections", "Collection"))}


@dataclass(frozen=True)
class Source:
    path: str  # GET path; a list endpoint unless `single`
    identity: Callable[[Item], str]
    single: bool = False
    prefix: str | None = None  # paging prefix when it is not the client's default for the path
    detail: str | None = None  # GET path of one item's full record, e.g. "/Templates/{Id}"
    extras: tuple[tuple[str, str], ...] = ()  # (field, GET path) added to each item, e.g. schedules, ranges
    kind: str = ""  # prefixed to the identity when one area reads several endpoints ("expiration: …")
    references: tuple[str, ...] = ()  # REFERENCES its records hold, at any depth


@dataclass(frozen=True)
class ConfigArea:
    key: str  # the baseline's area name
    title: str  # the check's sentence
    noun: str  # how one item is named in a line
    sources: tuple[Source, ...]
    keyed: dict[str, str] = field(default_factory=dict)  # list field → key of its entries

    @property
    def source_text(self) -> str:
        return ", ".join(f"GET {s.path}" + (f" + {s.detail}" if s.detail else "") for s in self.sources)


def _joined(values: Any) -> str:
    return ",".join(sorted(str(v) for v in values)) if isinstance(values, list) else ""


def _name(*fields: str, sep: str = " ") -> Callable[[Item], str]:
    return lambda item: sep.join(str(item.get(f) or "") for f in fields).strip()


AREAS: tuple[ConfigArea, ...] = (
    ConfigArea("templates", "every certificate template kept its enrollment settings", "template", (
        Source("/Templates", _name("ForestRoot", "CommonName", sep="/"), detail="/Templates/{Id}",
               references=("MetadataId",)),
        Source("/Templates/Settings", lambda item: "(system-wide template settings)", single=True),
    ), {"TemplateRegexes": "SubjectPart", "TemplateDefaults": "SubjectPart", "MetadataFields": "MetadataField",
        "EnrollmentFields": "Name", "ExtendedKeyUsages": "Oid"}),
    ConfigArea("certificate_authorities", "every certificate authority kept its settings", "CA", (
        Source("/CertificateAuthority", _name("HostName", "LogicalName", sep="\\")),
    )),
    ConfigArea("collections", "every certificate collection kept its query and settings", "collection", (
        Source("/CertificateCollections", _name("Name")),
    )),
    ConfigArea("metadata", "every metadata field kept its definition", "metadata field", (
        Source("/MetadataFields", _name("Name")),
    )),
    ConfigArea("security", "every security role kept its permissions and members", "role", (
        # Outside the OpenAPI file; the 10.3/10.5 documentation lists their paging names unprefixed.
        Source("/Security/Roles", _name("Name"), prefix="", kind="role"),
        Source("/Security/Identities", _name("AccountName"), prefix="", kind="identity"),
    ), {"Permissions": "Name", "Identities": "AccountName", "Roles": "Name"}),
    ConfigArea("alerts", "every alert kept its recipients, query, schedule and handler", "alert", tuple(
        Source(f"/Alerts/{kind}", _name("DisplayName"), prefix="pagedQuery.", kind=kind.lower())
        for kind in ("Expiration", "Issued", "Pending", "Denied", "KeyRotation")
    ) + (Source("/Alerts/Expiration/Schedule", lambda item: "expiration schedule", single=True),),
        {"EventHandlerParameters": "Key"}),
    ConfigArea("workflows", "every workflow kept its published steps", "workflow", (
        Source("/Workflow/Definitions", _name("WorkflowType", "DisplayName", sep=": "), prefix="query.",
               detail="/Workflow/Definitions/{Id}"),
    ), {"Steps": "UniqueName", "ConfigurationParameters": "Key", "Signals": "SignalName"}),
    ConfigArea("orchestrators", "every orchestrator is still registered with its capabilities", "orchestrator", (
        Source("/Agents", lambda item: f"{item.get('ClientMachine')} [{_joined(item.get('Capabilities'))}]"),
        Source("/AgentPools", _name("Name"), kind="pool"),
    ), {"Agents": "ClientMachine"}),
    ConfigArea("certificate_stores", "every certificate store is still defined", "store", (
        Source("/CertificateStoreTypes", _name("ShortName"), kind="type"),
        Source("/CertificateStoreContainers", _name("Name"), kind="container"),
        Source("/CertificateStores", _name("ClientMachine", "Storepath", "CertStoreType", sep=" | "),
               prefix="certificateStoreQuery."),
    ), {"Properties": "Name", "EntryParameters": "Name", "JobFields": "Name"}),
    ConfigArea("discovery", "every SSL network and revocation monitoring endpoint kept its settings", "endpoint", (
        Source("/SSL/Networks", _name("Name"), prefix="sq.", extras=(("Ranges", "/SSL/NetworkRanges/{NetworkId}"),),
               kind="ssl network"),
        Source("/Monitoring/Revocation", _name("EndpointType", "Name", sep=": "), prefix="pagedQuery.",
               kind="revocation"),
    )),
    ConfigArea("reports", "every report kept its schedules", "report", (
        Source("/Reports", _name("DisplayName"), prefix="query.", references=("CertificateCollectionId",)),
        Source("/Reports/Custom", _name("DisplayName"), prefix="query.", kind="custom"),
    ), {"Schedules": "ReportFormat", "ReportParameter": "ParameterName"}),
    ConfigArea("server", "the SMTP settings, custom job types and licence carried over", "setting", (
        Source("/SMTP", lambda item: "SMTP", single=True),
        Source("/JobTypes/Custom", _name("JobTypeName"), kind="job type"),
        Source("/License", lambda item: "licence", single=True),
    ), {"JobTypeFields": "Name"}),
)
AREA_BY_KEY = {area.key: area for area in AREAS}

# Changes an upgrade makes on purpose (the vendor's 10.x documentation), each with its reason.
VENDOR_EXPECTED: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    (r"^server/licence: KeyfactorVersion$", "the upgrade changes the reported version", ("changed",), None),
    (r"^collections/.*: (Content|Query)$", "10.x removed the search fields KeyfactorRequestId, "
     "RequestResolutionDate and CARequestId from certificate queries", ("changed",),
     r"KeyfactorRequestId|RequestResolutionDate|CARequestId"),
    (r"^reports/", "a new version brings new built-in reports", ("added",), None),
)


def read(client: KeyfactorClient, areas: tuple[ConfigArea, ...] = AREAS, page_size: int = 500
         ) -> Iterator[tuple[ConfigArea, dict[str, Item]]]:
    """Each area's items by identity, normalised; GETs only."""
    names = _Names(client, page_size)
    for area in areas:
        items: dict[str, Item] = {}
        for source in area.sources:
            for raw in _records(client, source, page_size):
                if source.references:
                    names.add(raw, source.references)
                identity = source.identity(raw) or "(unnamed)"
                if source.kind:
                    identity = f"{source.kind}: {identity}"
                items[_unique(items, identity)] = comparable(raw, area)
        yield area, items


def rest_steps(workflows: dict[str, Item]) -> list[str]:
    """"<workflow>: <step>" for each step that calls out over REST (the server may block its target)."""
    found = []
    for name, workflow in workflows.items():
        steps = workflow.get("Steps") or {}
        for step_name, step in (steps.items() if isinstance(steps, dict) else []):
            kind = f"{step.get('ExtensionName', '')} {step.get('StepType', '')}" if isinstance(step, dict) else ""
            if "rest" in kind.lower():
                found.append(f"{name}: {step_name}")
    return found


def comparable(raw: Item, area: ConfigArea) -> Item:
    """One record as the baseline keeps it: ids, volatile fields and secrets out; JSON-string properties opened."""
    record = dict(raw)
    for name, value in raw.items():
        if name == "Properties" and isinstance(value, str) and value.strip().startswith("{"):
            with contextlib.suppress(ValueError):
                record[name] = json.loads(value)
    secrets = set(SECRETS)
    _find_secrets(record, area.keyed, secrets)
    return normalise(record, drop=IDS + VOLATILE, secrets=secrets, keyed=area.keyed)


def _find_secrets(value: Any, keyed: dict[str, str], found: set[str], key: str | None = None) -> None:
    """Adds the names of secret fields at any depth to `found`. An entry of a keyed list that is named like a
    secret (an alert handler's "ServiceNowApiToken" parameter) keeps its value only as set / not set, in place; its
    other fields (type, required) stay comparable."""
    if isinstance(value, dict):
        if key is not None and _secret_name(str(value.get(key, ""))):
            for name in _VALUES:
                if name in value:
                    value[name] = NOT_SET if value[name] in (None, "") else SET
        for name, inner in value.items():
            if _secret_name(name):
                found.add(name)
            if isinstance(inner, dict | list):
                _find_secrets(inner, keyed, found, keyed.get(name) if isinstance(inner, list) else None)
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, dict | list):
                _find_secrets(entry, keyed, found, key)


_VALUES = ("DefaultValue", "Value", "SecretValue")


@functools.lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def _records(client: KeyfactorClient, source: Source, page_size: int) -> Iterator[Item]:
    if source.single:
        found = client.get_json(source.path)
        records: Iterable[Item] = [found] if isinstance(found, dict) else []
    else:
        records = client.pages(source.path, page_size=page_size, prefix=source.prefix)
    for record in records:
        if not isinstance(record, dict):
            continue
        if source.detail:
            record = {**record, **(client.get_json(source.detail.format(**record)) or {})}
        for name, path in source.extras:
            record = {**record, name: client.get_json(path.format(**record))}
        yield record


class _Names:
    """The names that references point to, each listing read once, when first needed."""

    def __init__(self, client: KeyfactorClient, page_size: int) -> None:
        self.client, self.page_size = client, page_size
        self.listings: dict[str, dict[Any, str]] = {}

    def add(self, value: Any, fields: tuple[str, ...]) -> None:
        """Beside each reference in `value`, at any depth, the name it points to."""
        if isinstance(value, dict):
            for name in fields:
                if name in value and value[name] not in (None, "", 0):
                    reference = REFERENCES[name]
                    found = self.listing(reference.listing).get(value[name])
                    value[reference.named] = found if found is not None else f"(id {value[name]}, not listed)"
            for inner in value.values():
                if isinstance(inner, dict | list):
                    self.add(inner, fields)
        elif isinstance(value, list):
            for entry in value:
                self.add(entry, fields)

    def listing(self, path: str) -> dict[Any, str]:
        if path not in self.listings:
            self.listings[path] = {item.get("Id"): str(item.get("Name") or "")
                                   for item in self.client.pages(path, page_size=self.page_size)
                                   if isinstance(item, dict)}
        return self.listings[path]


def _unique(items: dict[str, Item], identity: str) -> str:
    if identity not in items:
        return identity
    number = 2
    while f"{identity} ({number})" in items:
        number += 1
    return f"{identity} ({number})"
