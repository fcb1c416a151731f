"""Certificate issuance through the Keyfactor API: enroll by CSR and by PFX, validate what came back, revoke it and
confirm the revocation. Knows nothing of pytest.

One `EnrollmentRun` per suite run. Its run id (UTC time + random) makes every subject unique, so two runs at once
never collide and the cleanup only ever touches this run's certificates. Used as a context manager it revokes, on
exit, whatever it issued — also when a check failed or the run was interrupted — and searches for certificates
issued under its run id whose answer never arrived (a timeout, Ctrl-C during the POST).

Keys stay in memory: the CSR's key is generated here and never serialised; a PKCS#12 is opened to validate it and
then dropped. The PFX password is generated per enrollment and registered as a secret, so reports mask it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from cryptography import x509
from cryptography.x509.oid import NameOID

from smoke.ground import evidence, interrupts
from smoke.ground.errors import ApiUnexpectedAnswer, ApiUnreachable, Blocked, SmokeError
from smoke.keyfactor import answers, certs, names
from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.sections import EnrollmentSection

# Field names and values of the 10.x API (keyfactor-api-notes §1.6, §1.7).
CONTEXT_PATH = "/Enrollment/{method}/Context/My"
ENROLL_PATH = {"CSR": "/Enrollment/CSR", "PFX": "/Enrollment/PFX"}
CERTIFICATE_FORMAT = {"CSR": "PEM", "PFX": "PFX"}  # the x-certificateformat header, required by the spec
ID_FIELD = {"CSR": "KeyfactorID", "PFX": "KeyfactorId"}  # capital ID in CSR answers only
ISSUED = "ISSUED"
REVOKED_STATE = 2  # CertState
_ANY_STATUS = tuple(range(200, 600))  # enrollment reads Keyfactor's error bodies itself
# The fields read here, by their kind in the 10.x document.
_TEMPLATE: answers.Fields = {"Name": "string", "DisplayName": "string", "RequiresApproval": "boolean", "CAs": "list"}
_CA: answers.Fields = {"Name": "string"}
_INFORMATION: answers.Fields = {
    "KeyfactorID": "integer", "KeyfactorId": "integer", "KeyfactorRequestId": "integer", "SerialNumber": "string",
    "Thumbprint": "string", "RequestDisposition": "string", "DispositionMessage": "string", "Certificates": "list",
    "Pkcs12Blob": "string",
}
_STORED: answers.Fields = {"Thumbprint": "string", "CertState": "integer", "CertStateString": "string"}

# What the Microsoft CA answers (relayed by Keyfactor), lower case: the root causes worth naming.
_CA_DOWN = ("0x800706ba", "rpc server is unavailable", "0x800706d9", "no more endpoints available")
_DELEGATION = ("0x80070520", "logon session does not exist", "0x8009030e", "no credentials are available",
               "delegat")
_DENIED = ("0x80070005", "access is denied", "0x80094012", "permissions on the certificate template")
_HELD = ("PEND", "EXTERNAL", "SUBMISSION")  # PENDING, EXTERNAL VALIDATION, Taken Under Submission


class EnrollmentFailed(SmokeError):
    """No certificate was issued. With `root_cause`, every other enrollment of the run would meet the same."""

    def __init__(self, message: str, root_cause: bool = False) -> None:
        super().__init__(message)
        self.root_cause = root_cause


class RevocationFailed(SmokeError):
    """A smoke certificate is still valid; the message names it (id, serial, thumbprint) for a manual revocation."""


def new_run_id() -> str:
    """Unique per run and usable in a DNS name: UTC time to the second plus 24 random bits."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


@dataclass
class SmokeCertificate:
    """A certificate this run must revoke, with what an operator needs to revoke it by hand."""

    keyfactor_id: int
    serial: str
    thumbprint: str
    source: str
    revoked: bool = False
    problem: str | None = None
    reported: bool = False

    def named(self) -> str:
        return f"id {self.keyfactor_id} serial {self.serial} thumbprint {self.thumbprint}"


@dataclass
class Issued:
    method: str  # "CSR" | "PFX"
    record: SmokeCertificate
    certificate: x509.Certificate
    chain: list[x509.Certificate]  # as returned, leaf excluded
    key_matches: bool
    scheme: str | None  # the authentication the API accepted for the enrollment
    round_trip_ms: int

    def evidence(self) -> dict[str, str]:
        return {
            "method": f"{self.method} enrollment",
            "KeyfactorId": str(self.record.keyfactor_id),
            "round trip": f"{self.round_trip_ms} ms",
            "authentication": self.scheme or "none",
            **certs.describe(self.certificate),
        }


