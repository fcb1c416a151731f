"""The configuration the upgrade guide says blocks or silently changes an upgrade: duplicate certificate
authorities, duplicate templates, saved collections that search on removed fields.

Knows nothing of pytest. Field names from the 10.x spec (keyfactor-api-notes §1.10): CAs carry `LogicalName`
and `HostName`; templates `CommonName`, `Oid` and `ForestRoot` (GET /Templates pages with `sq.`); a saved
collection's query text is `Content`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smoke.keyfactor import answers
from smoke.keyfactor.client import KeyfactorClient

CERTIFICATE_AUTHORITIES = "/CertificateAuthority"
TEMPLATES = "/Templates"
COLLECTIONS = "/CertificateCollections"
PAGE_SIZE = 100
# The fields read here, by their kind in the 10.x document.
FIELDS: dict[str, answers.Fields] = {
    CERTIFICATE_AUTHORITIES: {"Id": "integer", "LogicalName": "string", "HostName": "string", "ForestRoot": "string"},
    TEMPLATES: {"Id": "integer", "CommonName": "string", "Oid": "string", "ForestRoot": "string"},
    COLLECTIONS: {"Id": "integer", "Name": "string", "Content": "string", "Query": "string"},
}

# Certificate search fields removed by the upgrade (upgrade-facts: preconditions).
REMOVED_SEARCH_FIELDS = ("KeyfactorRequestId", "RequestResolutionDate", "CARequestId")
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')
_REMOVED = re.compile(r"(?<![\w.])(" + "|".join(REMOVED_SEARCH_FIELDS) + r")(?![\w])", re.IGNORECASE)


def listing(client: KeyfactorClient, path: str) -> list[dict[str, Any]]:
    """Every record of a list endpoint, all pages, each of the shape the 10.x document gives it."""
    return answers.records(list(client.pages(path, page_size=PAGE_SIZE)), FIELDS.get(path, {}), f"GET {path}")


@dataclass(frozen=True)
class Duplicate:
    """Records that share what must be unique."""

    what: str  # e.g. 'logical name "CorpIssuingCA1" and host name "ca01.corp.example.com"'
    ids: tuple[Any, ...]

    def line(self) -> str:
        return f"{self.what} (Ids {', '.join(str(i) for i in self.ids)})"


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _group(records: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> list[list[dict[str, Any]]]:
    """Records whose `fields` are equal, ignoring case (SQL Server's default collation does), non-empty ones."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record in records:
        key = tuple(_text(record.get(f)).casefold() for f in fields)
        if all(key):
            groups.setdefault(key, []).append(record)
    return [group for group in groups.values() if len(group) > 1]


def duplicate_cas(authorities: Iterable[dict[str, Any]]) -> list[Duplicate]:
    """CAs sharing LogicalName + HostName (a constraint since 9.0)."""
    return [
        Duplicate(f'logical name "{_text(g[0].get("LogicalName"))}" on host "{_text(g[0].get("HostName"))}"',
                  tuple(r.get("Id") for r in g))
        for g in _group(authorities, ("LogicalName", "HostName"))
    ]


def duplicate_templates(templates: Iterable[dict[str, Any]]) -> list[Duplicate]:
    """Templates sharing CommonName + ForestRoot, or Oid + ForestRoot (10.0+ upgrades fail on either)."""
    records = list(templates)
    shared: dict[tuple[Any, ...], list[str]] = {}  # the records' Ids -> what they share
    firsts: dict[tuple[Any, ...], dict[str, Any]] = {}
    for field, label in (("CommonName", "CommonName"), ("Oid", "OID")):
        for group in _group(records, (field, "ForestRoot")):
            ids = tuple(r.get("Id") for r in group)
            shared.setdefault(ids, []).append(f'{label} "{_text(group[0].get(field))}"')
            firsts.setdefault(ids, group[0])
    return [
        Duplicate(f'template {_text(firsts[ids].get("CommonName"))} in forest "{_text(firsts[ids].get("ForestRoot"))}"'
                  f" shares {' and '.join(what)}", ids)
        for ids, what in shared.items()
    ]


def removed_fields_in(query: str) -> list[str]:
    """The removed search fields a collection query names (quoted values do not count), in spec spelling."""
    spelling = {f.casefold(): f for f in REMOVED_SEARCH_FIELDS}
    names = [spelling[m.casefold()] for m in _REMOVED.findall(_QUOTED.sub('""', query))]
    return list(dict.fromkeys(names))


def collections_using_removed_fields(collections: Iterable[dict[str, Any]]) -> list[str]:
    """One line per saved collection whose query uses a removed field: name, Id, the fields."""
    found = []
    for collection in collections:
        query = _text(collection.get("Content") if collection.get("Content") is not None else collection.get("Query"))
        fields = removed_fields_in(query)
        if fields:
            found.append(f'"{_text(collection.get("Name"))}" (Id {collection.get("Id")}) uses {", ".join(fields)}')
    return found


# --- §4.2: what rests on configuration ---------------------------------------------------------------------

ALERT_KINDS = ("Expiration", "Issued", "Pending", "Denied", "KeyRotation")
_ABSOLUTE = re.compile(r"^([A-Za-z]:[\\/]|\\\\|/)")


def alert_scripts(client: KeyfactorClient) -> list[tuple[str, str]]:
    """(alert, script path) for every alert of every kind whose registered handler is a PowerShell script."""
    found = []
    for kind in ALERT_KINDS:
        for alert in client.pages(f"/Alerts/{kind}", page_size=PAGE_SIZE, prefix="pagedQuery."):
            handler = alert.get("RegisteredEventHandler") or {}
            if not isinstance(handler, dict) or "powershell" not in str(handler.get("DisplayName", "")).lower():
                continue
            for parameter in alert.get("EventHandlerParameters") or []:
                if isinstance(parameter, dict) and str(parameter.get("Key", "")).lower() == "scriptname":
                    found.append((f"{kind.lower()} alert {alert.get('DisplayName')!r}",
                                  str(parameter.get("DefaultValue") or "")))
    return found


def outside(path: str, folder: str) -> bool:
    """True when a handler script does not lie below the Extension Handler Path (a bare file name lies below it)."""
    if not _ABSOLUTE.match(path):
        return ".." in re.split(r"[\\/]", path)
    def norm(text: str) -> str:
        return re.sub(r"[\\/]+", "\\\\", text).rstrip("\\").casefold()
    return not norm(path).startswith(norm(folder) + "\\")


def approval_without_key_retention(templates: Iterable[dict[str, Any]]) -> list[str]:
    """Templates that need a CA manager's approval but keep no private key (KeyRetention 0 = none)."""
    return [f"{t.get('ForestRoot')}/{t.get('CommonName')}" for t in templates
            if t.get("RequiresApproval") is True and not t.get("KeyRetention")]
