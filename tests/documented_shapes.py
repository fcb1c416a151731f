"""Endpoints the 10.x documentation describes but the vendor's OpenAPI file lacks, with the shape the documentation
gives them (keyfactor-api-notes, "Evidence added 2026-12-01"), as OpenAPI 3.0 schemas for validating the sandbox's
answers where the OpenAPI document cannot."""

from __future__ import annotations

from typing import Any

_NAME_VALUE_PERMISSION = r"^\w+:\w+$"  # "Area:Permission", e.g. "Dashboard:RiskHeader"

# 10.3/10.5 SecurityRolesGET; Keyfactor's Go client GetSecurityRolesResponse.
SECURITY_ROLE: dict[str, Any] = {
    "type": "object",
    "required": ["Name", "Enabled", "Private", "Identities", "Permissions"],
    "properties": {
        "Id": {"type": "integer"},
        "Name": {"type": "string", "minLength": 1},
        "Description": {"type": "string"},
        "Enabled": {"type": "boolean"},
        "Immutable": {"type": "boolean"},
        "Valid": {"type": "boolean"},
        "Private": {"type": "boolean"},
        "Identities": {"type": "array", "items": {
            "type": "object",
            "required": ["AccountName", "IdentityType"],
            "properties": {"Id": {"type": "integer"}, "AccountName": {"type": "string"},
                           "IdentityType": {"type": "string", "enum": ["User", "Group"]},
                           "Sid": {"type": "string", "pattern": r"^S-1-5-21(-\d+)+$"}},
        }},
        "Permissions": {"type": "array", "items": {"type": "string", "pattern": _NAME_VALUE_PERMISSION}},
    },
}

# 10.2/10.4 CertificateStoresGet; Keyfactor's Go client GetCertificateStoreResponse.
CERTIFICATE_STORE: dict[str, Any] = {
    "type": "object",
    "required": ["ContainerId", "ClientMachine", "Storepath", "CertStoreType", "Approved", "Properties", "AgentId",
                 "InventorySchedule", "Password"],
    "not": {"required": ["StorePath"]},  # the answer's field is Storepath, lower-case p
    "properties": {
        "Id": {"type": "string", "format": "uuid"},
        "ContainerId": {"type": "integer", "nullable": True},
        "ClientMachine": {"type": "string", "minLength": 1},
        "Storepath": {"type": "string", "minLength": 1},
        "CertStoreType": {"type": "integer"},
        "Approved": {"type": "boolean"},
        "Properties": {"type": "string"},  # JSON in a string
        "AgentId": {"type": "string", "format": "uuid"},
        "InventorySchedule": {"type": "object", "nullable": True},  # a KeyfactorSchedule; none before approval
        "Password": {"type": "object", "required": ["IsManaged"], "properties": {"IsManaged": {"type": "boolean"}}},
    },
}

# 10.x SecurityIdentitiesGET; Keyfactor's Go client GetSecurityIdentityResponse.
SECURITY_IDENTITY: dict[str, Any] = {
    "type": "object",
    "required": ["Id", "AccountName", "IdentityType", "Roles", "Valid"],
    "properties": {
        "Id": {"type": "integer"},
        "AccountName": {"type": "string", "pattern": r"^\w+\\\S"},  # DOMAIN\name
        "IdentityType": {"type": "string", "enum": ["User", "Group"]},
        "Roles": {"type": "array", "items": {
            "type": "object",
            "required": ["Id", "Name", "Description"],
            "properties": {"Id": {"type": "integer"}, "Name": {"type": "string"}, "Description": {"type": "string"}},
        }},
        "Valid": {"type": "boolean"},
    },
}

DOCUMENTED = {"GET /Security/Roles": SECURITY_ROLE, "GET /Security/Identities": SECURITY_IDENTITY,
              "GET /CertificateStores": CERTIFICATE_STORE}
