"""Security roles and identities: GET /Security/Roles and GET /Security/Identities as the 10.3/10.5 documentation
describes them (SecurityRolesGET, SecurityIdentitiesGET) and Keyfactor's Go client reads them
(GetSecurityRolesResponse, GetSecurityIdentityResponse) — the OpenAPI file has both paths but no GET for them.

- a role: Id, Name, Description, Enabled, Immutable, Valid, Private, Identities [{Id, AccountName, IdentityType,
  Sid}], Permissions ["Area:Permission", …] (the areas of the spec's global permission table);
- an identity: Id, AccountName, IdentityType ("User" or "Group"), Roles [{Id, Name, Description}], Valid;
- both paged with unprefixed names (PageReturned, ReturnLimit, …), as that documentation lists them: the prefix
  10.x would bind them with is not public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..kdc import USER

READ_ONLY = ("AdminPortal:Read", "AgentManagement:Read", "API:Read", "Auditing:Read", "Certificates:Read",
             "CertificateStoreManagement:Read", "Dashboard:Read", "Dashboard:RiskHeader", "Monitoring:Read",
             "PkiManagement:Read", "Reports:Read")
ENROLL = ("CertificateEnrollment:EnrollCSR", "CertificateEnrollment:EnrollPFX")
OPERATOR = (*READ_ONLY, *ENROLL, "CertificateCollections:Modify", "Certificates:EditMetadata", "Certificates:Recover",
            "Certificates:Revoke", "CertificateStoreManagement:Schedule", "WorkflowManagement:Participate")
ADMINISTRATOR = (*OPERATOR, "AgentAutoRegistration:Modify", "AgentManagement:Modify", "ApplicationSettings:Modify",
                 "CertificateMetadataTypes:Modify", "CertificateStoreManagement:Modify", "Certificates:Delete",
                 "Certificates:Import", "EventHandlerRegistration:Modify", "Monitoring:Modify",
                 "PkiManagement:Modify", "Reports:Modify", "SecuritySettings:Modify", "SslManagement:Modify",
                 "SystemSettings:Modify", "WorkflowManagement:Manage")
LOST_PERMISSION = ("PKI Operators", "Certificates:Revoke")  # role-permission-lost
_DOMAIN_SID = {"CORP": "S-1-5-21-3623811015-3361044348-30300820", "PARTNER": "S-1-5-21-1004336348-1177238915-682003330",
               "LAB": "S-1-5-21-2127521184-1604012920-1887927527", "SANDBOX": "S-1-5-21-1390067357-308236825-725345543"}


@dataclass(frozen=True)
class Identity:
    id: int
    account_name: str
    identity_type: str  # "User" or "Group"
    rid: int

    @property
    def sid(self) -> str:
        domain = self.account_name.split("\\")[0]
        return f"{_DOMAIN_SID[domain]}-{self.rid}"

    def in_role(self) -> dict[str, Any]:
        return {"Id": self.id, "AccountName": self.account_name, "IdentityType": self.identity_type,
                "Sid": self.sid}


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
        return {"Id": self.id, "Name": self.name, "Description": self.description, "Enabled": self.enabled,
                "Immutable": self.immutable, "Valid": True, "Private": self.private,
                "Identities": [identity.in_role() for identity in self.identities],
                "Permissions": sorted(set(self.permissions))}


@dataclass
class Security:
    roles: list[Role] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    _roles_of: dict[int, list[Role]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role in self.roles:
            for identity in role.identities:
                self._roles_of.setdefault(identity.id, []).append(role)

    def identity_response(self, identity: Identity) -> dict[str, Any]:
        return {"Id": identity.id, "AccountName": identity.account_name, "IdentityType": identity.identity_type,
                "Roles": [{"Id": r.id, "Name": r.name, "Description": r.description}
                          for r in self._roles_of.get(identity.id, [])],
                "Valid": True}


def build(total_roles: int, permission_lost: bool) -> Security:
    people = iter(range(1, 1_000_000))

    def identity(name: str, kind: str = "Group") -> Identity:
        number = next(people)
        return Identity(number, name, kind, 1100 + number)

    admins, operators, approvers = identity("CORP\\KeyfactorAdmins"), identity("CORP\\PKI-Operators"), \
        identity("CORP\\PKI-Approvers")
    jsmith, auditors, web = identity("CORP\\jsmith", "User"), identity("CORP\\IT-Auditors"), \
        identity("CORP\\Web-Admins")
    orchestrators, logi = identity("CORP\\Orchestrator-Admins"), identity("CORP\\svc-kflogi", "User")
    smoke, partner = identity(f"SANDBOX\\{USER}", "User"), identity("PARTNER\\PKI-Operators")
    developers, former = identity("LAB\\Developers"), identity("CORP\\former-pki-admin", "User")
    operator_permissions = tuple(p for p in OPERATOR if not (permission_lost and p == LOST_PERMISSION[1]))
    roles = [
        Role(1, "Administrator", "Full access, created at installation.", ADMINISTRATOR, (admins,), immutable=True),
        Role(2, LOST_PERMISSION[0], "Enroll, revoke and recover certificates; run the stores.", operator_permissions,
             (operators, jsmith)),
        Role(3, "Auditors", "Read-only access for the yearly PKI audit.", (*READ_ONLY, "Auditing:Read"), (auditors,)),
        Role(4, "Web Administrators", "Enroll web server certificates.", ("Certificates:Read", *ENROLL), (web,)),
        Role(5, "Orchestrator Administrators", "Approve orchestrators, manage certificate stores.",
             (*READ_ONLY, "AgentAutoRegistration:Modify", "AgentManagement:Modify",
              "CertificateStoreManagement:Modify", "CertificateStoreManagement:Schedule"), (orchestrators,)),
        Role(6, "Workflow Approvers", "Approve requests held by enrollment workflows.",
             ("Certificates:Read", "WorkflowManagement:Read", "WorkflowManagement:Participate"), (approvers,)),
        Role(7, "Reporting API Access", "The Logi application pool's account reads the report data.",
             ("API:Read", "Reports:Read", "Dashboard:Read"), (logi,)),
        Role(8, "Smoke Test", "The post-upgrade smoke suite's service account.",
             (*READ_ONLY, *ENROLL, "Certificates:Revoke"), (smoke,)),
        Role(9, "Partner PKI Operators", "Certificates of the partner forest.", ("Certificates:Read", *ENROLL),
             (partner,)),
        Role(10, "Lab Users", "Self-service enrollment in the lab forest.", ("CertificateEnrollment:EnrollCSR",),
             (developers,)),
        Role(11, "Legacy Portal Users", "Replaced by PKI Operators in 2022.", READ_ONLY, (), enabled=False,
             private=True),
    ]
    for n in range(max(total_roles - len(roles), 0)):
        team = identity(f"CORP\\app-team-{n + 1:04d}")
        owner = identity(f"CORP\\app-owner-{n + 1:04d}", "User")
        extra = (ENROLL, ("Certificates:Revoke",), ("Reports:Read", "Dashboard:Read"))[n % 3]
        roles.append(Role(len(roles) + 1, f"Application Team {n + 1:04d}",
                          f"Certificates of application {n + 1:04d}.", ("Certificates:Read", *extra),
                          (team, owner) if n % 2 else (team,)))
    identities = sorted({i for role in roles for i in role.identities} | {former}, key=lambda i: i.id)
    return Security(roles, identities)
