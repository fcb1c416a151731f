"""Alerts of every kind (GET /Alerts/Expiration|Issued|Pending|Denied|KeyRotation, `pagedQuery.` paging) with
their recipients, certificate query or template, and registered event handler with its parameters; and the
expiration alerts' schedule (GET /Alerts/Expiration/Schedule).

Handlers: PowerShell (its "ScriptName" parameter names a script in the Extension Handler Path — the only place
10.x runs them from), Event Log, Renewal; alerts without a handler only send their mail. A handler parameter may
hold a credential the script needs (a "Value" parameter): the API answers it as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..inventory import PARTNER_FOREST
from ..templates import FOREST
from .common import EXTENSION_LIBRARY, LAB_FOREST, MOVED_SCRIPT, Secrets, daily

KINDS = ("Expiration", "Issued", "Pending", "Denied", "KeyRotation")
POWERSHELL = {"Id": 1, "DisplayName": "PowerShell", "UseHandler": True}
EVENT_LOG = {"Id": 2, "DisplayName": "Event Log", "UseHandler": True}
RENEWAL = {"Id": 3, "DisplayName": "Renewal", "UseHandler": True}
MOVED_ALERT = "Web server certificates expiring in 30 days"  # alert-handler-moved
SCHEDULE = {"Schedule": daily(6)}


@dataclass
class Alerts:
    by_kind: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _powershell(script: str, *extra: tuple[str, str, str]) -> list[dict[str, Any]]:
    parameters = [("ScriptName", script, "Script"), ("cn", "{cn}", "Token"), ("thumbprint", "{thumbprint}", "Token"),
                  *extra]
    return [{"Id": number, "Key": key, "DefaultValue": value, "ParameterType": kind}
            for number, (key, value, kind) in enumerate(parameters, 1)]


def _renewal(template: str, ca: str) -> list[dict[str, Any]]:
    return [{"Id": 1, "Key": "Template", "DefaultValue": template, "ParameterType": "Value"},
            {"Id": 2, "Key": "CertificateAuthority", "DefaultValue": ca, "ParameterType": "Value"}]


def build(collections: dict[str, int], template: Callable[[str, str], dict[str, Any]], apps: list[tuple[str, str]],
          total: int, ca: str, secrets: Secrets, handler_moved: bool) -> Alerts:
    """`collections`: saved collection name → id; `template(forest, short name)`: an alert's template reference;
    `apps`: (forest, short name) of the application templates the generated alerts are about."""
    counter = iter(range(1, 1_000_000))
    found = Alerts({kind: [] for kind in KINDS})

    def add(kind: str, name: str, recipients: list[str], handler: dict[str, Any] | None = None,
            parameters: list[dict[str, Any]] | None = None, **fields: Any) -> None:
        alert: dict[str, Any] = {"Id": next(counter), "DisplayName": name,
                                 "Subject": f"Keyfactor: {name}",
                                 "Message": f"<p>{name}: {{cn}} (serial {{serial}}), requested by {{requester}}.</p>"}
        if kind == "KeyRotation":
            alert["Recipient"] = recipients[0] if recipients else None
        else:
            alert["Recipients"] = recipients
        found.by_kind[kind].append({**alert, **fields, "RegisteredEventHandler": handler,
                                    "EventHandlerParameters": parameters or []})

    def query(name: str) -> dict[str, Any]:
        return {"Id": collections[name], "Name": name}

    script = MOVED_SCRIPT if handler_moved else EXTENSION_LIBRARY + "ExpirationNotify.ps1"
    add("Expiration", MOVED_ALERT, ["pki-team@corp.example.com", "{requester:mail}"], POWERSHELL,
        _powershell(script, ("ServiceNowApiToken", secrets.new(), "Value")),
        ExpirationWarningDays=30, CertificateQuery=query("Web servers"))
    add("Expiration", "Certificates expiring in 7 days (escalation)", ["pki-oncall@corp.example.com"],
        ExpirationWarningDays=7, CertificateQuery=query("Expiring in 30 days"))
    add("Expiration", "Web servers: renew 14 days before expiry", ["pki-team@corp.example.com"], RENEWAL,
        _renewal("WebServer", ca), ExpirationWarningDays=14, CertificateQuery=query("Web servers"))
    add("Expiration", "Expiring tomorrow", ["pki-oncall@corp.example.com", "secops@corp.example.com"], EVENT_LOG,
        ExpirationWarningDays=1, CertificateQuery=query("Expiring in 30 days"))
    add("Expiration", "Application owners: expiring in 60 days", ["{metadata:AppOwnerEmail}"], POWERSHELL,
        _powershell(EXTENSION_LIBRARY + "Notify\\OwnerMail.ps1"), ExpirationWarningDays=60,
        CertificateQuery=query("Web servers"))
    add("Issued", "Code signing certificate issued", ["codesigning-audit@corp.example.com"], POWERSHELL,
        _powershell(EXTENSION_LIBRARY + "IssuedToCmdb.ps1", ("CmdbUrl", "https://cmdb.corp.example.com/api", "Value")),
        Template=template(FOREST, "CodeSigning"))
    add("Issued", "Partner VPN certificate issued", ["partner-pki@partner.example.net"], EVENT_LOG,
        Template=template(PARTNER_FOREST, "CorpVPN"))
    add("Pending", "Web server request waiting for approval", ["pki-approvers@corp.example.com"],
        Template=template(FOREST, "WebServerApproval"))
    add("Pending", "Code signing request waiting for approval", ["codesigning-approvers@corp.example.com"],
        POWERSHELL, _powershell(EXTENSION_LIBRARY + "PendingToTeams.ps1"), Template=template(FOREST, "CodeSigning"))
    add("Denied", "Web server request denied", ["{requester:mail}"], Template=template(FOREST, "WebServerApproval"))
    add("Denied", "Lab device request denied", ["{requester:mail}", "lab-admins@lab.example.org"],
        Template=template(LAB_FOREST, "LabDevice"))
    add("KeyRotation", "SSH keys older than a year", ["ssh-admins@corp.example.com"], RotationWarningDays=30)
    add("KeyRotation", "Service account keys: rotate in 14 days", ["iam@corp.example.com"], POWERSHELL,
        _powershell(EXTENSION_LIBRARY + "KeyRotation.ps1"), RotationWarningDays=14)
    named = sum(len(alerts) for alerts in found.by_kind.values())
    cycle = [kind for kind, share in (("Expiration", 60), ("Issued", 15), ("Pending", 10), ("Denied", 10),
                                      ("KeyRotation", 5)) for _ in range(share)]
    for n in range(max(total - named, 0)):
        kind = cycle[n % len(cycle)]
        forest, app = apps[n % len(apps)] if apps else (FOREST, "WebServer")
        owner = [f"app-owner-{n % 500 + 1:04d}@corp.example.com"]
        if kind == "Expiration":
            add(kind, f"{app} expiring ({n + 1:04d})", owner, POWERSHELL if n % 4 == 0 else None,
                _powershell(EXTENSION_LIBRARY + f"Apps\\{app}.ps1") if n % 4 == 0 else None,
                ExpirationWarningDays=(30, 14, 7)[n % 3], CertificateQuery=query("Expiring in 30 days"))
        elif kind == "KeyRotation":
            add(kind, f"{app} key rotation ({n + 1:04d})", owner, RotationWarningDays=(30, 60)[n % 2])
        else:
            add(kind, f"{app} {kind.lower()} ({n + 1:04d})", owner, EVENT_LOG if n % 5 == 0 else None,
                Template=template(forest, app))
    return found
