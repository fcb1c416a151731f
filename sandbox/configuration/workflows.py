"""Workflow definitions (GET /Workflow/Definitions, `query.` paging; GET /Workflow/Definitions/{id}): enrollment and
revocation workflows with their published version and steps — REST requests to a ticketing system, mails,
approvals, PowerShell — each step with its configuration parameters, signals and conditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..inventory import PARTNER_FOREST
from ..templates import FOREST
from .common import LAB_FOREST, Secrets, guid

CHANGED = ("Web server enrollment approval", "NotifyServiceNow", "URL")  # workflow-step-changed
SERVICE_NOW = "https://corp.service-now.com/api/now/table/x_kf_cert_requests"
MOVED_SERVICE_NOW = "https://corp.service-now.com/api/now/v2/table/x_kf_cert_requests"


@dataclass(frozen=True)
class Step:
    unique_name: str
    display_name: str
    extension: str  # ExtensionName: NOOPStep, RESTRequest, Email, RequireApproval, PowerShell
    parameters: dict[str, Any]
    signals: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (SignalName, RoleIds)
    conditions: tuple[str, ...] = ()

    def response(self, workflow: str) -> dict[str, Any]:
        return {
            "Id": guid("step", workflow, self.unique_name),
            "DisplayName": self.display_name,
            "UniqueName": self.unique_name,
            "ExtensionName": self.extension,
            "Enabled": True,
            "ConfigurationParameters": self.parameters,
            "Signals": [{"RoleIds": list(roles), "SignalName": name} for name, roles in self.signals],
            "Conditions": [{"Id": guid("condition", workflow, self.unique_name, n), "Value": value}
                           for n, value in enumerate(self.conditions)],
            "Outputs": {},
        }


@dataclass(frozen=True)
class Workflow:
    display_name: str
    description: str
    workflow_type: str  # "Enrollment" or "Revocation"
    key: str  # the template's id for an enrollment workflow
    key_display_name: str
    published: int | None  # the published version; None: a draft never published
    steps: tuple[Step, ...]

    @property
    def id(self) -> str:
        return guid("workflow", self.display_name)

    def summary(self) -> dict[str, Any]:
        """DefinitionQueryResponse."""
        return {"Id": self.id, "DisplayName": self.display_name, "Key": self.key,
                "KeyDisplayName": self.key_display_name, "WorkflowType": self.workflow_type,
                "DraftVersion": (self.published or 0) + 1, "PublishedVersion": self.published}

    def response(self) -> dict[str, Any]:
        """DefinitionResponse: the published version."""
        return {"Id": self.id, "DisplayName": self.display_name, "Description": self.description, "Key": self.key,
                "KeyDisplayName": self.key_display_name, "IsPublished": self.published is not None,
                "WorkflowType": self.workflow_type, "Steps": [s.response(self.display_name) for s in self.steps],
                "DraftVersion": (self.published or 0) + 1, "PublishedVersion": self.published}


START = Step("Start", "Start", "NOOPStep", {})
END = Step("End", "End", "NOOPStep", {})
APPROVERS, PKI_OPERATORS = 6, 2  # security role ids (security.py)


def build(template: Callable[[str, str], tuple[str, str]], secrets: Secrets, step_changed: bool
          ) -> list[Workflow]:
    """`template(forest, short name)`: (Key, KeyDisplayName) of an enrollment workflow's template."""
    service_now = {
        "Verb": "POST",
        "URL": MOVED_SERVICE_NOW if step_changed else SERVICE_NOW,
        "Headers": {"Content-Type": "application/json", "Accept": "application/json"},
        "RequestContent": '{"cn": "$(CN)", "requester": "$(requester)", "template": "$(template)"}',
        "DataBucketProperty": "ServiceNowTicket",
        "UseBasicAuth": True,
        "BasicUsername": "svc-kf-servicenow",
        "BasicPassword": {"SecretValue": secrets.new()},
    }
    mail_requester = {"Subject": "Your certificate request $(CN)", "Recipients": ["$(requester:mail)"],
                      "Message": "<p>Your request for $(CN) was $(ApprovalStatus).</p>"}
    return [
        Workflow("Web server enrollment approval", "Web server certificates need a PKI approver; ServiceNow is told.",
                 "Enrollment", *template(FOREST, "WebServerApproval"), 3, (
                     START,
                     Step("NotifyServiceNow", "Open a ServiceNow ticket", "RESTRequest", service_now),
                     Step("ManagerApproval", "PKI approval", "RequireApproval",
                          {"MinimumApprovals": 1, "DenialEmailSubject": "Denied: $(CN)"},
                          (("ApprovalStatus", (APPROVERS,)),)),
                     Step("NotifyRequester", "Tell the requester", "Email", mail_requester,
                          conditions=('$(ApprovalStatus) -eq "Approved"',)),
                     END)),
        Workflow("Code signing enrollment", "Two approvers, then the CMDB records the certificate.", "Enrollment",
                 *template(FOREST, "CodeSigning"), 2, (
                     START,
                     Step("TwoApprovals", "Two code signing approvers", "RequireApproval",
                          {"MinimumApprovals": 2, "DenialEmailSubject": "Code signing denied: $(CN)"},
                          (("ApprovalStatus", (APPROVERS, PKI_OPERATORS)),)),
                     Step("RecordInCmdb", "Record in the CMDB", "PowerShell",
                          {"ScriptContent": "param($CN, $Thumbprint) Invoke-RestMethod -Method Post "
                                            "-Uri https://cmdb.corp.example.com/api/certs -Body @{cn=$CN}",
                           "ScriptParameters": {"CN": "$(CN)", "Thumbprint": "$(thumbprint)"}}),
                     Step("NotifyRequester", "Tell the requester", "Email", mail_requester),
                     END)),
        Workflow("Revocation notice", "Owners and the CMDB hear of every revocation.", "Revocation", "", "", 5, (
            START,
            Step("NotifyOwners", "Mail the owners", "Email",
                 {"Subject": "Revoked: $(CN)", "Recipients": ["$(metadata:AppOwnerEmail)", "pki-team@corp.example.com"],
                  "Message": "<p>$(CN) was revoked ($(revocationreason)).</p>"}),
            Step("UpdateCmdb", "Update the CMDB", "RESTRequest",
                 {"Verb": "PATCH", "URL": "https://cmdb.corp.example.com/api/certs/$(thumbprint)",
                  "Headers": {"Content-Type": "application/json"}, "RequestContent": '{"state": "revoked"}',
                  "DataBucketProperty": "", "UseBasicAuth": False}),
            END)),
        Workflow("Lab self-service", "Lab certificates are issued without approval.", "Enrollment",
                 *template(LAB_FOREST, "LabWebServer"), 1, (START, END)),
        Workflow("Partner VPN enrollment", "Draft: partner approvals, not published yet.", "Enrollment",
                 *template(PARTNER_FOREST, "CorpVPN"), None, (
                     START, Step("PartnerApproval", "Partner PKI approval", "RequireApproval",
                                 {"MinimumApprovals": 1}, (("ApprovalStatus", (9,)),)), END)),
    ]
