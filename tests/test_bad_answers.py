"""Bad answers are causes, not tracebacks: a server that answers in shapes the 10.x document does not promise (lists
for objects, numbers for strings), breaks off connections (reset, cut short) or fails every call with 5xx meets the
suite as one line per cause — never an AttributeError, a pytest traceback, or a "product defect" for a broken
connection. Small real HTTPS servers on loopback, and the sandbox's api-pool-stopped fault."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from smoke.ground.errors import ApiError, ApiFailing, ApiUnexpectedAnswer, ApiUnreachable, Blocked
from smoke.keyfactor.client import AuthConfig, KeyfactorClient
from smoke.portal.browser import BrowserOptions, BrowserSession
from smoke.run.report import categorize
from tests.hostile_servers import LoopbackServer, Received, Reply, ThrowawayCA
from tests.suite_runs import run_suite

ENVIRONMENT = "Connectivity or environment"
API = "/KeyfactorAPI"

# Every endpoint the API-side checks read, answered in a shape the 10.x document does not promise.
WRONG_SHAPES = {
    "/Status/Endpoints": ["GET /License", "GET /Agents"],  # right: the first check passes
    "/License": {"KeyfactorVersion": 10.2, "LicenseData": ["2027-01-01"]},
    "/Agents": [{"AgentId": "6f1d", "ClientMachine": ["orch01.corp.example.com"], "Status": 2}],
    "/CertificateAuthority": {"Id": 1, "LogicalName": "CorpIssuingCA1"},
    "/Templates": [{"Id": 1, "CommonName": 5, "Oid": "1.2.3", "ForestRoot": "corp.example.com"}],
    "/CertificateCollections": ["Pending CA requests"],
    "/Reports": [{"Id": "1", "DisplayName": "Expiration Report"}],
    "/Enrollment/CSR/Context/My": {"Templates": [{"Name": "WebServer", "CAs": {"Name": "ca01\\CorpIssuingCA1"}}]},
}
SAYS = {
    "smoke/test_api.py::test_the_server_reports_the_expected_command_version":
        "GET /License: KeyfactorVersion is a number (10.2), not a string as the 10.x API documents",
    "smoke/test_api.py::test_the_licence_has_not_expired": "GET /License: KeyfactorVersion is a number (10.2)",
    "smoke/test_orchestrators.py::test_every_approved_orchestrator_checked_in_recently":
        "GET /Agents: ClientMachine of orchestrator 1 is a list of 1, not a string",
    "smoke/test_configuration.py::test_no_two_certificate_authorities_share_logical_and_host_name":
        "GET https://localhost:{port}/KeyfactorAPI/CertificateAuthority page 1 answered dict, not a JSON list",
    "smoke/test_configuration.py::test_no_two_templates_share_a_name_or_oid_in_a_forest":
        "GET /Templates: CommonName of item 1 is a number (5), not a string",
    "smoke/test_configuration.py::test_no_saved_collection_uses_a_removed_search_field":
        "GET /CertificateCollections: item 1 is a string ('Pending CA requests'), not an object",
    "smoke/test_reports.py::test_the_api_lists_every_configured_report":
        "GET /Reports: Id of item 1 is a string ('1'), not an integer",
    "smoke/test_enrollment.py::test_the_template_is_offered_for_enrollment_by_the_configured_ca":
        "GET /Enrollment/CSR/Context/My: CAs of template 1 is an object with Name, not a list",
}


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return ThrowawayCA(tmp_path_factory.mktemp("ca"))


def paged(answers: dict[str, object]):
    """Answers GET <api><path> with answers[path]; a list on its first page only (an empty page ends it)."""
    def answer(received: Received) -> Reply:
        parts = urlsplit(received.path)
        path = parts.path.removeprefix(API)
        if path not in answers:
            return Reply.json({"ErrorCode": "0xA0110001", "Message": f"No route for {path}"}, 404)
        value = answers[path]
        page = next((v[0] for k, v in parse_qs(parts.query).items() if k.endswith("pageReturned")), "1")
        return Reply.json([] if isinstance(value, list) and page != "1" else value)
    return answer


def environment(tmp_path: Path, url: str, ca: ThrowawayCA) -> str:
    path = tmp_path / "env.toml"
    path.write_text(f'[command]\nurl = "{url}"\nca_bundle = {json.dumps(str(ca.bundle))}\nexpected_version = "10.2"\n'
                    '[auth]\nmethod = "basic"\nusername = "CORP\\\\svc"\npassword_env = "KF_TEST_PASSWORD"\n'
                    '[orchestrators]\n[config_review]\n[reports]\nnames = ["Expiration Report"]\n'
                    '[enrollment]\ncertificate_authority = "ca01\\\\CorpIssuingCA1"\ntemplate = "WebServer"\n')
    return str(path)


def client(url: str, ca: ThrowawayCA) -> KeyfactorClient:
    return KeyfactorClient(url + API, AuthConfig("basic", "CORP\\svc", "pw-12345"), str(ca.bundle), 5)


def test_answers_of_the_wrong_shape_fail_each_check_with_one_line_saying_what_came(tmp_path, ca):
    with LoopbackServer(paged(WRONG_SHAPES), tls=ca.server_context(["localhost"]), name="localhost") as server:
        run = run_suite(tmp_path, "--env", environment(tmp_path, server.origin, ca),
                        "-m", "api or orchestrators or config or reports or enrollment", "-k", "not renders",
                        env={"KF_TEST_PASSWORD": "pw-12345"})
    assert run.returncode == 1, run.output
    assert run.outcomes["smoke/test_api.py::test_the_api_answers_an_authenticated_request"] == "passed"
    for node, says in SAYS.items():
        assert says.format(port=server.port) in run.messages[node], (node, run.messages.get(node))
    assert not run.with_outcome("error"), run.outcomes
    for node in run.with_outcome("failed"):
        assert "\n" not in run.messages[node].strip(), run.messages[node]
    for crash in ("Traceback", "AttributeError", "TypeError", "KeyError"):
        assert crash not in run.output, run.output


@pytest.mark.parametrize(("breaks", "error", "says"), [
    ("reset", ApiUnreachable, "broke off the connection without answering GET"),
    ("close", ApiUnreachable, "broke off the connection without answering GET"),
    ("truncate", ApiUnexpectedAnswer, "broke off the connection in the middle of its answer to GET"),
])
def test_a_broken_connection_is_one_line_filed_under_environment_not_product_defect(ca, breaks, error, says):
    reply = Reply.json([{"Id": n, "Name": "x" * 40} for n in range(20)])
    reply.breaks = breaks
    server = LoopbackServer(lambda r: reply, tls=ca.server_context(["localhost"]), name="localhost")
    with server, pytest.raises(error) as raised:
        client(server.origin, ca).get_json("/Agents")
    message = str(raised.value)
    assert says in message and "\n" not in message, message
    assert categorize(message) == ENVIRONMENT, message


@pytest.mark.parametrize("breaks", ["reset", "truncate"])
def test_the_browser_says_a_broken_connection_the_same_way(ca, breaks):
    reply = Reply.html("<html><head><title>Keyfactor</title></head><body>" + "x" * 4000 + "</body></html>")
    reply.breaks = breaks
    with LoopbackServer(lambda r: reply, tls=ca.server_context(["localhost"]), name="localhost") as server:
        session = BrowserSession(BrowserOptions("chromium", True, 3, server.origin, "basic", "CORP\\svc",
                                                "pw-12345", ca.bundle))
        try:  # a page cut short never fires "load": the visit ends after the timeout, named by its real cause
            with session.visit("home") as visit:
                message = visit.goto(server.origin + "/KeyfactorPortal/").navigation_error or ""
        finally:
            session.close()
    assert "broke off the connection" in message and "\n" not in message, message
    assert categorize(message) == ENVIRONMENT, message


def test_an_api_that_fails_every_call_is_one_root_cause_and_later_calls_are_blocked(ca):
    with LoopbackServer(lambda r: Reply.html("<title>Runtime Error</title>", 500),
                        tls=ca.server_context(["localhost"]), name="localhost") as server:
        api = client(server.origin, ca)
        with pytest.raises(ApiFailing) as raised:
            api.get_json("/Agents")
        with pytest.raises(Blocked) as blocked:
            api.get_json("/License")
    message = str(raised.value)
    assert message.startswith(f"Keyfactor API: every call fails — GET {server.origin}/KeyfactorAPI/Agents answered "
                              "500"), message
    assert "and GET /Status/Endpoints 500" in message and "application pool" in message
    assert str(blocked.value) == f"not run: the Keyfactor API failed earlier in this run — {message}"


def test_one_endpoint_answering_500_is_that_endpoints_failure_not_the_whole_api(ca):
    def answer(received: Received) -> Reply:
        if received.path.startswith(f"{API}/Agents"):
            return Reply.html("<title>Runtime Error</title>", 500)
        return Reply.json(["GET /Agents"])

    with LoopbackServer(answer, tls=ca.server_context(["localhost"]), name="localhost") as server:
        api = client(server.origin, ca)
        with pytest.raises(ApiError) as raised:
            api.get_json("/Agents")
        assert not isinstance(raised.value, ApiFailing), raised.value
        assert api.get_json("/Status/Endpoints") == ["GET /Agents"]  # later calls still go out
