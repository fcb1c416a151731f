"""The server's work after the upgrade: green on a healthy sandbox, the job history filtered by the server and paged
only through the window, workflow statuses asked for by name, every CA tested with its stored details, revocation
endpoints checked in parallel with one attempt each (a hanging one costs one timeout), proxies and TLS as the
environment says, and bad data from the server as one line. (Each fault of the registry: tests/test_faults.py.)"""

from __future__ import annotations

import datetime as dt
import json
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sandbox import run_environment
from sandbox import workflow_instances as sandbox_workflows
from sandbox.app import DOMAIN, PASSWORD_ENV, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.job_history import Run
from sandbox.kdc import USER
from sandbox.logs import LogFolder
from smoke.ground.errors import ApiUnexpectedAnswer, ConfigError
from smoke.keyfactor import audit, authorities, crl, jobs, revocation, workflow_instances
from smoke.keyfactor.client import AuthConfig, KeyfactorClient
from smoke.keyfactor.issuers import Issuers, key_sha1, name_sha1
from smoke.keyfactor.revocation_http import Http, Unanswered
from smoke.keyfactor.upgrade_window import since_the_upgrade
from smoke.logscan import Waiver
from smoke.run import environment
from tests.openapi_spec import component_errors, response_errors
from tests.suite_runs import run_suite

CHECKS = "smoke/test_operations.py::"
CA_CHECK = CHECKS + "test_every_certificate_authority_answers"
JOBS_CHECK = CHECKS + "test_no_orchestrator_job_failed_since_the_upgrade"
STRANDED_CHECK = CHECKS + "test_no_scheduled_job_waits_on_an_orchestrator_that_is_gone_or_not_approved"
HEADERS = {"x-keyfactor-requested-with": "APIClient", "x-keyfactor-api-version": "1", "Accept": "application/json"}
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults(), kerberos=False)
    running.start()
    yield running
    running.stop()


def client(sandbox: Sandbox) -> KeyfactorClient:
    return KeyfactorClient(f"{sandbox.url}/KeyfactorAPI", AuthConfig("basic", f"{DOMAIN}\\{USER}", sandbox.password),
                           str(sandbox.ca_bundle), timeout_s=10)


def call(sandbox: Sandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/KeyfactorAPI{path}", headers=HEADERS,
                            auth=(f"{DOMAIN}\\{USER}", sandbox.password), verify=str(sandbox.ca_bundle), timeout=10,
                            **kwargs)


def upgraded(sandbox: Sandbox) -> dt.datetime:
    return sandbox.operations.jobs.upgraded.replace(tzinfo=dt.UTC)


def environment_file(tmp_path: Path, sandbox: Sandbox, sections: str = "") -> Path:
    merged = run_environment.merge(tomllib.loads(sandbox.environment_toml()), tomllib.loads(sections))
    path = tmp_path / "operations.toml"
    path.write_text(run_environment.dumps(merged))
    return path


# --- through the suite ----------------------------------------------------------------------------------------------


def test_a_healthy_sandbox_passes_every_check_of_the_servers_work(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "operations")
    assert run.returncode == 0, run.output
    assert len(run.outcomes) == 6 and run.with_outcome("passed") == set(run.outcomes), run.outcomes
    assert "Window of the server's work: since" in run.output and "configuration-wizard run" in run.output
    assert "Orchestrator job runs since the upgrade: 2002" in run.output


def test_a_job_entry_without_a_time_is_one_line_and_the_other_job_check_is_skipped(tmp_path, sandbox):
    class Untimed(Run):
        def response(self) -> dict[str, Any]:
            return {**super().response(), "OperationStart": None}

    runs = sandbox.operations.jobs.runs
    last = runs[-1]
    runs.append(Untimed(last.history_id + 1, last.job, last.start, 1.0, 2, "", True))
    try:
        run = run_suite(tmp_path, "--env", str(environment_file(tmp_path, sandbox)), "-m", "operations", "-k", "job",
                        env={PASSWORD_ENV: sandbox.password})
    finally:
        runs.pop()
    assert run.with_outcome("failed") == {JOBS_CHECK}, run.output
    message = run.messages[JOBS_CHECK]
    assert f"JobHistoryId {last.history_id + 1} with OperationStart None, not a time" in message
    assert "\n" not in message and "Traceback" not in run.output
    assert "failed earlier in this run" in run.messages[STRANDED_CHECK]


