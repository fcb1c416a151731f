"""GET /License as the 10.x document shapes it: the version the server reports and its licence's dates.
Knows nothing of pytest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from smoke.keyfactor import answers
from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.formats import parse_net_time

LICENCE = "/License"
_ANSWER: answers.Fields = {"KeyfactorVersion": "string", "LicenseData": "object"}
_DATA: answers.Fields = {"LicenseId": "string", "IssuedDate": "string", "ExpirationDate": "string"}


@dataclass(frozen=True)
class Licence:
    version: str | None
    data: dict[str, Any]  # LicenseData

    @property
    def expiration(self) -> str | None:
        return self.data.get("ExpirationDate")

    @property
    def expires(self) -> dt.datetime | None:
        return parse_net_time(self.expiration)

    def evidence(self) -> dict[str, Any]:
        return {k: self.data.get(k) for k in ("LicenseId", "IssuedDate", "ExpirationDate")}


def read(client: KeyfactorClient) -> Licence:
    where = f"GET {LICENCE}"
    answer = answers.record(client.get_json(LICENCE), _ANSWER, where)
    data = answers.record(answer.get("LicenseData") or {}, _DATA, where, "LicenseData")
    return Licence(answer.get("KeyfactorVersion"), data)
