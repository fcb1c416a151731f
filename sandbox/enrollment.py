"""Enrollment on the sandbox: the enrollment context, CSR and PFX enrollment with real issuance by the sandbox's
issuing CA, the certificate records Keyfactor keeps (GET /Certificates, GET /Certificates/{id}), revocation
(POST /Certificates/Revoke) and the CA-approval queue (POST /Workflow/Certificates/Deny).

Strict where Keyfactor is (shared/keyfactor-openapi/openapi.yaml, keyfactor-api-notes §1.6, §1.7):
- `x-certificateformat` is required: PEM|DER for CSR enrollment, PFX|Zip|STORE for PFX enrollment (the sandbox
  serves PEM, DER and PFX, and refuses Zip and STORE rather than pretend);
- `CSR` is required; so are `CertificateAuthority` and `Template`, which the sandbox cannot guess;
  a revocation needs `CertificateIds` and `Comment`;
- answers use the 10.x field names: `KeyfactorID` in CSR answers, `KeyfactorId` in PFX answers;
- GET /Certificates reads only `pq.` names (ASP.NET ignores the others), leaves revoked and expired certificates
  out unless pq.includeRevoked / pq.includeExpired are true, and counts them in X-Total-Count (sandbox/listing.py).

Faults: ca-unreachable, delegation-broken (only callers that came in with Kerberos: with Basic, IIS holds the
password and needs no delegation), approval-required, revoke-fails, ca-slow=SECONDS, revoke-slow=SECONDS.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from . import certificate_fields, issuance
from .api import KeyfactorApi, error, net_time
from .faults import ActiveFaults
from .issuance import EnrollmentRefused
from .listing import Listing
from .pki import SandboxPKI
from .templates import DEFAULT_TEMPLATES, Template, find_template
from .web import Request, Response, json_response

CA_HOST = "ca01.corp.example.com"
ACTIVE, REVOKED = 1, 2  # CertState
STATE_NAMES = {ACTIVE: "Active", REVOKED: "Revoked"}
REVOCATION_REASONS = (0, 1, 2, 3, 4, 5, 6, 8, 999, -1)  # the spec's enum
BAD_REQUEST = "0xA0110001"

# What the Microsoft CA says, relayed by Keyfactor, for each fault.
RPC_UNAVAILABLE = ("0x800706BA", "The RPC server is unavailable. 0x800706ba (WIN32: 1722 RPC_S_SERVER_UNAVAILABLE)")
NO_LOGON_SESSION = ("0x80070520", "A specified logon session does not exist. It may already have been terminated. "
                                  "0x80070520 (WIN32: 1312 ERROR_NO_SUCH_LOGON_SESSION)")
ACCESS_DENIED = ("0x80070005", "Access is denied. 0x80070005 (WIN32: 5 ERROR_ACCESS_DENIED)")
TAKEN_UNDER_SUBMISSION = "Taken Under Submission"


@dataclass
class Record:
    """A certificate as Keyfactor's database keeps it."""

    id: int
    cert: x509.Certificate
    template: Template
    request_id: int
    ca_row: int
    requester: str
    imported: dt.datetime
    has_private_key: bool
    metadata: dict[str, str] = field(default_factory=dict)
    state: int = ACTIVE
    revoked_at: dt.datetime | None = None
    revocation_reason: int | None = None
    revocation_comment: str | None = None

    @property
    def issued_cn(self) -> str:
        values = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(values[0].value) if values else ""


@dataclass
class PendingRequest:
    request_id: int
    ca_row: int
    template: Template
    subject: str
    requester: str
    denied: bool = False
    comment: str = ""


class Invalid(Exception):
    """A request the API refuses with 400; the message is Keyfactor-style."""


