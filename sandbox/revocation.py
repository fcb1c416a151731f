"""Revocation: the CRL distribution points and the OCSP responder of the sandbox's CAs, served over plain HTTP on
loopback as a CA's web server serves them, and GET /Monitoring/Revocation (`pagedQuery.`) listing them.

Real and signed: the root CA's CRL by the root, the issuing CA's CRL (with every certificate the sandbox revoked) by
the issuing CA, OCSP answers built with cryptography's OCSP builder and signed by an OCSP Response Signing
certificate the issuing CA issued (carried in the answer, as a Microsoft Online Responder does). A request about
another CA is "unauthorized", a malformed one "malformed request".

Endpoints (RevocationMonitoringDefinitionResponse; query fields DisplayName/Name, EndpointType 1 CRL 2 OCSP, Url,
WarningDays, ShowOnDashboard, SendWarning, DashboardWarningValue; default sort Name): the two CRLs, a copy of the
issuing CA's CRL on a second web server (web02), its LDAP location, the OCSP responder; KF_SANDBOX_REVOCATION_ENDPOINTS
raises the total with more copies of the issuing CA's CRL (bench/).

Faults: crl-expired (the issuing CA stopped publishing: its CRL expired a day ago), crl-unreachable (web02 accepts the
connection and never answers), ocsp-down (the responder's application pool is stopped: 503).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .api import KeyfactorApi
from .enrollment import REVOKED, EnrollmentService
from .faults import ActiveFaults
from .handover import Handover
from .listing import Listing
from .pki import CertificateAuthority, SandboxPKI, pem
from .web import reserve_port, serve

ENDPOINTS_ENV = "KF_SANDBOX_REVOCATION_ENDPOINTS"
CRL_TYPE, OCSP_TYPE = "CRL", "OCSP"
TYPE_CODES = {CRL_TYPE: 1, OCSP_TYPE: 2}
HANG_S = 600.0  # crl-unreachable: how long web02 keeps a connection without answering (until the sandbox stops)
LDAP = ("ldap:///CN=Keyfactor%20Smoke%20Sandbox%20Issuing%20CA%201,CN=ca01,CN=CDP,CN=Public%20Key%20Services,"
        "CN=Services,CN=Configuration,DC=corp,DC=example,DC=com?certificateRevocationList?base?"
        "objectClass=cRLDistributionPoint")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def responder_certificate(issuing: CertificateAuthority) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """An OCSP Response Signing certificate, as a CA issues one to its Online Responder."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Keyfactor Smoke Sandbox"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, "ocsp01.corp.example.com")]))
        .issuer_name(issuing.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=14))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .sign(issuing.key, hashes.SHA256())
    )
    return cert, key


@dataclass(frozen=True)
class Endpoint:
    id: int
    name: str
    kind: str
    location: str
    ocsp_parameters: dict[str, Any] | None = None

    def response(self) -> dict[str, Any]:
        """KeyfactorApi.Models.Monitoring.RevocationMonitoringDefinitionResponse."""
        return {
            "Id": self.id,
            "Name": self.name,
            "EndpointType": self.kind,
            "Location": self.location,
            "Email": {"EnableReminder": self.kind == CRL_TYPE, "WarningDays": 2,
                      "Recipients": ["pki-team@corp.example.com"]},
            "Dashboard": {"Show": True, "WarningHours": 24},
            "Schedule": {"Interval": {"Minutes": 60}},
            "OCSPParameters": self.ocsp_parameters,
        }


class Publisher:
    """What the CA's web servers and its Online Responder answer."""

    def __init__(self, pki: SandboxPKI, enrollment: EnrollmentService, faults: ActiveFaults) -> None:
        self.pki, self.enrollment, self.faults = pki, enrollment, faults
        self.responder, self.responder_key = responder_certificate(pki.issuing)
        self.stopping = threading.Event()

    def crl(self, ca: CertificateAuthority) -> bytes:
        now = _now()
        last, following = now - dt.timedelta(hours=1), now + dt.timedelta(days=7)
        if ca is self.pki.issuing and self.faults.on("crl-expired"):
            last, following = now - dt.timedelta(days=8), now - dt.timedelta(days=1)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject).last_update(last)
                   .next_update(following)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False)
                   .add_extension(x509.CRLNumber(int(last.timestamp()) // 60), False))
        if ca is self.pki.issuing:
            for record, when in self._revoked():
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(record).revocation_date(when).build())
        return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def _revoked(self) -> list[tuple[int, dt.datetime]]:
        records = list(dict(self.enrollment.records).values())  # a copy: enrollment adds records meanwhile
        return [(r.cert.serial_number, r.revoked_at or _now()) for r in records if r.state == REVOKED]

    def ocsp(self, body: bytes) -> bytes:
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        issuing = self.pki.issuing.cert
        name_hash = _sha1(issuing.subject.public_bytes())
        key_hash = x509.SubjectKeyIdentifier.from_public_key(issuing.public_key()).digest
        if request.issuer_name_hash != name_hash or request.issuer_key_hash != key_hash:
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = _now()
        revoked = dict(self._revoked())
        when = revoked.get(request.serial_number)
        status = ocsp.OCSPCertStatus.REVOKED if when else ocsp.OCSPCertStatus.GOOD
        answer = (ocsp.OCSPResponseBuilder()
                  .add_response_by_hash(request.issuer_name_hash, request.issuer_key_hash, request.serial_number,
                                        request.hash_algorithm, status, now - dt.timedelta(minutes=5),
                                        now + dt.timedelta(days=1), when, x509.ReasonFlags.cessation_of_operation
                                        if when else None)
                  .responder_id(ocsp.OCSPResponderEncoding.HASH, self.responder)
                  .certificates([self.responder])
                  .sign(self.responder_key, hashes.SHA256()))
        return answer.public_bytes(serialization.Encoding.DER)


def _sha1(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA1())  # OCSP CertIDs name the CA by SHA-1
    digest.update(data)
    return digest.finalize()


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


class _Handler(BaseHTTPRequestHandler):
    server: _WebServer
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        publisher, path = self.server.publisher, self.path.split("?")[0]
        if path.startswith("/web02/") and publisher.faults.on("crl-unreachable"):
            publisher.stopping.wait(HANG_S)  # accepted, never answered
            return
        if path == "/crl/root.crl":
            self._send(200, publisher.crl(publisher.pki.root), "application/pkix-crl")
        elif path.endswith("/issuing.crl"):
            self._send(200, publisher.crl(publisher.pki.issuing), "application/pkix-crl")
        else:
            self._send(404, b"<html><body><h2>404 - File or directory not found.</h2></body></html>", "text/html")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        publisher = self.server.publisher
        if self.path != "/ocsp":
            self._send(404, b"", "text/html")
        elif publisher.faults.on("ocsp-down"):
            self._send(503, b"<html><body><h1>Service Unavailable</h1></body></html>", "text/html")
        else:
            self._send(200, publisher.ocsp(body), "application/ocsp-response")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _WebServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], publisher: Publisher) -> None:
        self.publisher = publisher
        super().__init__(address, _Handler)


