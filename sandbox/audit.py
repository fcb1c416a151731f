"""The audit trail: GET /Audit (`pq.`; query and sort fields Id, Timestamp, Category, Operation, Level, User,
EntityType, ImmutableIdentifier, Message; default sort Id) and GET /Audit/{id}/Validate, which "performs a signing
operation and checks the signature against the stored signature" (10.x spec) and answers true or false.

Each entry is signed when written (an HMAC over its fields with the server's audit signing key). Fault audit-invalid:
the entries written since the upgrade were signed with material the server does not validate with — the signing
material did not carry over — so they answer false.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass
from typing import Any

from .api import KeyfactorApi, error
from .faults import ActiveFaults
from .inventory import json_net_time
from .listing import Listing
from .web import Request, Response, json_response

# (Category, Operation, EntityType, message); the numbers are the sandbox's own, as no public source lists them.
EVENTS = (
    (2, 1, "Certificate", "Certificate CN={cn} was issued by ca01.corp.example.com\\CorpIssuingCA1"),
    (2, 5, "Certificate", "Certificate CN={cn} was revoked (Cessation of Operation)"),
    (5, 2, "Template", "Template WebServer was updated"),
    (8, 1, "Agent", "Orchestrator uo-{n:05d}.branch.corp.example.com was approved"),
    (11, 3, "Security", "Security role PKI Operators: permissions changed"),
    (14, 1, "CertificateStore", "Certificate store web{n:03d}.corp.example.com IIS Personal was added"),
)
LEVELS = (0, 1, 2)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    timestamp: dt.datetime  # naive UTC
    category: int
    operation: int
    entity_type: str
    message: str
    user: str
    level: int
    signature: str = ""

    def signed_text(self) -> bytes:
        return "|".join(map(str, (self.id, self.timestamp.isoformat(), self.category, self.operation,
                                  self.entity_type, self.message, self.user, self.level))).encode("utf-8")

    def response(self) -> dict[str, Any]:
        """Keyfactor.Auditing.Querying.AuditLogEntry."""
        return {
            "Id": self.id,
            "Timestamp": json_net_time(self.timestamp),
            "Message": self.message,
            "Signature": self.signature,
            "Category": self.category,
            "Operation": self.operation,
            "Level": self.level,
            "User": self.user,
            "EntityType": self.entity_type,
            "AuditIdentifier": self.message.split(" ")[1] if " " in self.message else self.entity_type,
            "ImmutableIdentifier": str(700_000 + self.id),
        }


def _sign(key: bytes, entry: AuditEntry) -> AuditEntry:
    digest = hmac.new(key, entry.signed_text(), hashlib.sha256).digest()
    return AuditEntry(**{**entry.__dict__, "signature": base64.b64encode(digest).decode("ascii")})


class AuditLog:
    def __init__(self, faults: ActiveFaults, upgraded: dt.datetime, back: dt.datetime, now: dt.datetime) -> None:
        self.key = secrets.token_bytes(32)  # the server's audit signing key
        elsewhere = secrets.token_bytes(32) if faults.on("audit-invalid") else self.key
        rng = random.Random(77)
        self.entries: list[AuditEntry] = []
        times = sorted(now - dt.timedelta(days=30) * rng.random() for _ in range(400))
        times = [t for t in times if not upgraded <= t < back] + [back + (now - back) * (i / 60) for i in range(60)]
        for number, when in enumerate(sorted(times), start=50_001):
            category, operation, entity, text = rng.choice(EVENTS)
            entry = AuditEntry(number, when, category, operation, entity,
                               text.format(cn=f"app{rng.randint(1, 400)}.corp.example.com", n=rng.randint(1, 300)),
                               rng.choice(("CORP\\jdoe", "CORP\\pki-approver", "CORP\\svc-keyfactor")),
                               rng.choice(LEVELS))
            self.entries.append(_sign(self.key if when < upgraded else elsewhere, entry))
        self.by_id = {entry.id: entry for entry in self.entries}

    def validate(self, request: Request, id: str) -> Response:
        try:
            number = int(id)
        except ValueError:
            return error(400, "0xA0110001", f"The value '{id}' is not valid for id.")
        entry = self.by_id.get(number)
        if entry is None:
            return error(404, "0xA0100002", f"Audit log entry with ID {number} could not be found.")
        return json_response(200, hmac.compare_digest(_sign(self.key, entry).signature, entry.signature))

    def mount(self, api: KeyfactorApi) -> None:
        api.get("/Audit", Listing("pq.", lambda: self.entries, AuditEntry.response, {
            "id": lambda e: e.id,
            "timestamp": lambda e: e.timestamp,
            "category": lambda e: e.category,
            "operation": lambda e: e.operation,
            "level": lambda e: e.level,
            "user": lambda e: e.user,
            "entitytype": lambda e: e.entity_type,
            "message": lambda e: e.message,
            "immutableidentifier": lambda e: str(700_000 + e.id),
        }, "Id").answer)
        api.get("/Audit/(?P<id>[^/]+)/Validate", self.validate)
        api.endpoints[-1] = "GET /Audit/{id}/Validate"