class EnrollmentService:
    def __init__(self, faults: ActiveFaults, pki: SandboxPKI) -> None:
        self.faults = faults
        self.ca = pki.issuing
        self.root = pki.root.cert
        self.ca_logical_name = _common_name(pki.issuing.cert.subject)
        self.ca_name = f"{CA_HOST}\\{self.ca_logical_name}"
        self.templates = DEFAULT_TEMPLATES
        self.records: dict[int, Record] = {}
        self.pending: dict[int, PendingRequest] = {}
        # What PFX enrollments received and served, so that self-tests can prove none of it reaches a report.
        self.pfx_passwords: list[str] = []
        self.pfx_blobs: list[str] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1201)
        self._request_ids = itertools.count(8401)
        self._ca_rows = itertools.count(20001)

    def mount(self, api: KeyfactorApi) -> None:
        api.get("/Enrollment/CSR/Context/My", lambda request: self.context(lambda t: t.allows_csr))
        api.get("/Enrollment/PFX/Context/My", lambda request: self.context(lambda t: t.allows_pfx))
        api.route("POST", "/Enrollment/CSR", self._refusing_invalid(self.enroll_csr))
        api.route("POST", "/Enrollment/PFX", self._refusing_invalid(self.enroll_pfx))
        api.route("POST", "/Certificates/Revoke", self._refusing_invalid(self.revoke))
        api.get("/Certificates", self._refusing_invalid(self.certificates))
        api.get("/Certificates/(?P<id>[^/]+)", self._refusing_invalid(self.certificate))
        api.endpoints[-1] = "GET /Certificates/{id}"
        api.route("POST", "/Workflow/Certificates/Deny", self._refusing_invalid(self.deny))

    @staticmethod
    def _refusing_invalid(handler: Callable[..., Response]) -> Callable[..., Response]:
        def guarded(request: Request, **params: str) -> Response:
            try:
                return handler(request, **params)
            except Invalid as exc:
                return error(400, BAD_REQUEST, str(exc))

        return guarded

    # --- enrollment ----------------------------------------------------------------------------------

    def context(self, offered: Callable[[Template], bool]) -> Response:
        """EnrollmentTemplateCAResponse: the templates this caller may enroll for, each with its CAs."""
        # approval-required holds requests at the CA (its policy module): the template data does not show it.
        templates = [t.enrollment_template([self.ca_name]) for t in self.templates if offered(t)]
        return json_response(200, {"Templates": templates, "StandaloneCAs": []})

    def enroll_csr(self, request: Request) -> Response:
        certificate_format = _format(request, ("PEM", "DER"), "CSR")
        body = _json_object(request)
        csr = _typed(body, "CSR", str)
        if not csr or not csr.strip():
            raise Invalid("The CSR is required.")
        template, sans, include_chain, metadata = self._common_fields(body)
        refused = self._ca_refusal(request, "CCertRequest::Submit")
        if refused:
            return refused
        if self._held_for_approval(template):
            return self._pending_answer(request, template, _csr_subject(csr), "KeyfactorID",
                                        {"Certificates": []})
        try:
            cert = issuance.issue_from_csr(self.ca, csr, template, sans=sans)
        except EnrollmentRefused as exc:
            return error(400, BAD_REQUEST, exc.message)
        record = self._record(cert, template, request, has_private_key=False, metadata=metadata)
        self._slow_ca()
        info = certificate_fields.csr_certificate_information(
            cert, self.ca, keyfactor_id=record.id, root=self.root, include_chain=include_chain,
            certificate_format=certificate_format, request_id=record.request_id,
        )
        return json_response(200, {"CertificateInformation": info, "Metadata": metadata})

    def enroll_pfx(self, request: Request) -> Response:
        if _format(request, ("PFX", "ZIP", "STORE"), "PFX") != "PFX":
            raise Invalid("The sandbox delivers PFX enrollments only as x-certificateformat: PFX (Zip and STORE "
                          "are not implemented).")
        body = _json_object(request)
        subject = _typed(body, "Subject", str)
        if not subject or not subject.strip():
            raise Invalid("The Subject is required for PFX enrollment.")
        password = _typed(body, "Password", str) or ""
        _typed(body, "CustomFriendlyName", str)
        _typed(body, "PopulateMissingValuesFromAD", bool)
        template, sans, include_chain, metadata = self._common_fields(body)
        refused = self._ca_refusal(request, "CCertRequest::Submit")
        if refused:
            return refused
        if self._held_for_approval(template):
            return self._pending_answer(request, template, subject, "KeyfactorId", {"Pkcs12Blob": "", "Password": ""})
        try:
            blob, cert = issuance.issue_pfx(
                self.ca, template, subject, sans, password, include_chain, root=self.root,
                friendly_name=body.get("CustomFriendlyName") or None,
            )
        except EnrollmentRefused as exc:
            return error(400, BAD_REQUEST, exc.message)
        record = self._record(cert, template, request, has_private_key=True, metadata=metadata)
        info = certificate_fields.pfx_certificate_information(blob, cert, self.ca, keyfactor_id=record.id,
                                                              request_id=record.request_id)
        with self._lock:
            self.pfx_passwords.append(password)
            self.pfx_blobs.append(info["Pkcs12Blob"])
        self._slow_ca()
        return json_response(200, {"CertificateInformation": info, "Metadata": metadata})

    def _common_fields(
        self, body: dict[str, Any]
    ) -> tuple[Template, dict[str, list[str]] | None, bool, dict[str, str]]:
        authority = _typed(body, "CertificateAuthority", str)
        if not authority:
            raise Invalid("A certificate authority is required: name it as <host>\\<logical name>.")
        if authority.strip().casefold() != self.ca_name.casefold():
            raise Invalid(f"The certificate authority '{authority}' could not be found.")
        name = _typed(body, "Template", str)
        if not name:
            raise Invalid("A template is required.")
        template = find_template(name, self.templates)
        if template is None:
            raise Invalid(f"The template '{name}' could not be found for {self.ca_name}.")
        sans = _typed(body, "SANs", dict)
        if sans is not None and not all(isinstance(v, list) for v in sans.values()):
            raise Invalid("The value of 'SANs' is not valid: each SAN type takes a list of strings.")
        include_chain = bool(_typed(body, "IncludeChain", bool))
        metadata = _typed(body, "Metadata", dict) or {}
        _typed(body, "AdditionalEnrollmentFields", dict)
        timestamp = _typed(body, "Timestamp", str)
        if timestamp is not None and _date_time(timestamp) is None:
            raise Invalid(f"The value '{timestamp}' is not valid for Timestamp.")
        return template, sans, include_chain, {str(k): str(v) for k, v in metadata.items()}

    def _ca_refusal(self, request: Request, call: str) -> Response | None:
        if self.faults.on("ca-unreachable"):
            code, text = RPC_UNAVAILABLE
            return error(400, code, f"Unable to connect to {self.ca_name}: {call}: {text}")
        if self.faults.on("delegation-broken") and request.scheme == "Negotiate":
            # The app pool holds only a service ticket for itself, so the CA sees no logon session for the caller.
            code, text = NO_LOGON_SESSION
            return error(400, code, f"{call}: {text}")
        return None

    def _held_for_approval(self, template: Template) -> bool:
        return template.requires_approval or self.faults.on("approval-required")

    def _pending_answer(self, request: Request, template: Template, subject: str, id_field: str,
                        content: dict[str, Any]) -> Response:
        with self._lock:
            pending = PendingRequest(next(self._request_ids), next(self._ca_rows), template, subject,
                                     request.user or "")
            self.pending[pending.request_id] = pending
        info = {
            "SerialNumber": "",
            "IssuerDN": None,
            "Thumbprint": "",
            id_field: 0,
            **content,
            "KeyfactorRequestId": pending.request_id,
            "RequestDisposition": "PENDING",
            "DispositionMessage": TAKEN_UNDER_SUBMISSION,
            "EnrollmentContext": None,
        }
        return json_response(200, {"CertificateInformation": info, "Metadata": {}})

    def _record(self, cert: x509.Certificate, template: Template, request: Request, *, has_private_key: bool,
                metadata: dict[str, str]) -> Record:
        with self._lock:
            record = Record(next(self._ids), cert, template, next(self._request_ids), next(self._ca_rows),
                            request.user or "", dt.datetime.now(dt.UTC), has_private_key, metadata)
            self.records[record.id] = record
        return record

    def _slow_ca(self) -> None:
        # Issued and recorded, but the answer is late: a client that gives up meanwhile leaves a certificate behind.
        seconds = self.faults.seconds("ca-slow")
        if seconds:
            time.sleep(seconds)

    # --- certificates --------------------------------------------------------------------------------

    def certificate(self, request: Request, id: str) -> Response:
        number = _int_text(id, "id")
        for name in ("includeLocations", "includeMetadata"):
            _bool_param(request, name)
        for name in ("collectionId", "verbose"):
            _int_param(request, name)
        record = self.records.get(number)
        if record is None:
            return error(404, "0xA0100002", f"Certificate with ID {number} could not be found.")
        return json_response(200, self._response(record))

    def certificates(self, request: Request) -> Response:
        for name in ("includeLocations", "includeMetadata", "includeHasPrivateKey"):
            _bool_param(request, name)
        for name in ("collectionId", "verbose"):
            _int_param(request, name)
        include_revoked = _bool_param(request, "pq.includeRevoked")
        include_expired = _bool_param(request, "pq.includeExpired")
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            found = sorted(self.records.values(), key=lambda r: r.id)
        found = [r for r in found if (include_revoked or r.state != REVOKED)
                 and (include_expired or r.cert.not_valid_after_utc > now)]
        return Listing("pq.", lambda: found, self._response, _FIELDS, "Id").answer(request)

    def _response(self, record: Record) -> dict[str, Any]:
        """CertificateRetrievalResponse."""
        fields = certificate_fields.keyfactor_fields(record.cert, self.ca)
        return {
            "Id": record.id,
            **fields,
            "ImportDate": net_time(record.imported),
            "PrincipalId": None,
            "TemplateId": record.template.id,
            "CertState": record.state,
            "CertStateString": f"{STATE_NAMES[record.state]} ({record.state})",  # "Active (1)" as recorded on 25.4
            "RequesterId": 1,
            "RevocationEffDate": net_time(record.revoked_at) if record.revoked_at else None,
            "RevocationReason": record.revocation_reason,  # null until revoked, as recorded (the spec's enum lacks it)
            "RevocationComment": record.revocation_comment,
            "CertificateAuthorityId": 1,
            "CertificateAuthorityName": self.ca_name,
            "TemplateName": record.template.template_name,
            "ArchivedKey": record.has_private_key,
            "HasPrivateKey": record.has_private_key,
            "PrincipalName": None,
            "CertRequestId": record.request_id,
            "RequesterName": record.requester,
            "LocationsCount": [],
            "SSLLocations": [],
            "Locations": [],
            "Metadata": dict(record.metadata),
            "CertificateKeyId": record.id,
            "CARowIndex": record.ca_row,
            "CARecordId": str(record.ca_row),
            "KeyRecoverable": record.has_private_key,
        }

    def revoke(self, request: Request) -> Response:
        body = _json_object(request)
        ids = body.get("CertificateIds")
        if not isinstance(ids, list) or not ids or not all(_is_int(i) for i in ids):
            raise Invalid("CertificateIds is required: a list of certificate IDs.")
        comment = _typed(body, "Comment", str)
        if not comment or not comment.strip():
            raise Invalid("A comment is required to revoke certificates.")
        reason = body.get("Reason", 0)
        if not _is_int(reason) or reason not in REVOCATION_REASONS:
            raise Invalid(f"The value '{reason}' is not valid for Reason.")
        effective_text = _typed(body, "EffectiveDate", str)
        effective = _date_time(effective_text) if effective_text is not None else dt.datetime.now(dt.UTC)
        if effective is None:
            raise Invalid(f"The value '{effective_text}' is not valid for EffectiveDate.")
        _typed(body, "CollectionId", int)
        with self._lock:
            records = []
            for number in ids:
                record = self.records.get(number)
                if record is None:
                    raise Invalid(f"Certificate with ID {number} could not be found.")
                if record.state == REVOKED:
                    raise Invalid(f"The certificate with ID {number} is already revoked.")
                records.append(record)
        refused = self._ca_refusal(request, "CCertAdmin::RevokeCertificate")
        if refused:
            return refused
        seconds = self.faults.seconds("revoke-slow")
        if seconds:
            time.sleep(seconds)
        if self.faults.on("revoke-fails"):
            code, text = ACCESS_DENIED
            return error(400, code, f"CCertAdmin::RevokeCertificate: {text}")
        with self._lock:
            for record in records:
                record.state, record.revoked_at = REVOKED, effective
                record.revocation_reason, record.revocation_comment = reason, comment
        return json_response(200, {"RevokedIds": [r.id for r in records], "SuspendedCerts": []})

    def deny(self, request: Request) -> Response:
        body = _json_object(request)
        ids = body.get("CertificateRequestIds")
        if not isinstance(ids, list) or not ids or not all(_is_int(i) for i in ids):
            raise Invalid("CertificateRequestIds is required: a list of certificate request IDs.")
        comment = _typed(body, "Comment", str) or ""
        successes, failures = [], []
        with self._lock:
            for number in ids:
                pending = self.pending.get(number)
                row = pending.ca_row if pending else 0
                processed = {"CARowId": row, "CARequestId": str(row), "CAHost": CA_HOST,
                             "CALogicalName": self.ca_logical_name, "KeyfactorRequestId": number, "Comment": comment}
                if pending and not pending.denied:
                    pending.denied, pending.comment = True, comment
                    successes.append(processed)
                else:
                    failures.append(processed)
        # How a Deny call splits Successes and Denials is not documented; denied requests count as Successes here.
        return json_response(200, {"Successes": successes, "Denials": [], "Failures": failures})


