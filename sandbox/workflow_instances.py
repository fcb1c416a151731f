"""Workflow instances: GET /Workflow/Instances (`pq.`), in every state, before and after the upgrade.

Shaped by the 10.x spec (InstanceQueryResponse: `Status` an integer 0-6) and the 10.3 documentation (the statuses by
name: Running, Suspended, Complete, Rejected, Failed, CanceledForRestart; query fields DefinitionId, Id,
InitiatingUserName, LastModified, ReferenceId, StartDate, Status, Title, WorkflowType; default sort
CurrentStepDisplayName). Which number is which status no public source says: the sandbox's numbers are its own
(STATUS_CODES), and its query language takes the names, as the portal's search writes them.

Before the upgrade: an instance that failed while the server was down, and one stuck since then (both outside the
window). After it: complete, rejected, suspended (waiting for an approver), canceled for restart and running ones.
Fault workflow-stuck: an enrollment with an ITSM ticket stuck Running at its REST step for half an hour, another
failed there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from .api import KeyfactorApi
from .faults import ActiveFaults
from .inventory import json_net_time
from .listing import Listing

STATUS_CODES = {"Unknown": 0, "Running": 1, "Suspended": 2, "Complete": 3, "Rejected": 4, "Failed": 5,
                "CanceledForRestart": 6}


@dataclass(frozen=True)
class Definition:
    id: str
    name: str
    version: int
    workflow_type: str


APPROVAL = Definition("3f0c5a11-7d2e-4b8a-9a61-2c7e0f1b5a01", "Web server enrollment approval", 3, "Enrollment")
ITSM = Definition("3f0c5a11-7d2e-4b8a-9a61-2c7e0f1b5a02", "Enrollment with ITSM ticket", 5, "Enrollment")
NOTIFY = Definition("3f0c5a11-7d2e-4b8a-9a61-2c7e0f1b5a03", "Revocation notice to the owner", 2, "Revocation")


@dataclass(frozen=True)
class WorkflowInstance:
    number: int
    definition: Definition
    status: str
    step: str
    message: str
    title: str
    started: dt.datetime  # naive UTC
    modified: dt.datetime
    user: str = "CORP\\jdoe"

    @property
    def id(self) -> str:
        return str(uuid.UUID(int=0x0F1A_0000_0000_4000_8000_000000000000 + self.number))

    def response(self) -> dict[str, Any]:
        """KeyfactorApi.Models.Workflows.InstanceQueryResponse."""
        step_name = self.step.replace(" ", "")
        return {
            "Id": self.id,
            "Status": STATUS_CODES[self.status],
            "CurrentStepId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.definition.id}/{step_name}")),
            "StatusMessage": self.message,
            "Definition": {"Id": self.definition.id, "DisplayName": self.definition.name,
                           "Version": self.definition.version, "WorkflowType": self.definition.workflow_type},
            "CurrentStepDisplayName": self.step,
            "CurrentStepUniqueName": step_name,
            "Title": self.title,
            "LastModified": json_net_time(self.modified),
            "StartDate": json_net_time(self.started),
            "ReferenceId": self.number,
        }


def instances(upgraded: dt.datetime, back: dt.datetime, now: dt.datetime, faults: ActiveFaults) -> list[
        WorkflowInstance]:
    minute = dt.timedelta(minutes=1)
    before = upgraded - dt.timedelta(hours=2)
    found = [
        WorkflowInstance(2101, ITSM, "Failed", "Open ITSM ticket", "The remote server returned an error: (503) "
                         "Server Unavailable.", "CN=shop.corp.example.com", before, before + minute),
        WorkflowInstance(2102, ITSM, "Running", "Open ITSM ticket", "Waiting for https://itsm.corp.example.com",
                         "CN=intranet.corp.example.com", before + 5 * minute, before + 5 * minute),
        WorkflowInstance(2201, APPROVAL, "Complete", "End", "Workflow completed", "CN=web17.corp.example.com",
                         back + minute, back + 2 * minute),
        WorkflowInstance(2202, APPROVAL, "Rejected", "Require approval", "Denied by CORP\\pki-approver: wrong owner",
                         "CN=test.corp.example.com", back + 2 * minute, back + 6 * minute),
        WorkflowInstance(2203, APPROVAL, "Suspended", "Require approval", "Waiting for 1 approval",
                         "CN=web18.corp.example.com", back + 3 * minute, back + 3 * minute),
        WorkflowInstance(2204, NOTIFY, "Complete", "End", "Workflow completed", "CN=old-web03.corp.example.com",
                         back + 4 * minute, back + 4 * minute),
        WorkflowInstance(2205, ITSM, "CanceledForRestart", "Open ITSM ticket", "Canceled for restart by "
                         "CORP\\kf-admin", "CN=vpn.corp.example.com", back + 5 * minute, back + 7 * minute),
        WorkflowInstance(2206, ITSM, "Complete", "End", "Workflow completed", "CN=vpn.corp.example.com",
                         back + 7 * minute, back + 8 * minute),
        WorkflowInstance(2207, ITSM, "Running", "Open ITSM ticket", "Waiting for https://itsm.corp.example.com",
                         "CN=mail.corp.example.com", now - minute / 2, now - minute / 2),
    ]
    if faults.on("workflow-stuck"):
        stuck_since = back + minute
        found += [
            WorkflowInstance(2301, ITSM, "Running", "Open ITSM ticket", "Waiting for https://itsm.corp.example.com",
                             "CN=crm.corp.example.com", stuck_since, stuck_since),
            WorkflowInstance(2302, ITSM, "Failed", "Open ITSM ticket", "The request to https://itsm.corp.example.com "
                             "was blocked: its address is in KEYFACTOR_BLOCKED_OUTBOUND_IPS",
                             "CN=erp.corp.example.com", back + 6 * minute, back + 6 * minute),
        ]
    return found


def mount(api: KeyfactorApi, found: list[WorkflowInstance]) -> None:
    found.sort(key=lambda i: i.step.casefold())  # the listing's default order
    api.get("/Workflow/Instances", Listing("pq.", lambda: found, WorkflowInstance.response, {
        "definitionid": lambda i: i.definition.id,
        "id": lambda i: i.id,
        "initiatingusername": lambda i: i.user,
        "lastmodified": lambda i: i.modified,
        "referenceid": lambda i: i.number,
        "startdate": lambda i: i.started,
        "status": lambda i: i.status,
        "title": lambda i: i.title,
        "workflowtype": lambda i: i.definition.workflow_type,
        "currentstepdisplayname": lambda i: i.step,
    }, "CurrentStepDisplayName").answer)