def test_configured_cas_are_tested_even_switched_off_and_an_unknown_name_is_named(tmp_path, sandbox):
    sections = ('[operations]\ncas = ["ca02-dr.corp.example.com\\\\CorpIssuingCA2", "ca02.corp.example.com\\\\'
                'CorpIssuingCA2", "ca09.corp.example.com\\\\Nope"]\n')
    run = run_suite(tmp_path, "--env", str(environment_file(tmp_path, sandbox, sections)), "-m", "operations",
                    "-k", "certificate_authority", env={PASSWORD_ENV: sandbox.password})
    assert run.with_outcome("failed") == {CA_CHECK}, run.output
    message = run.messages[CA_CHECK]
    assert message.startswith("2 of 3 certificate authorities did not answer: ")
    assert "ca02-dr.corp.example.com\\CorpIssuingCA2: Unable to connect to the certificate authority " in message
    assert "The RPC server is unavailable" in message and "certsvc" in message
    assert "ca09.corp.example.com\\Nope: no CA record has this name" in message
    assert "ca02.corp.example.com\\CorpIssuingCA2:" not in message  # its stored password works


# --- the job history: the server filters, the suite pages only the window ---------------------------------------------


def test_the_job_history_is_filtered_by_the_server_and_paged_only_through_the_window(sandbox):
    api = client(sandbox)
    held = len(sandbox.operations.jobs.runs)
    runs = jobs.history_since(api, upgraded(sandbox), dt.UTC, page_size=500)
    assert held > 8000 and len(runs) == 2002
    assert len(api.exchanges) == 5  # 2002 runs at 500 a page; X-Total-Count says when the window ends
    stamp = f"{upgraded(sandbox):%Y-%m-%dT%H:%M:%S}"
    assert all(f"pq.queryString=OperationStart+-ge+%22{stamp.replace(':', '%3A')}%22" in e.url for e in api.exchanges)
    assert min(run.start for run in runs) >= upgraded(sandbox)


def test_a_server_reading_query_times_in_another_zone_is_named_after_its_first_page(sandbox):
    api = client(sandbox)
    with pytest.raises(ApiUnexpectedAnswer) as caught:
        jobs.history_since(api, upgraded(sandbox), dt.timezone(-dt.timedelta(hours=5)), page_size=500)
    message = str(caught.value)
    assert "before the window: the server did not filter by OperationStart as asked" in message
    assert "[operations] zoneless_times" in message and "\n" not in message
    assert len(api.exchanges) == 1


def test_a_job_entry_without_a_time_is_an_unexpected_answer_naming_the_entry():
    with pytest.raises(ApiUnexpectedAnswer) as caught:
        jobs.JobRun.from_api({"JobHistoryId": 7, "JobType": "Inventory", "OperationStart": ""}, dt.UTC)
    assert "JobHistoryId 7 with OperationStart '', not a time" in str(caught.value)
    assert "\n" not in str(caught.value)


def _run(job: str, minute: int, result: int, message: str = "", orchestrator: str = "orch01") -> jobs.JobRun:
    return jobs.JobRun(minute, job, "Inventory", orchestrator, "web01 IIS Personal", NOW + dt.timedelta(minutes=minute),
                       result, 3, message)


def test_a_job_fails_when_its_newest_run_failed_and_a_waiver_holds_until_it_expires():
    runs = [
        _run("A", 1, 4, "WinRM restarting"), _run("A", 2, 2),  # recovered
        _run("B", 1, 4, "access denied"), _run("B", 2, 4, "access denied"),  # failing
        _run("C", 1, 4, "known vendor bug 123", orchestrator="orch02"),  # waived
        _run("D", 1, 4, "old known bug", orchestrator="orch03"),  # its waiver expired
        _run("E", 1, 3, "1 certificate could not be read"),  # a warning
    ]
    today = NOW.date()
    waivers = [Waiver("orch02 .*vendor bug 123", "CHG-1: vendor case", today),
               Waiver("old known bug", "CHG-0", today - dt.timedelta(days=1))]
    found = jobs.review(runs, waivers, today)
    assert [(g.orchestrator, sorted(g.jobs), g.runs) for g in found.failing] == [("orch01", ["B"], 2),
                                                                                  ("orch03", ["D"], 1)]
    assert [g.orchestrator for g in found.waived] == ["orch02"] and found.waived[0].waiver is waivers[0]
    assert [r.job_id for r in found.recovered] == ["A"] and found.warnings == 1
    assert found.expired_waivers == [waivers[1]]
    assert found.failing[0].line() == ("Inventory on orch01: 1 job failing (2 failed runs, the newest 2026-12-01 "
                                       "12:02 UTC: access denied)")


