"""The audit trail since the upgrade: the newest entries of the window (GET /Audit, one page sorted by Timestamp,
newest first) each validated by the server (GET /Audit/{id}/Validate signs the entry again and compares it with the
stored signature): proof that the signing material carried over.

Knows nothing of pytest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from smoke.ground.errors import ApiUnexpectedAnswer
from smoke.keyfactor.client import PAGING_PREFIX, KeyfactorClient
from smoke.keyfactor.formats import parse_net_time, query_time

AUDIT = "/Audit"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    when: dt.datetime | None
    category: Any
    operation: Any
    user: str
    message: str

    @classmethod
    def from_api(cls, item: Any, zoneless: dt.tzinfo) -> AuditEntry:
        number = item.get("Id") if isinstance(item, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            raise ApiUnexpectedAnswer(f"GET {AUDIT} listed {str(item)[:80]!r}, not an audit entry with an Id — "
                                      "check [command] api_path")
        return cls(number, parse_net_time(item.get("Timestamp"), zoneless), item.get("Category"),
                   item.get("Operation"), str(item.get("User") or ""),
                   " ".join(str(item.get("Message") or "").split())[:160])

    @property
    def validate_path(self) -> str:
        return f"{AUDIT}/{self.id}/Validate"


def newest_since(client: KeyfactorClient, since: dt.datetime, zone: dt.tzinfo, sample: int) -> list[AuditEntry]:
    prefix = PAGING_PREFIX[AUDIT]
    answer = client.get_json(AUDIT, params={
        f"{prefix}queryString": f'Timestamp -ge "{query_time(since, zone)}"',
        f"{prefix}sortField": "Timestamp", f"{prefix}sortAscending": 1,  # 1: descending
        f"{prefix}pageReturned": 1, f"{prefix}returnLimit": sample,
    })
    if not isinstance(answer, list):
        raise ApiUnexpectedAnswer(f"GET {AUDIT} answered {type(answer).__name__}, not a JSON list of audit entries")
    return [AuditEntry.from_api(item, zone) for item in answer[:sample]]


def validates(client: KeyfactorClient, entry: AuditEntry) -> bool:
    answer = client.get_json(entry.validate_path)
    if not isinstance(answer, bool):
        raise ApiUnexpectedAnswer(f"GET {entry.validate_path} answered {str(answer)[:80]!r}, not true or false")
    return answer
