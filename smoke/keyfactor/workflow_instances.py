"""Workflows since the upgrade: instances started in the window (GET /Workflow/Instances, `pq.`) that failed, or that
are still Running without a change for longer than they should.

Knows nothing of pytest. The 10.x documentation names the statuses (Running, Suspended, Complete, Rejected, Failed,
CanceledForRestart) while the OpenAPI file types `Status` as a number whose meanings no public source gives; so the
suite never reads the number: it asks the server for each status by name (`Status -eq "Failed"`, as the portal's
Workflow Instances search writes it) and lets it filter. Suspended instances wait for a person (an approval) and are
listed, not judged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from smoke.ground.errors import ApiUnexpectedAnswer
from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.formats import parse_net_time, query_time

INSTANCES = "/Workflow/Instances"
FAILED, RUNNING, SUSPENDED = "Failed", "Running", "Suspended"


@dataclass(frozen=True)
class Instance:
    id: str
    reference: Any
    title: str
    definition: str
    step: str
    message: str
    status: str  # the name it was asked for
    started: dt.datetime | None
    modified: dt.datetime | None

    @classmethod
    def from_api(cls, item: Any, status: str, zoneless: dt.tzinfo) -> Instance:
        if not isinstance(item, dict):
            raise ApiUnexpectedAnswer(f"GET {INSTANCES} listed {str(item)[:80]!r}, not a workflow instance")
        found = item.get("Definition")
        definition: dict[str, Any] = found if isinstance(found, dict) else {}
        version = f" v{definition['Version']}" if definition.get("Version") is not None else ""
        return cls(
            id=str(item.get("Id") or "?"),
            reference=item.get("ReferenceId"),
            title=str(item.get("Title") or "").strip(),
            definition=f"{definition.get('DisplayName') or '(no definition)'}{version}",
            step=str(item.get("CurrentStepDisplayName") or item.get("CurrentStepUniqueName") or "(no step)"),
            message=" ".join(str(item.get("StatusMessage") or "(no message)").split()),
            status=status,
            started=parse_net_time(item.get("StartDate"), zoneless),
            modified=parse_net_time(item.get("LastModified"), zoneless),
        )

    def line(self, now: dt.datetime) -> str:
        quiet = f", unchanged for {_minutes(now - self.modified)}" if self.modified and self.status == RUNNING else ""
        title = f" \"{self.title}\"" if self.title else ""
        return f"{self.definition}{title} (#{self.reference}) {self.status} at step \"{self.step}\"{quiet}: " \
               f"{self.message}"


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes} min"


@dataclass(frozen=True)
class WorkflowReview:
    started: int | None  # instances started in the window (None: the server sent no X-Total-Count)
    failed: list[Instance]
    stuck: list[Instance]
    waiting: list[Instance]  # Suspended: waiting for a person


def _listed(client: KeyfactorClient, query: str, status: str, zone: dt.tzinfo, page_size: int) -> list[Instance]:
    return [Instance.from_api(item, status, zone) for item in client.pages(INSTANCES, page_size=page_size, query=query)]


def review(client: KeyfactorClient, since: dt.datetime, stuck_after: dt.timedelta, zone: dt.tzinfo,
           page_size: int, now: dt.datetime) -> WorkflowReview:
    started = f'StartDate -ge "{query_time(since, zone)}"'
    failed = _listed(client, f'{started} AND Status -eq "{FAILED}"', FAILED, zone, page_size)
    quiet_since = query_time(now - stuck_after, zone)
    stuck = _listed(client, f'{started} AND Status -eq "{RUNNING}" AND LastModified -le "{quiet_since}"', RUNNING,
                    zone, page_size)
    waiting = _listed(client, f'{started} AND Status -eq "{SUSPENDED}"', SUSPENDED, zone, page_size)
    return WorkflowReview(client.count(INSTANCES, started), failed, stuck, waiting)