def test_scheduled_jobs_are_stranded_only_when_their_orchestrator_is_gone_or_not_approved():
    scheduled = [jobs.ScheduledJob("1", "orch01", "IIS Personal", "Inventory"),
                 jobs.ScheduledJob("2", "orch-new", "IIS Personal", "Inventory"),
                 jobs.ScheduledJob("3", "orch-gone", "IIS Personal", "Inventory"),
                 jobs.ScheduledJob("4", "orch-gone", "IIS Personal", "Inventory")]
    found = jobs.stranded(scheduled, {"orch01": 2, "orch-new": 1}, ran={"4"})
    assert [(job.id, why) for job, why in found] == [("2", "its orchestrator is New, not Approved"),
                                                     ("3", "its orchestrator is no longer registered")]


# --- workflows: statuses by name --------------------------------------------------------------------------------------


def test_workflow_statuses_are_asked_for_by_name_and_only_the_window_counts(sandbox):
    api = client(sandbox)
    failed = call(sandbox, "GET", "/Workflow/Instances", params={"pq.queryString": 'Status -eq "Failed"'}).json()
    code = sandbox_workflows.STATUS_CODES["Failed"]
    assert [i["ReferenceId"] for i in failed] == [2101] and failed[0]["Status"] == code
    assert call(sandbox, "GET", "/Workflow/Instances", params={"pq.queryString": f'Status -eq "{code}"'}).json() == []
    now = dt.datetime.now(dt.UTC)
    since = workflow_instances.review(api, upgraded(sandbox), dt.timedelta(minutes=10), dt.UTC, 100, now)
    assert (since.failed, since.stuck) == ([], []) and [i.reference for i in since.waiting] == [2203]
    assert since.started == 7
    earlier = workflow_instances.review(api, upgraded(sandbox) - dt.timedelta(hours=3), dt.timedelta(minutes=10),
                                        dt.UTC, 100, now)
    assert [i.reference for i in earlier.failed] == [2101] and [i.reference for i in earlier.stuck] == [2102]
    assert earlier.stuck[0].line(now).startswith('Enrollment with ITSM ticket v5 "CN=intranet.corp.example.com" '
                                                 '(#2102) Running at step "Open ITSM ticket", unchanged for 2h ')


# --- certificate authorities ------------------------------------------------------------------------------------------


def test_every_ca_that_synchronises_or_enrolls_is_tested_with_its_stored_details(sandbox):
    api = client(sandbox)
    listed = authorities.listed(api)
    chosen, missing = authorities.chosen(listed, [], authorities.offered_for_enrollment(api))
    assert missing == [] and [(a.name, use) for a, use in chosen] == [
        ("ca01.corp.example.com\\Keyfactor Smoke Sandbox Issuing CA 1", "synchronised and enrollment"),
        ("ca02.corp.example.com\\CorpIssuingCA2", "synchronised"),
        ("pki01.partner.example.net\\PartnerIssuingCA", "synchronised")]
    explicit = chosen[1][0]
    body = explicit.request()
    # The request model's AllowedEnrollmentTypes enum is [0, 1, 2, 4]; the record answers the bitmask 3 (both), as
    # the templates do (tests/test_orchestrators.py). Every other field is one the request model takes.
    assert component_errors("Models.CertificateAuthorities.CertificateAuthorityRequest",
                            {k: v for k, v in body.items() if v is not None}) == [
        "AllowedEnrollmentTypes: 3 is not one of [0, 1, 2, 4]"]
    assert authorities.test(api, explicit, "synchronised").success
    wrong = call(sandbox, "POST", "/CertificateAuthority/Test", json={**body, "ExplicitPassword": {"SecretValue": "x"}})
    assert wrong.json() == {"Success": False, "Message": "CORP\\svc-ca02-enroll: The user name or password is "
                                                         "incorrect. 0x8007052e (WIN32: 1326 ERROR_LOGON_FAILURE)"}
    nameless = call(sandbox, "POST", "/CertificateAuthority/Test", json={"HostName": "ca02.corp.example.com"})
    assert nameless.status_code == 400 and nameless.json()["Message"] == "LogicalName is required."