# --- request reading ---------------------------------------------------------------------------------


def _format(request: Request, allowed: tuple[str, ...], kind: str) -> str:
    value = request.header("x-certificateformat")
    if not value:
        raise Invalid("The 'x-certificateformat' header is required.")
    if value.strip().upper() not in allowed:
        raise Invalid(f"The certificate format '{value}' is not valid for {kind} enrollment "
                      f"(expected {', '.join(allowed)}).")
    return value.strip().upper()


def _json_object(request: Request) -> dict[str, Any]:
    if not request.body:
        raise Invalid("The request body is required.")
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError):
        raise Invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Invalid("The request body must be a JSON object.")
    return body


def _typed(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is None:
        return None
    ok = _is_int(value) if kind is int else isinstance(value, kind)
    if not ok:
        raise Invalid(f"The value of '{name}' is not valid.")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_text(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"The value '{text}' is not valid for {name}.") from None


def _int_param(request: Request, name: str) -> int | None:
    text = request.param(name)
    return None if text in (None, "") else _int_text(text, name)  # type: ignore[arg-type]


def _bool_param(request: Request, name: str) -> bool:
    text = request.param(name)
    if text in (None, ""):
        return False
    if text.lower() not in ("true", "false"):  # type: ignore[union-attr]
        raise Invalid(f"The value '{text}' is not valid for {name}.")
    return text.lower() == "true"  # type: ignore[union-attr]


def _date_time(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _csr_subject(csr: str) -> str:
    try:
        if "-----BEGIN" in csr:
            return x509.load_pem_x509_csr(csr.encode("ascii")).subject.rfc4514_string()
    except ValueError:
        pass
    return ""


# --- Keyfactor's query language, as far as certificate searches need it ------------------------------

_FIELDS: dict[str, Callable[[Record], Any]] = {
    "id": lambda r: r.id,
    "issuedcn": lambda r: r.issued_cn,
    "issueddn": lambda r: certificate_fields.keyfactor_dn(r.cert.subject),
    "thumbprint": lambda r: certificate_fields.thumbprint(r.cert),
    "serialnumber": lambda r: certificate_fields.serial_number(r.cert),
    "certstate": lambda r: r.state,
    "templateshortname": lambda r: r.template.common_name,
    "importdate": lambda r: r.imported,
    "notafter": lambda r: r.cert.not_valid_after_utc,
}
def mount(api: KeyfactorApi, pki: SandboxPKI) -> EnrollmentService:
    """Serves enrollment, certificates and revocation with `pki`'s issuing CA; the service keeps what it received."""
    service = EnrollmentService(api.faults, pki)
    service.mount(api)
    return service
