"""Security roles: GET /Security/Roles as the 10.3/10.5 documentation describes it (SecurityRolesGET) and Keyfactor's
Go client reads it (GetSecurityRolesResponse) — the OpenAPI file has the path but no GET for it.

- items: Id, Name, Description, Enabled, Immutable, Valid, Private, Identities [{Id, AccountName, IdentityType, Sid}],
  Permissions ["Area:Permission", …] (the areas and permissions of the spec's global permission table);
- paged with unprefixed names (QueryString, PageReturned, ReturnLimit, SortField, SortAscending), as the
  documentation lists them; the prefix 10.2 binds them with is not public.

A small set of roles; later issues extend it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .api import KeyfactorApi
from .kdc import USER
from .listing import Listing

DOCUMENTED = "10.3/10.5 documentation SecurityRolesGET; Keyfactor Go client GetSecurityRolesResponse"
PREFIX = ""

# The spec's "Valid Global Permissions" table (POST /Security/Roles/{id}/Permissions/Global), as "Area:Permission".
READ_ONLY = ("AdminPortal:Read", "AgentManagement:Read", "API:Read", "Auditing:Read", "Certificates:Read",
             "CertificateStoreManagement:Read", "Dashboard:Read", "Dashboard:RiskHeader", "Monitoring:Read",
             "PkiManagement:Read", "Reports:Read")
CERTIFICATE_MANAGER = (*READ_ONLY, "CertificateCollections:Modify", "CertificateEnrollment:EnrollCSR",
                       "CertificateEnrollment:EnrollPFX", "Certificates:EditMetadata", "Certificates:Revoke",
                       "Certificates:Recover", "WorkflowManagement:Participate")
ADMINISTRATOR = (*CERTIFICATE_MANAGER, "AgentAutoRegistration:Modify", "AgentManagement:Modify",
                 "ApplicationSettings:Modify", "CertificateStoreManagement:Modify",
                 "CertificateStoreManagement:Schedule", "Certificates:Delete", "Certificates:Import",
                 "Monitoring:Modify", "PkiManagement:Modify", "Reports:Modify", "SecuritySettings:Modify",
                 "SystemSettings:Modify", "WorkflowManagement:Manage")
# What the smoke suite's own account needs: read everything it checks, enroll and revoke its certificate.
SMOKE_TEST = (*READ_ONLY, "CertificateEnrollment:EnrollCSR", "CertificateEnrollment:EnrollPFX", "Certificates:Revoke")

_DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"


@dataclass(frozen=True)
class Identity:
    id: int
    account_name: str
    identity_type: str  # "User" or "Group"
    rid: int

    def response(self) -> dict[str, Any]:
        return {"Id": self.id, "AccountName": self.account_name, "IdentityType": self.identity_type,
                "Sid": f"{_DOMAIN_SID}-{self.rid}"}


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    description: str
    permissions: tuple[str, ...]
    identities: tuple[Identity, ...]
    enabled: bool = True
    private: bool = False
    immutable: bool = False

    def response(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "Enabled": self.enabled,
            "Immutable": self.immutable,
            "Valid": True,
            "Private": self.private,
            "Identities": [identity.response() for identity in self.identities],
            "Permissions": list(self.permissions),
        }


ADMINS = Identity(1, "CORP\\KeyfactorAdmins", "Group", 1107)
PKI_OPERATORS = Identity(2, "CORP\\PKI-Operators", "Group", 1108)
AUDITORS = Identity(3, "CORP\\IT-Auditors", "Group", 1112)
SMOKE_ACCOUNT = Identity(4, f"SANDBOX\\{USER}", "User", 2201)

ROLES: tuple[Role, ...] = (
    Role(1, "Administrator", "Full access, created at installation.", ADMINISTRATOR, (ADMINS,), immutable=True),
    Role(2, "Certificate Managers", "Enroll, revoke and recover certificates.", CERTIFICATE_MANAGER,
         (PKI_OPERATORS,)),
    Role(3, "Auditors", "Read-only access for the yearly PKI audit.", READ_ONLY, (AUDITORS,)),
    Role(4, "Smoke Test", "The post-upgrade smoke suite's service account.", SMOKE_TEST, (SMOKE_ACCOUNT,)),
    Role(5, "Legacy Portal Users", "Replaced by Certificate Managers in 2022.", READ_ONLY, (), enabled=False,
         private=True),
)


def mount(api: KeyfactorApi) -> None:
    roles = Listing(PREFIX, lambda: ROLES, Role.response, {
        "id": lambda r: r.id,
        "name": lambda r: r.name,
        "description": lambda r: r.description,
        "enabled": lambda r: r.enabled,
        "private": lambda r: r.private,
    }, "Id")
    api.get("/Security/Roles", roles.answer, outside_openapi=DOCUMENTED)