class EnrollmentRun:
    def __init__(self, client: KeyfactorClient, section: EnrollmentSection, run_id: str | None = None) -> None:
        self.client = client
        self.section = section
        self.run_id = run_id or new_run_id()
        self.subject = section.subject.replace("{run_id}", self.run_id)
        self.dns_sans = [name.replace("{run_id}", self.run_id) for name in section.dns_sans]
        self.comment = f"Keyfactor smoke test run {self.run_id}: post-upgrade enrollment check, cleaned up by the suite"
        self.issued: list[Issued] = []
        self.certificates: list[SmokeCertificate] = []  # everything to revoke, issued or found by the run id
        self.failures: list[EnrollmentFailed] = []
        self.submitted = 0
        self.searched = False  # the cleanup has looked for this run's certificates by its run id
        self._templates: dict[str, dict[str, Any]] = {}

    @property
    def methods(self) -> list[str]:
        return {"csr": ["CSR"], "pfx": ["PFX"], "both": ["CSR", "PFX"]}[self.section.mode]

    @property
    def ca_logical_name(self) -> str:
        return self.section.certificate_authority.split("\\", 1)[1]

    def __enter__(self) -> EnrollmentRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    # --- before enrolling ----------------------------------------------------------------------------

    def template_offered(self, method: str) -> dict[str, Any]:
        """The configured template as GET /Enrollment/<method>/Context/My offers it to this account, by the
        configured CA and without approval; EnrollmentFailed (a root cause) otherwise. Writes nothing."""
        if method in self._templates:
            return self._templates[method]
        path = CONTEXT_PATH.format(method=method)
        context = self.client.get_json(path)
        templates = context.get("Templates") if isinstance(context, dict) else None
        if not isinstance(templates, list):
            raise ApiUnexpectedAnswer(f"GET {path} answered {_excerpt(context)}, not the enrollment context "
                                      "(Templates, StandaloneCAs) the API documents — check [command] api_path")
        templates = answers.records(templates, _TEMPLATE, f"GET {path}", "template")
        for template in templates:
            answers.records(template.get("CAs") or [], _CA, f"GET {path}", f"CA of template {template.get('Name')}")
        answers.records(context.get("StandaloneCAs") or [], _CA, f"GET {path}", "standalone CA")
        name, ca = self.section.template, self.section.certificate_authority
        found = next((t for t in templates if str(t.get("Name", "")).casefold() == name.casefold()), None)
        if found is None:
            by_display = next((t for t in templates if str(t.get("DisplayName", "")).casefold() == name.casefold()),
                              None)
            hint = f"; '{name}' is the display name of {by_display.get('Name')}" if by_display else ""
            offered = ", ".join(sorted(str(t.get("Name")) for t in templates)) or "none"
            raise self._failed(f"template {name} is not offered for {method} enrollment to this account (GET {path} "
                               f"offers: {offered}{hint}) — set [enrollment] template to the template's short name "
                               "and give the smoke account Enroll permission on it", root_cause=True)
        offered_cas = [str(c.get("Name", "")) for c in [*(found.get("CAs") or []),
                                                        *(context.get("StandaloneCAs") or [])]]
        if offered_cas and ca.casefold() not in (c.casefold() for c in offered_cas):
            raise self._failed(f"CA {ca} does not issue template {name} to this account (GET {path} offers: "
                               f"{', '.join(offered_cas)}) — set [enrollment] certificate_authority to one of them",
                               root_cause=True)
        if found.get("RequiresApproval"):
            raise self._failed(f"template {name} requires approval (RequiresApproval in GET {path}), so nothing was "
                               "submitted — set [enrollment] template to a template that issues without approval",
                               root_cause=True)
        self._templates[method] = found
        return found

    # --- enrolling -----------------------------------------------------------------------------------

    def enroll(self, method: str) -> Issued:
        """Issues one certificate by `method` ("CSR" or "PFX"); EnrollmentFailed says why not, in one line."""
        root = next((f for f in self.failures if f.root_cause), None)
        if root:
            raise Blocked(f"not run: the enrollment failed earlier in this run — {root}")
        self.template_offered(method)
        issued = self._enroll_csr() if method == "CSR" else self._enroll_pfx()
        self.issued.append(issued)
        return issued

    def _common_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "CertificateAuthority": self.section.certificate_authority,
            "Template": self.section.template,
            "IncludeChain": True,
            "Metadata": {},
            "Timestamp": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
        }
        if self.dns_sans:
            body["SANs"] = {"dns": self.dns_sans}
        return body

    def _enroll_csr(self) -> Issued:
        key = certs.new_private_key(self.section.key_type, self.section.key_size)
        csr = certs.build_csr(key, self.subject, self.dns_sans)
        info, scheme, elapsed = self._submit("CSR", {**self._common_body(), "CSR": csr})
        record = self._register("CSR", info)
        try:
            chain = certs.parse_certificates(info.get("Certificates") or [])
        except certs.CertificateError as exc:
            raise self._failed(f"CSR enrollment: {exc}") from None
        return Issued("CSR", record, chain[0], chain[1:], certs.key_matches(key, chain[0]), scheme, elapsed)

    def _enroll_pfx(self) -> Issued:
        password = secrets.token_urlsafe(24)
        evidence.register_secret(password)
        body = {**self._common_body(), "Subject": self.subject, "Password": password,
                "CustomFriendlyName": f"kf-smoke-{self.run_id}"}
        info, scheme, elapsed = self._submit("PFX", body)
        record = self._register("PFX", info)
        blob = info.get("Pkcs12Blob")
        if not isinstance(blob, str) or not blob:
            raise self._failed("the PFX answer holds no Pkcs12Blob although RequestDisposition is ISSUED — check "
                               "that x-certificateformat PFX is honoured and the template allows key retention")
        try:
            key, cert, chain = certs.open_pkcs12(blob, password)
        except certs.CertificateError as exc:
            raise self._failed(f"PFX enrollment: {exc}") from None
        # Opened to validate only: neither the key nor the PKCS#12 outlives this call.
        return Issued("PFX", record, cert, chain, certs.key_matches(key, cert), scheme, elapsed)

    def _submit(self, method: str, body: dict[str, Any]) -> tuple[dict[str, Any], str | None, int]:
        path = ENROLL_PATH[method]
        self.submitted += 1  # from here on the cleanup searches for this run's certificates
        interrupts.watch(self)
        started = time.monotonic()
        try:
            response = self.client.request("POST", path, json_body=body, expect=_ANY_STATUS,
                                           headers={"x-certificateformat": CERTIFICATE_FORMAT[method]})
        except ApiUnreachable as exc:
            if "within" not in str(exc):
                raise
            raise self._failed(f"the {method} enrollment got no answer within {self.client.timeout_s:g}s — the CA "
                               "or Keyfactor is slow or hangs (raise [command] timeout_s if enrollment is normally "
                               f"slow); a certificate issued meanwhile is revoked at the end of run {self.run_id}",
                               root_cause=True) from None
        elapsed = int((time.monotonic() - started) * 1000)
        scheme = self.client.scheme_of(response)
        answer = _json_body(response)
        if response.status_code != 200:
            raise self._refused(method, response.status_code, answer, response)
        info = answer.get("CertificateInformation") if isinstance(answer, dict) else None
        if not isinstance(info, dict):
            raise self._failed(f"POST {path} answered 200 with {_excerpt(answer)}, not the CertificateInformation "
                               "the API documents — check [command] api_path and what answers for it")
        try:
            answers.record(info, _INFORMATION, f"POST {path}", "CertificateInformation")
            for number, pem in enumerate(info.get("Certificates") or [], start=1):
                answers.expect(pem, "string", f"POST {path}", f"certificate {number} of CertificateInformation")
        except ApiUnexpectedAnswer as exc:
            raise self._failed(f"{exc} (a certificate issued meanwhile is revoked at the end of run "
                               f"{self.run_id})") from None
        disposition = str(info.get("RequestDisposition") or "")
        if disposition.upper() != ISSUED:
            raise self._not_issued(method, disposition, info)
        return info, scheme, elapsed

    def _register(self, method: str, info: dict[str, Any]) -> SmokeCertificate:
        field = ID_FIELD[method]
        number = _positive_int(info.get(field))
        if number is None:
            present = ", ".join(sorted(info)) or "none"
            raise self._failed(f"the {method} answer has no {field} (fields: {present}), so the certificate cannot be "
                               f"revoked by id — the cleanup searches for run {self.run_id} instead")
        record = SmokeCertificate(number, str(info.get("SerialNumber") or "?"), str(info.get("Thumbprint") or "?"),
                                  f"{method} enrollment")
        self.certificates.append(record)
        return record

    def _refused(self, method: str, status: int, answer: Any, response: requests.Response) -> EnrollmentFailed:
        detail = _error_detail(answer, response)
        text = f"{answer.get('ErrorCode') if isinstance(answer, dict) else ''} {detail}".lower()
        ca, host = self.section.certificate_authority, self.section.certificate_authority.split("\\", 1)[0]
        if any(signal in text for signal in _CA_DOWN):
            return self._failed(f"the CA {ca} did not answer the {method} enrollment ({detail}) — check that the CA "
                                f"service (certsvc) runs on {host} and that the Keyfactor server reaches it over RPC "
                                "(TCP 135 and the dynamic RPC ports)", root_cause=True)
        if any(signal in text for signal in _DELEGATION):
            return self._failed(f"the {method} enrollment failed with a Kerberos delegation error from the CA "
                                f"({detail}) while other API calls work — put the HTTP SPN on the Keyfactor "
                                "app-pool account (setspn -L) and trust that account for constrained delegation to "
                                f"HOST and rpcss on {host}", root_cause=True)
        if any(signal in text for signal in _DENIED):
            return self._failed(f"the CA refused the {method} enrollment ({detail}) — give the smoke account Enroll "
                                f"permission on template {self.section.template}; if it has it, check the SPN on the "
                                f"app-pool account and constrained delegation to {host}", root_cause=True)
        return self._failed(f"POST {ENROLL_PATH[method]} answered {status}: {detail} — check [enrollment] template, "
                            "subject, dns_sans and key settings against what the template allows")

    def _not_issued(self, method: str, disposition: str, info: dict[str, Any]) -> EnrollmentFailed:
        said = str(info.get("DispositionMessage") or "").strip()
        request_id = info.get("KeyfactorRequestId")
        shown = f"RequestDisposition {disposition or '(empty)'}" + (f": {said}" if said else "")
        if any(word in disposition.upper() for word in _HELD):
            return self._failed(
                f"the {method} enrollment was held for approval ({shown}, request {request_id}) — template "
                f"{self.section.template} or CA {self.section.certificate_authority} holds requests for a manager: "
                "set [enrollment] template to a template that issues without approval (no CA certificate manager "
                f"approval, no approval workflow); {self._deny(request_id)}", root_cause=True)
        return self._failed(f"the CA did not issue the {method} enrollment ({shown}) — check the CA's policy module "
                            "and the template's issuance requirements", root_cause=True)

    def _deny(self, request_id: Any) -> str:
        """Denies the pending request this run created, so that nothing waits in the approval queue."""
        if not _is_int(request_id) or request_id <= 0:
            return "deny the pending request by hand (Workflow > Certificate Requests)"
        try:
            answer = self.client.post_json("/Workflow/Certificates/Deny",
                                           {"CertificateRequestIds": [request_id], "Comment": self.comment})
        except SmokeError as exc:
            return (f"deny pending request {request_id} by hand (Workflow > Certificate Requests): the suite could "
                    f"not ({exc})")
        handled = answer if isinstance(answer, dict) else {}
        done = [p.get("KeyfactorRequestId") for key in ("Successes", "Denials") for p in handled.get(key) or []
                if isinstance(p, dict)]
        if request_id in done:
            return f"the suite denied pending request {request_id}, so nothing is left waiting"
        return f"deny pending request {request_id} by hand (Workflow > Certificate Requests)"

    def _failed(self, message: str, root_cause: bool = False) -> EnrollmentFailed:
        failure = EnrollmentFailed(message, root_cause)
        self.failures.append(failure)
        return failure

    # --- what came back ------------------------------------------------------------------------------

    def require_issued(self) -> list[Issued]:
        if self.issued:
            return self.issued
        if self.failures:
            raise Blocked(f"not run: the enrollment failed earlier in this run — {self.failures[-1]}")
        raise Blocked("not run: no certificate was issued in this run (the enrollment checks did not run)")

    def problems(self, issued: Issued) -> list[str]:
        """What is wrong with one issued certificate, one short line each; empty when it is as requested."""
        cert, chain = issued.certificate, issued.chain
        found: list[str] = []
        if chain:
            anchors = [c for c in chain if c.subject == c.issuer] or chain
            found += certs.validate_issued(
                cert, expected_subject=self.subject, expected_dns_sans=self.dns_sans, issuer_certs=anchors,
                expected_key_type=self.section.key_type, expected_key_size=self.section.key_size, intermediates=chain,
            )
        else:
            found.append("no CA chain came back although IncludeChain was requested, so the issuer is not verified")
        issuer = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not issuer or str(issuer[0].value).casefold() != self.ca_logical_name.casefold():
            found.append(f"issued by '{names.dn_text(cert.issuer)}', not by the configured CA {self.ca_logical_name}")
        if not issued.key_matches:
            found.append("the request's key does not match the certificate's public key" if issued.method == "CSR"
                         else "the PKCS#12's private key does not belong to its certificate")
        record = issued.record
        if record.thumbprint.upper() != certs.thumbprint(cert):
            found.append(f"the answer's Thumbprint {record.thumbprint} is not the certificate's "
                         f"{certs.thumbprint(cert)}")
        stored = self._stored(record.keyfactor_id)
        stored_thumbprint = str(stored.get("Thumbprint"))
        if stored_thumbprint.upper() != certs.thumbprint(cert):
            found.append(f"Keyfactor's record {record.keyfactor_id} (GET /Certificates/{record.keyfactor_id}) has "
                         f"thumbprint {stored_thumbprint}, not the issued certificate's")
        return [f"{issued.method}: {problem}" for problem in found]

    # --- revoking ------------------------------------------------------------------------------------

    def revoke(self) -> list[SmokeCertificate]:
        """Revokes every certificate of this run not yet revoked and confirms each through GET /Certificates/{id}.
        RevocationFailed names each one left valid (id, serial, thumbprint) for a manual revocation."""
        done = [c for c in self.certificates if not c.revoked]
        failed = self._revoke_pending()
        if failed:
            for cert in failed:
                cert.reported = True
            raise RevocationFailed(self._by_hand(failed))
        return done

    def _revoke_pending(self) -> list[SmokeCertificate]:
        pending = [c for c in self.certificates if not c.revoked]
        for cert in pending:
            try:
                self._revoke_one(cert)
            except SmokeError as exc:
                cert.problem = str(exc)
        return [c for c in pending if not c.revoked]

    def _revoke_one(self, cert: SmokeCertificate) -> None:
        number = cert.keyfactor_id
        response = self.client.request("POST", "/Certificates/Revoke", expect=_ANY_STATUS, json_body={
            "CertificateIds": [number], "Reason": self.section.revoke_reason, "Comment": self.comment,
        })
        answer = _json_body(response)
        if response.status_code != 200:
            cert.problem = f"{response.status_code}: {_error_detail(answer, response)}"
            return
        answer = answer if isinstance(answer, dict) else {}
        if number not in (answers.field(answer, "RevokedIds", "list", "POST /Certificates/Revoke") or []):
            waiting = [s for s in answer.get("SuspendedCerts") or []
                       if isinstance(s, dict) and s.get("CertId") == number]
            cert.problem = (f"the revocation waits for workflow approval ({waiting[0].get('Message')})" if waiting
                            else f"Revoke did not list it in RevokedIds ({_excerpt(answer)})")
            return
        stored = self._stored(number)
        state = stored.get("CertState")
        state_text = str(stored.get("CertStateString") or "")
        if state == REVOKED_STATE or "revoked" in state_text.lower():
            cert.revoked, cert.problem = True, None
        else:
            cert.problem = f"GET /Certificates/{number} still shows CertState {state} ({state_text}) after revoking"

    def _stored(self, number: int) -> dict[str, Any]:
        path = f"/Certificates/{number}"
        return answers.record(self.client.get_json(path), _STORED, f"GET {path}")

    def _by_hand(self, left: list[SmokeCertificate]) -> str:
        by_problem: dict[str, list[str]] = {}
        for cert in left:
            by_problem.setdefault(cert.problem or "not revoked", []).append(cert.named())
        listed = "; ".join(f"{', '.join(names)} ({problem})" for problem, names in by_problem.items())
        reason = self.section.revoke_reason
        return (f"smoke certificates still valid: {listed} — revoke it by hand: Certificate Search > id > Revoke, or "
                f"certutil -revoke <serial> {reason} on the CA")

    # --- always, at the end --------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Revokes whatever this run issued and has not revoked yet, including certificates found by the run id
        whose enrollment answer never arrived. RevocationFailed for anything left valid that no check reported.
        A stop signal does not cut it short (it is said, and acted on afterwards)."""
        if not self.submitted:
            return
        stopped_by = interrupts.stopped_by()
        if stopped_by:
            interrupts.say(f"{stopped_by}: revoking the smoke certificates of run {self.run_id} before stopping — a "
                           f"second Ctrl-C does not cut this short; if the process is killed, {self.left_by_hand()}")
        with interrupts.shielded():
            self._clean_up()

    def _clean_up(self) -> None:
        search_problem = None
        try:
            with _despite_earlier_failures(self.client):
                try:
                    self._search_by_run_id()
                    self.searched = True
                except SmokeError as exc:
                    search_problem = str(exc)
                failed = self._revoke_pending()
        except KeyboardInterrupt:  # where no stop signal is shielded (the library used outside the suite)
            sys.stderr.write(f"\nInterrupted while revoking the smoke certificates of run {self.run_id}; "
                             f"{self.left_by_hand()}\n")
            raise
        unreported = [c for c in failed if not c.reported]
        for cert in unreported:
            cert.reported = True
        lines = [self._by_hand(unreported)] if unreported else []
        if search_problem:
            lines.append(f"could not search for certificates of run {self.run_id} ({search_problem}) — revoke it by "
                         f"hand if Certificate Search finds any with IssuedDN contains \"{self.run_id}\"")
        if lines:
            raise RevocationFailed("; ".join(lines))

    def _search_by_run_id(self) -> None:
        known = {c.keyfactor_id for c in self.certificates}
        for item in self.client.pages("/Certificates", query=f'IssuedDN -contains "{self.run_id}"'):
            number = _positive_int(item.get("Id") if isinstance(item, dict) else None)
            if number is not None and number not in known:
                self.certificates.append(SmokeCertificate(
                    number, str(item.get("SerialNumber")), str(item.get("Thumbprint")),
                    "found by its run id after an enrollment whose answer never arrived",
                ))

    def left_by_hand(self) -> str | None:
        """What to revoke by hand if the cleanup were cut short now; None once everything is revoked."""
        left = [c.named() for c in self.certificates if not c.revoked]
        if not self.submitted or (self.searched and not left):
            return None
        known = f" (known: {', '.join(left)})" if left else ""
        return (f"revoke by hand the smoke certificates of run {self.run_id}: whatever Certificate Search finds for "
                f"IssuedDN contains \"{self.run_id}\"{known}")

    def summary(self) -> str:
        """Issued counts every certificate the CA issued for this run, also one whose answer never arrived."""
        revoked = [str(c.keyfactor_id) for c in self.certificates if c.revoked]
        left = [str(c.keyfactor_id) for c in self.certificates if not c.revoked]
        text = f"run {self.run_id}: {len(self.certificates)} issued, {len(revoked)} revoked"
        return text + (f" (ids {', '.join(revoked)})" if revoked else "") + (
            f", still valid: {', '.join(left)}" if left else "")


def kerberos_problem(issued: Issued) -> str | None:
    """None when the API accepted the enrollment over Kerberos; else the one line saying why that matters."""
    if issued.scheme and issued.scheme.startswith("Kerberos"):
        return None
    return (f"the API accepted the {issued.method} enrollment with {issued.scheme or 'no authentication'}, not "
            "Kerberos — NTLM cannot be delegated to the CA, so enrollment fails for users who come in with it: check "
            "the SPN (setspn -Q HTTP/<host>), that the client gets a service ticket (klist), and that IIS offers "
            "Negotiate")


@contextmanager
def _despite_earlier_failures(client: KeyfactorClient) -> Iterator[None]:
    """The cleanup tries even after a call failed: a timed-out enrollment may still have issued a certificate."""
    with client.prerequisite.suspended():
        yield


def _json_body(response: requests.Response) -> Any:
    if "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_detail(answer: Any, response: requests.Response) -> str:
    """Keyfactor's {"ErrorCode", "Message"} as one short text (the code only when the message lacks it)."""
    code = str(answer.get("ErrorCode") or "") if isinstance(answer, dict) else ""
    message = str(answer.get("Message") or "").strip() if isinstance(answer, dict) else ""
    detail = message if code.lower() in message.lower() else f"{code} {message}".strip()
    detail = detail or f"{response.headers.get('Content-Type', 'no body')} body"
    return detail if len(detail) <= 160 else detail[:157] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> int | None:
    return value if _is_int(value) and value > 0 else None


def _excerpt(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    text = evidence.redact(" ".join(text.split()))
    return text if len(text) <= 120 else text[:117] + "..."