def test_a_ca_whose_stored_password_no_longer_decrypts_points_at_the_master_keys():
    authority = authorities.Authority({"HostName": "ca02", "LogicalName": "CA2", "ExplicitCredentials": True,
                                       "ExplicitUser": "CORP\\svc"})
    answer = authorities.Answer(authority, False, "Unable to decrypt the stored credentials for CORP\\svc: Key not "
                                                  "valid for use in specified state.", "synchronised")
    assert "explicit credentials (CORP\\svc)" in answer.line() and "upgrade guide §2.8" in answer.line()


# --- what the sandbox answers -----------------------------------------------------------------------------------------


def _without_nulls(value: Any) -> Any:
    # The generated spec marks no field nullable, yet Keyfactor answers null for unset fields.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize(("path", "params"), [
    ("/OrchestratorJobs/JobHistory", {"pq.returnLimit": 50}),
    ("/OrchestratorJobs/ScheduledJobs", {"pq.returnLimit": 300}),
    ("/Workflow/Instances", {"pq.returnLimit": 50}),
    ("/Audit", {"pq.returnLimit": 50}),
    ("/Monitoring/Revocation", {"pagedQuery.returnLimit": 50}),
])
def test_the_sandbox_answers_of_the_servers_work_validate_against_the_openapi_document(sandbox, path, params):
    answer = call(sandbox, "GET", path, params=params)
    assert answer.status_code == 200 and answer.json() and answer.headers["X-Total-Count"].isdigit()
    assert response_errors("GET", path, 200, _without_nulls(answer.json())) == []


def test_the_ca_test_and_the_audit_validation_answer_as_documented(sandbox):
    record = call(sandbox, "GET", "/CertificateAuthority", params={"pq.returnLimit": 1}).json()[0]
    tested = call(sandbox, "POST", "/CertificateAuthority/Test", json=authorities.Authority(record).request())
    assert tested.status_code == 200 and response_errors("POST", "/CertificateAuthority/Test", 200, tested.json()) == []
    entry = call(sandbox, "GET", "/Audit", params={"pq.returnLimit": 1}).json()[0]
    valid = call(sandbox, "GET", f"/Audit/{entry['Id']}/Validate")
    assert valid.json() is True and response_errors("GET", f"/Audit/{entry['Id']}/Validate", 200, True) == []
    assert call(sandbox, "GET", "/OrchestratorJobs/JobHistory",
                params={"pq.queryString": 'Colour -eq "red"'}).status_code == 400


def test_the_newest_audit_entries_of_the_window_are_read_in_one_page_and_validate(sandbox):
    api = client(sandbox)
    entries = audit.newest_since(api, upgraded(sandbox), dt.UTC, 20)
    assert len(entries) == 20 and len(api.exchanges) == 1
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)
    assert all(e.when and e.when >= upgraded(sandbox) for e in entries)
    assert all(audit.validates(api, e) for e in entries)


# --- revocation -------------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.serve(self)

    do_POST = do_GET


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], tuple[int, str, bytes] | None]) -> None:
        self.answer, self.requests, self.active, self.most = answer, [], 0, 0
        self.lock, self.release = threading.Lock(), threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append((handler.command, handler.path, body))
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            answer = self.answer(handler)
            if answer is None:  # hang: accepted, never answered
                self.release.wait(60)
                return
            status, content_type, content = answer
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(content)))
            handler.end_headers()
            handler.wfile.write(content)
        finally:
            with self.lock:
                self.active -= 1


@contextmanager
def serving(answer: Callable[[BaseHTTPRequestHandler], tuple[int, str, bytes] | None]) -> Iterator[_Server]:
    server = _Server(answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Certificate, Any] | None = None,
                 usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(issuer[0].subject if issuer else _name(subject)).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(days=1))
               .not_valid_after(NOW + dt.timedelta(days=30)))
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