def endpoints(base: str, pki: SandboxPKI, sample_serial: int, total: int) -> list[Endpoint]:
    issuing = pki.issuing.cert
    parameters = {
        "CertificateAuthorityId": 1,
        "AuthorityName": issuing.subject.rfc4514_string(),
        "AuthorityNameId": base64.b64encode(_sha1(issuing.subject.public_bytes())).decode("ascii"),
        "AuthorityKeyId": base64.b64encode(
            x509.SubjectKeyIdentifier.from_public_key(issuing.public_key()).digest).decode("ascii"),
        "SampleSerialNumber": f"{sample_serial:X}",
    }
    found = [
        Endpoint(1, "Sandbox Root CA CRL", CRL_TYPE, f"{base}/crl/root.crl"),
        Endpoint(2, "Sandbox Issuing CA 1 CRL", CRL_TYPE, f"{base}/crl/issuing.crl"),
        Endpoint(3, "Sandbox Issuing CA 1 CRL (web02)", CRL_TYPE, f"{base}/web02/crl/issuing.crl"),
        Endpoint(4, "Sandbox Issuing CA 1 CRL (LDAP)", CRL_TYPE, LDAP),
        Endpoint(5, "Sandbox OCSP", OCSP_TYPE, f"{base}/ocsp", parameters),
    ]
    for number in range(len(found) + 1, total + 1):
        found.append(Endpoint(number, f"Sandbox Issuing CA 1 CRL (mirror {number})", CRL_TYPE,
                              f"{base}/mirror/{number}/issuing.crl"))
    return sorted(found, key=lambda e: e.name.casefold())  # in the listing's default order


# The same locations and sample from one start to the next, so that a baseline of revocation monitoring compares
# clean: the port the sandbox's home keeps when it is free (else any), and a fixed sample serial (the responder
# answers good for it).
PREFERRED_PORT = 48_180
SAMPLE_SERIAL = 0x6100_0000_23A1_B2C3_D4E5_F600_0000_0000_0023


def _listen(publisher: Publisher, port: int) -> _WebServer:
    try:
        return _WebServer(("127.0.0.1", port), publisher)
    except OSError:  # another sandbox holds it
        return _WebServer(("127.0.0.1", reserve_port()), publisher)


def start(api: KeyfactorApi, pki: SandboxPKI, enrollment: EnrollmentService, state_dir: Path,
          port: int = PREFERRED_PORT) -> Handover:
    """Serves the CRLs and the responder on loopback, lists them under Revocation Monitoring, and hands the suite
    the CA certificates to check their signatures against."""
    publisher = Publisher(pki, enrollment, api.faults)
    server = _listen(publisher, port)
    serve(server, "sandbox-revocation")
    total = int(os.environ.get(ENDPOINTS_ENV) or 5)
    listed = endpoints(f"http://127.0.0.1:{server.server_address[1]}", pki, SAMPLE_SERIAL, total)
    api.get("/Monitoring/Revocation", Listing("pagedQuery.", lambda: listed, Endpoint.response, {
        "id": lambda e: e.id,
        "name": lambda e: e.name,
        "displayname": lambda e: e.name,
        "endpointtype": lambda e: TYPE_CODES[e.kind],
        "url": lambda e: e.location,
        "warningdays": lambda e: 2,
        "showondashboard": lambda e: True,
        "sendwarning": lambda e: e.kind == CRL_TYPE,
        "dashboardwarningvalue": lambda e: 24,
    }, "Name").answer)
    bundle = state_dir / "revocation-issuers.pem"
    bundle.write_bytes(pem(pki.issuing.cert) + pem(pki.root.cert))

    def stop() -> None:
        publisher.stopping.set()
        server.shutdown()
        server.server_close()

    return Handover(toml=["[operations]", f"issuer_certificates = [{json.dumps(str(bundle))}]"], stop=stop)
