"""POST /CertificateAuthority/Test: "validate that a connection can be made to the certificate authority with the
provided information" (10.3/10.4 documentation; permission PkiManagement: Read). It writes nothing.

Strict as the documentation: LogicalName and HostName are required, ConfigurationTenant for Microsoft (DCOM) CAs. The
CA is found by Id, else by logical and host name; a password left out of an explicit-credentials record means the
stored one — the one that does not decrypt under `ca-test-fails`. A host no CA record knows, or the switched-off DR
copy, does not answer (RPC unavailable), as a real test from the Keyfactor server would find.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from .api import KeyfactorApi, error
from .faults import ActiveFaults
from .inventory import CertificateAuthority
from .web import Request, Response, json_response

BAD_REQUEST = "0xA0110001"
RPC_UNAVAILABLE = "The RPC server is unavailable. 0x800706ba (WIN32: 1722 RPC_S_SERVER_UNAVAILABLE)"
LOGON_FAILURE = "The user name or password is incorrect. 0x8007052e (WIN32: 1326 ERROR_LOGON_FAILURE)"
# DPAPI's answer for data protected with a key this machine does not have (the master keys stayed behind).
UNDECRYPTABLE = "Key not valid for use in specified state."
DCOM = 0


class CaTest:
    def __init__(self, authorities: Sequence[CertificateAuthority], faults: ActiveFaults) -> None:
        self.authorities = authorities
        self.faults = faults
        # What the database holds for each explicit-credentials CA; never answered, only compared.
        self.stored = {ca.id: ca.explicit_password or secrets.token_urlsafe(12)
                       for ca in authorities if ca.explicit_user}

    def mount(self, api: KeyfactorApi) -> None:
        api.route("POST", "/CertificateAuthority/Test", self.answer)

    def answer(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return error(400, BAD_REQUEST, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return error(400, BAD_REQUEST, "The CA being tested is required.")
        for name in ("LogicalName", "HostName"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                return error(400, BAD_REQUEST, f"{name} is required.")
        if body.get("CAType", DCOM) == DCOM and not body.get("ConfigurationTenant"):
            return error(400, BAD_REQUEST, "ConfigurationTenant is required for a DCOM certificate authority.")
        ca = self._find(body)
        name = f"{body['HostName']}\\{body['LogicalName']}"
        if ca is None or not ca.reachable:
            return _result(False, f"Unable to connect to the certificate authority {name}: {RPC_UNAVAILABLE}")
        problem = self._credentials(ca, body)
        if problem:
            return _result(False, problem)
        return _result(True, f"Successfully connected to the certificate authority {ca.name}.")

    def _find(self, body: dict[str, Any]) -> CertificateAuthority | None:
        number = body.get("Id")
        for ca in self.authorities:
            if isinstance(number, int) and number and ca.id == number:
                return ca
        wanted = (str(body["LogicalName"]).casefold(), str(body["HostName"]).casefold())
        return next((ca for ca in self.authorities
                     if (ca.logical_name.casefold(), ca.host_name.casefold()) == wanted), None)

    def _credentials(self, ca: CertificateAuthority, body: dict[str, Any]) -> str | None:
        if not ca.explicit_user:
            return None
        if body.get("ExplicitCredentials") is not True:
            return f"Access is denied for the Keyfactor service account on {ca.name}. 0x80070005 (WIN32: 5 " \
                   "ERROR_ACCESS_DENIED)"
        given = body.get("ExplicitPassword")
        password = given.get("SecretValue") if isinstance(given, dict) else None
        if password is None:  # the stored password
            if self.faults.on("ca-test-fails"):
                return f"Unable to decrypt the stored credentials for {ca.explicit_user}: {UNDECRYPTABLE}"
            return None
        return None if password == self.stored[ca.id] else f"{ca.explicit_user}: {LOGON_FAILURE}"


def _result(success: bool, message: str) -> Response:
    """CertificateAuthorityTestResponse."""
    return json_response(200, {"Success": success, "Message": message})