@pytest.fixture(scope="module")
def ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    return _certificate("Test Issuing CA", key), key


def _crl(ca: tuple[x509.Certificate, Any], next_update: dt.datetime, key: Any = None) -> bytes:
    last_update = min(NOW, next_update) - dt.timedelta(hours=1)
    built = (x509.CertificateRevocationListBuilder().issuer_name(ca[0].subject)
             .last_update(last_update).next_update(next_update).sign(key or ca[1], hashes.SHA256()))
    return built.public_bytes(serialization.Encoding.DER)


def test_a_crl_is_judged_for_its_signature_its_issuer_and_its_margin(ca):
    issuers, day = Issuers((ca[0],)), dt.timedelta(hours=24)
    assert crl.judge(_crl(ca, NOW + dt.timedelta(days=7)), "", issuers, day, NOW).ok
    short = crl.judge(_crl(ca, NOW + dt.timedelta(hours=2)), "", issuers, day, NOW)
    assert not short.ok and "in 2.0 h: less than the 24 h of [operations] crl_min_hours_left" in short.detail
    expired = crl.judge(_crl(ca, NOW - dt.timedelta(hours=3)), "", issuers, day, NOW)
    assert not expired.ok and expired.detail.startswith("expired: its next update 2026-12-01 09:00 UTC passed 3.0 h")
    forged = crl.judge(_crl(ca, NOW + dt.timedelta(days=7), ec.generate_private_key(ec.SECP256R1())), "", issuers,
                       day, NOW)
    assert not forged.ok and forged.detail == "not signed by CN=Test Issuing CA: the signature does not verify with " \
                                              "the CA's key"
    unknown = crl.judge(_crl(ca, NOW + dt.timedelta(days=7)), "", Issuers(), day, NOW)
    assert not unknown.ok and "not in [operations] issuer_certificates" in unknown.detail


def _endpoint(kind: str, location: str, parameters: Any = None) -> revocation.Endpoint:
    return revocation.Endpoint(1, f"test {kind}", kind, location, parameters)


def _check(issuers: Issuers, timeout_s: float = 5.0) -> revocation.RevocationCheck:
    return revocation.RevocationCheck(Http(timeout_s), issuers, dt.timedelta(hours=24), lambda: NOW)


def test_a_crl_location_answering_an_html_page_is_one_line(ca):
    page = b"<html><head><title>Sign in</title></head><body>proxy</body></html>"
    with serving(lambda handler: (200, "text/html; charset=utf-8", page)) as server:
        verdict = _check(Issuers((ca[0],))).one(_endpoint("CRL", f"{server.base}/crl/issuing.crl"))
    assert verdict.state == revocation.FAILED
    assert verdict.detail == f"answered text/html; charset=utf-8 ({len(page)} bytes), not a CRL"
    assert "\n" not in verdict.line() and "a proxy, an error page or another file answers" in verdict.line()


def _parameters(ca: x509.Certificate, serial: int = 0x1234) -> dict[str, Any]:
    import base64

    return {"CertificateAuthorityId": 1, "AuthorityName": ca.subject.rfc4514_string(),
            "AuthorityNameId": base64.b64encode(name_sha1(ca.subject)).decode(),
            "AuthorityKeyId": base64.b64encode(key_sha1(ca.public_key())).decode(), "SampleSerialNumber": f"{serial:X}"}


def _responder(ca: tuple[x509.Certificate, Any], signer: tuple[x509.Certificate, Any], include: bool = True):
    def answer(handler: BaseHTTPRequestHandler) -> tuple[int, str, bytes]:
        request = x509_ocsp.load_der_ocsp_request(handler.server.requests[-1][2])  # type: ignore[attr-defined]
        built = (x509_ocsp.OCSPResponseBuilder()
                 .add_response_by_hash(request.issuer_name_hash, request.issuer_key_hash, request.serial_number,
                                       request.hash_algorithm, x509_ocsp.OCSPCertStatus.GOOD,
                                       NOW - dt.timedelta(minutes=5), NOW + dt.timedelta(hours=12), None, None)
                 .responder_id(x509_ocsp.OCSPResponderEncoding.HASH, signer[0]))
        if include and signer[0] != ca[0]:
            built = built.certificates([signer[0]])
        return 200, "application/ocsp-response", built.sign(signer[1], hashes.SHA256()).public_bytes(
            serialization.Encoding.DER)
    return answer


