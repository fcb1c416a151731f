"""Every certificate authority answers: each CA record (GET /CertificateAuthority, all pages) tested with
POST /CertificateAuthority/Test, which validates the connection with the record's details and writes nothing (the
10.3/10.4 documentation: "validate that a connection can be made to the certificate authority with the provided
information", allowed with the read permission PkiManagement: Read).

Knows nothing of pytest. The body is the CA's own record as GET returns it (the request model's fields), so the
server tests what it has stored — an explicit password it can no longer decrypt included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from smoke.ground import evidence
from smoke.ground.errors import ApiAuthenticationFailed, ApiError, ApiIntercepted, ApiUnexpectedAnswer, ApiUnreachable
from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.config_review import CERTIFICATE_AUTHORITIES, listing

TEST = "/CertificateAuthority/Test"
ENROLLMENT_CONTEXTS = ("/Enrollment/CSR/Context/My", "/Enrollment/PFX/Context/My")
# Models.CertificateAuthorities.CertificateAuthorityRequest: what the test takes from the record.
REQUEST_FIELDS = (
    "Id", "LogicalName", "HostName", "Delegate", "DelegateEnrollment", "ForestRoot", "ConfigurationTenant", "Remote",
    "Agent", "Standalone", "MonitorThresholds", "IssuanceMax", "IssuanceMin", "FailureMax", "RFCEnforcement",
    "Properties", "AllowedEnrollmentTypes", "KeyRetention", "KeyRetentionDays", "ExplicitCredentials",
    "SubscriberTerms", "ExplicitUser", "ExplicitPassword", "UseAllowedRequesters", "AllowedRequesters", "FullScan",
    "IncrementalScan", "ThresholdCheck", "AuthCertificatePassword", "AuthCertificate", "CAType", "EnforceUniqueDN",
)
MASTER_KEYS = ("if the database moved to another SQL instance, its master keys may not have come along and stored "
               "credentials no longer decrypt: the upgrade guide §2.8 — re-enter the password in the CA's record")


@dataclass(frozen=True)
class Authority:
    record: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.record.get('HostName') or '?'}\\{self.record.get('LogicalName') or '?'}"

    @property
    def explicit(self) -> bool:
        return self.record.get("ExplicitCredentials") is True

    @property
    def synchronised(self) -> bool:
        return bool(self.record.get("FullScan") or self.record.get("IncrementalScan"))

    def request(self) -> dict[str, Any]:
        return {key: self.record[key] for key in REQUEST_FIELDS if key in self.record}


@dataclass(frozen=True)
class Answer:
    authority: Authority
    success: bool
    message: str
    use: str  # why it is tested: "synchronised", "enrollment", "configured"

    def line(self) -> str:
        return f"{self.authority.name}: {self.message or 'no message'} — {likely_fix(self.authority, self.message)}"


def likely_fix(authority: Authority, message: str) -> str:
    text = message.casefold()
    credentials = ("decrypt", "key not valid", "password", "logon", "credential", "access is denied")
    if authority.explicit and any(word in text for word in credentials):
        user = authority.record.get("ExplicitUser") or "the explicit user"
        return f"the CA is reached with explicit credentials ({user}): {MASTER_KEYS}"
    if "rpc" in text or "0x800706ba" in text or "unavailable" in text:
        return ("check that the CA service (certsvc) runs on the CA host and that DCOM/RPC (TCP 135 and the dynamic "
                "ports) is open from the Keyfactor server")
    if "access is denied" in text or "denied" in text:
        return "grant the Keyfactor service account (or the explicit user) Read and Request on the CA"
    return ("check the CA's host name, logical name and the CA service; test it from the Keyfactor server "
            "(certutil -ping)")


def listed(client: KeyfactorClient) -> list[Authority]:
    return [Authority(record) for record in listing(client, CERTIFICATE_AUTHORITIES)]


def offered_for_enrollment(client: KeyfactorClient) -> set[str]:
    """The CA names ("<host>\\<logical name>") the enrollment contexts offer, case-folded."""
    names: set[str] = set()
    for path in ENROLLMENT_CONTEXTS:
        context = client.get_json(path)
        if not isinstance(context, dict):
            raise ApiUnexpectedAnswer(f"GET {path} answered {type(context).__name__}, not the enrollment context")
        for template in context.get("Templates") or []:
            names |= {str(ca.get("Name", "")).casefold() for ca in (template.get("CAs") or [])
                      if isinstance(ca, dict)}
        names |= {str(ca.get("Name", "")).casefold() for ca in (context.get("StandaloneCAs") or [])
                  if isinstance(ca, dict)}
    return names


def chosen(authorities: Sequence[Authority], configured: Sequence[str],
           offered: Iterable[str]) -> tuple[list[tuple[Authority, str]], list[str]]:
    """(the CAs to test with why, configured names no record has). Without a configured list: every CA that
    synchronises or that enrollment offers."""
    if configured:
        by_name = {a.name.casefold(): a for a in authorities}
        wanted = [(by_name[n.casefold()], "configured") for n in configured if n.casefold() in by_name]
        return wanted, [n for n in configured if n.casefold() not in by_name]
    offered = set(offered)
    found = []
    for authority in authorities:
        uses = [use for use, yes in (("synchronised", authority.synchronised),
                                     ("enrollment", authority.name.casefold() in offered)) if yes]
        if uses:
            found.append((authority, " and ".join(uses)))
    return found, []


def test(client: KeyfactorClient, authority: Authority, use: str) -> Answer:
    """The server's verdict on one CA; an API error for this CA is its answer, not the end of the check."""
    request = authority.request()
    secret = request.get("ExplicitPassword")
    if isinstance(secret, dict):
        evidence.register_secret(secret.get("SecretValue"))
    try:
        answer = client.post_json(TEST, request)
    except (ApiUnreachable, ApiAuthenticationFailed, ApiIntercepted):
        raise
    except ApiError as exc:
        return Answer(authority, False, f"the test itself failed: {exc}", use)
    if not isinstance(answer, dict) or not isinstance(answer.get("Success"), bool):
        return Answer(authority, False, f"POST {TEST} answered {str(answer)[:120]!r}, not {{Success, Message}}", use)
    return Answer(authority, answer["Success"], str(answer.get("Message") or "").strip(), use)