def test_an_ocsp_answer_must_be_signed_by_the_ca_or_a_responder_it_issued(ca):
    issuers = Issuers((ca[0],))
    responder_key = ec.generate_private_key(ec.SECP256R1())
    delegated = (_certificate("ocsp01", responder_key, ca, ExtendedKeyUsageOID.OCSP_SIGNING), responder_key)
    no_usage = (_certificate("ocsp02", responder_key, ca), responder_key)
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = (_certificate("ocsp01", stranger_key, usage=ExtendedKeyUsageOID.OCSP_SIGNING), stranger_key)
    found = {}
    for label, signer in (("ca", ca), ("delegated", delegated), ("no usage", no_usage), ("wrong key", stranger)):
        with serving(_responder(ca, signer)) as server:
            found[label] = _check(issuers).one(_endpoint("OCSP", f"{server.base}/ocsp", _parameters(ca[0])))
            asked = x509_ocsp.load_der_ocsp_request(server.requests[0][2])
            assert server.requests[0][0] == "POST" and asked.serial_number == 0x1234
    assert found["ca"].state == found["delegated"].state == revocation.OK
    assert found["delegated"].detail.startswith('"good" for serial 1234 of Test Issuing CA, signed by ocsp01')
    for label in ("no usage", "wrong key"):
        assert found[label].state == revocation.FAILED
        assert found[label].detail == ("answer for Test Issuing CA is signed by a key that is neither the CA's nor "
                                       "that of a responder certificate the CA issued")
        assert "\n" not in found[label].line()


def test_a_hanging_revocation_endpoint_costs_one_timeout_not_one_per_endpoint_or_retry(ca):
    issuers = Issuers((ca[0],))
    with serving(lambda handler: None) as server:
        endpoints = [_endpoint("CRL", f"{server.base}/crl/{n}.crl") for n in range(6)]
        endpoints.append(_endpoint("OCSP", f"{server.base}/ocsp", _parameters(ca[0])))
        verdicts = _check(issuers, timeout_s=1.0).all(endpoints)
        most, requested = server.most, list(server.requests)
    assert [v.state for v in verdicts] == [revocation.FAILED] * 7
    assert all(v.detail == f"no answer from 127.0.0.1:{server.server_address[1]} within 1s" for v in verdicts)
    assert sorted(path for _, path, _ in requested) == sorted(urlpath(e.location) for e in endpoints)  # no retry
    assert most == 7  # all of them waited at once: one timeout in all, not one per endpoint


def urlpath(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_ldap_locations_are_listed_not_checked():
    verdict = _check(Issuers()).one(_endpoint("CRL", "ldap:///CN=CA,CN=CDP?certificateRevocationList"))
    assert verdict.state == revocation.NOT_CHECKED and "LDAP" in verdict.detail


def test_proxies_from_the_environment_are_honoured(monkeypatch, ca):
    crl_bytes = _crl(ca, NOW + dt.timedelta(days=7))
    with serving(lambda handler: (200, "application/pkix-crl", crl_bytes)) as proxy:
        for name in ("NO_PROXY", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.base)
        verdict = _check(Issuers((ca[0],))).one(_endpoint("CRL", "http://pki.corp.example.invalid/issuing.crl"))
        seen = list(proxy.requests)
    assert verdict.state == revocation.OK, verdict.line()
    assert seen == [("GET", "http://pki.corp.example.invalid/issuing.crl", b"")]  # the proxy was asked


def test_https_locations_are_verified_against_the_ca_bundle_or_the_os_store(sandbox):
    url = f"{sandbox.url}/KeyfactorAPI/Status/Endpoints"
    with pytest.raises(Unanswered) as caught:
        Http(5.0).get(url)
    assert str(caught.value) == f"TLS with localhost:{sandbox.port}: its certificate is not trusted — set " \
                                "[command] ca_bundle to its CA"
    assert Http(5.0, str(sandbox.ca_bundle)).get(url).status == 401  # verified; no credentials are ever sent


def test_the_sandbox_revocation_endpoints_answer_signed_and_current(sandbox):
    api = client(sandbox)
    endpoints = revocation.monitored(api, 50)
    issuers = Issuers.load(tomllib.loads(sandbox.environment_toml())["operations"]["issuer_certificates"])
    verdicts = revocation.RevocationCheck(Http(5.0), issuers, dt.timedelta(hours=24)).all(endpoints)
    assert [(v.endpoint.name, v.state) for v in verdicts] == [
        ("Sandbox Issuing CA 1 CRL", "ok"), ("Sandbox Issuing CA 1 CRL (LDAP)", "not checked"),
        ("Sandbox Issuing CA 1 CRL (web02)", "ok"), ("Sandbox OCSP", "ok"), ("Sandbox Root CA CRL", "ok")]
    assert "signed by ocsp01.corp.example.com" in verdicts[3].detail


# --- the window and the section -------------------------------------------------------------------------------------


def _settings(operations: dict[str, Any] | None = None, logs: dict[str, Any] | None = None) -> SimpleNamespace:
    section = {"since": None, "zoneless_times": "UTC", **(operations or {})}
    return SimpleNamespace(operations=SimpleNamespace(**section),
                           logs=SimpleNamespace(**{"since": None, "timezone": "UTC", "wizard_logger": "",
                                                   "wizard_start": None, **logs}) if logs else None)


def test_the_window_is_the_given_start_else_the_logs_wizard_run_else_the_last_24_hours(tmp_path):
    given = since_the_upgrade(_settings({"since": "2h"}), NOW)
    assert given.start == NOW - dt.timedelta(hours=2) and "[operations] since = '2h'" in given.source
    zoned = since_the_upgrade(_settings({"since": "2026-12-01T10:00", "zoneless_times": "+02:00"}), NOW)
    assert zoned.start == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    folder = tmp_path / "logs"
    written = LogFolder(folder, NOW.replace(tzinfo=None))
    written.build()
    written.write()
    from_logs = since_the_upgrade(_settings(logs={"paths": [str(folder)]}), NOW)
    assert from_logs.start == NOW - dt.timedelta(minutes=35) and "configuration-wizard run" in from_logs.source
    missing = since_the_upgrade(_settings(logs={"paths": [str(tmp_path / "gone")]}), NOW)
    assert missing.start == NOW - dt.timedelta(hours=24) and "the logs' window could not be read" in missing.source
    assert since_the_upgrade(_settings(), NOW).source.startswith("the last 24 hours: neither")


@pytest.mark.parametrize(("section", "says"), [
    ('cas = ["ca01 Corp CA"]', '[operations] cas'),
    ('since = "yesterday"', "is neither an ISO time"),
    ('zoneless_times = "Mars/Olympus"', "is not a time zone"),
    ('[[operations.job_waivers]]\npattern = "("\njustification = "x"\nexpires = 2026-12-31', "regular expression"),
])
def test_a_bad_operations_section_is_one_line(tmp_path, section, says):
    path = tmp_path / "bad.toml"
    path.write_text(f'[command]\nurl = "https://kf.example.com"\n[operations]\n{section}\n')
    with pytest.raises(ConfigError) as caught:
        environment.load(str(path))
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_issuer_certificates_are_relative_to_the_file_and_an_unreadable_one_is_one_line(tmp_path):
    path = tmp_path / "env.toml"
    path.write_text('[command]\nurl = "https://kf.example.com"\n[operations]\nissuer_certificates = ["cas.pem"]\n')
    loaded = environment.load(str(path))
    assert loaded.operations and loaded.operations.issuer_certificates == [str(tmp_path / "cas.pem")]
    with pytest.raises(ConfigError) as caught:
        Issuers.load(loaded.operations.issuer_certificates)
    assert str(caught.value).startswith(f"[operations] issuer_certificates: {tmp_path / 'cas.pem'} cannot be read")
    (tmp_path / "cas.pem").write_text(json.dumps({"not": "pem"}))
    with pytest.raises(ConfigError, match="holds no PEM certificate"):
        Issuers.load(loaded.operations.issuer_certificates)
