"""The sandbox answers as the vendor's OpenAPI document says, corrected by the public evidence, and is no easier than
IIS + Keyfactor: required headers enforced where 10.2.1 enforces them, 401 challenges, bodies that validate against
the spec's schemas, or against the documentation's shape where the spec lacks the endpoint."""

from __future__ import annotations

import json
import re

import pytest
import requests

from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.kdc import USER
from tests import openapi_spec
from tests.documented_shapes import DOCUMENTED
from tests.openapi_spec import component_errors, required_headers, response_errors, schema_errors
from tests.suite_runs import run_suite

HEADERS = {"x-keyfactor-requested-with": "APIClient", "x-keyfactor-api-version": "1", "Accept": "application/json"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults(), kerberos=False)
    running.start()
    yield running
    running.stop()


def call(sandbox: Sandbox, method: str, path: str, headers: dict[str, str] | None = None, auth: bool = True,
         **kwargs) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/KeyfactorAPI{path}", headers=headers or HEADERS,
                            auth=(f"{DOMAIN}\\{USER}", sandbox.password) if auth else None,
                            verify=str(sandbox.ca_bundle), timeout=10, **kwargs)


@pytest.mark.parametrize("path", ["/Status/Endpoints", "/License"])
def test_every_answer_the_api_checks_rely_on_validates_against_the_openapi_document(sandbox, path):
    response = call(sandbox, "GET", path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response_errors("GET", path, 200, response.json()) == []


def test_a_get_without_the_requested_with_header_is_answered_and_a_post_is_refused(sandbox):
    # The spec marks the header required everywhere; Keyfactor's own 10.2.1 validation scripts send it only on POST.
    assert "x-keyfactor-requested-with" in required_headers("GET", "/License")
    response = call(sandbox, "GET", "/License", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["KeyfactorVersion"]
    refused = call(sandbox, "POST", "/Enrollment/CSR", headers={"Accept": "application/json"}, json={})
    assert refused.status_code == 400
    assert set(refused.json()) == {"ErrorCode", "Message"} and "x-keyfactor-requested-with" in refused.json()["Message"]


def test_an_unauthenticated_call_gets_an_iis_401_challenge_not_json(sandbox):
    response = call(sandbox, "GET", "/License", auth=False)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Basic" in response.headers["WWW-Authenticate"]


def test_a_wrong_password_is_refused(sandbox):
    response = requests.get(f"{sandbox.url}/KeyfactorAPI/License", headers=HEADERS, auth=(f"{DOMAIN}\\{USER}", "x"),
                            verify=str(sandbox.ca_bundle), timeout=10)
    assert response.status_code == 401


@pytest.mark.parametrize(("path", "prefix", "count"), [
    ("/Agents", "pq.", 300),
    ("/Templates", "sq.", None),
    ("/Reports", "query.", None),
    ("/CertificateStores", "certificateStoreQuery.", 600),
    ("/Security/Roles", "", None),
])
def test_list_endpoints_count_every_match_in_x_total_count(sandbox, path, prefix, count):
    page = call(sandbox, "GET", path, params={f"{prefix}returnLimit": 1})
    everything = call(sandbox, "GET", path, params={f"{prefix}returnLimit": 1000}).json()
    assert len(page.json()) == 1
    assert page.headers["X-Total-Count"] == str(len(everything)) == str(count or len(everything))
    assert "X-Total-Count" not in call(sandbox, "GET", "/Status/Endpoints").headers


def test_every_api_endpoint_is_in_the_openapi_document_or_marked_as_documented_elsewhere(sandbox):
    listed = call(sandbox, "GET", "/Status/Endpoints").json()
    outside = {endpoint for endpoint in listed if not _in_spec(*endpoint.split(" "))}
    assert outside == {"GET /Security/Roles", "GET /Security/Identities", "GET /CertificateStores"} == set(DOCUMENTED)
    marked = sandbox.api.outside_openapi
    assert set(marked) == outside and all("documentation" in source for source in marked.values())


@pytest.mark.parametrize("endpoint", sorted(DOCUMENTED))
def test_endpoints_the_openapi_file_lacks_answer_in_the_documented_shape(sandbox, endpoint):
    method, path = endpoint.split(" ")
    prefix = "certificateStoreQuery." if path == "/CertificateStores" else ""  # unprefixed: the documentation
    items = call(sandbox, method, path, params={f"{prefix}returnLimit": 1000}).json()
    assert len(items) > 2
    assert [error for item in items for error in schema_errors(DOCUMENTED[endpoint], item)] == []
    second = call(sandbox, method, path, params={f"{prefix}returnLimit": 2, f"{prefix}pageReturned": 2}).json()
    assert second == items[2:4]  # paged by its own prefix


def test_certificate_stores_follow_the_specs_unused_store_model_except_for_the_documented_password(sandbox):
    items = call(sandbox, "GET", "/CertificateStores", params={"certificateStoreQuery.returnLimit": 100}).json()
    agents = {a["AgentId"]: a for a in call(sandbox, "GET", "/Agents", params={"pq.returnLimit": 1000}).json()}
    for item in items:
        # The 10.2/10.4 documentation describes Password as an object; the spec's unused model types it a string.
        errors = component_errors("Models.CertificateStore", {k: v for k, v in item.items() if v is not None})
        assert len(errors) == 1 and re.match(r"Password: \{'IsManaged': .* is not of type 'string'$", errors[0])
        assert isinstance(json.loads(item["Properties"]), dict)
        assert item["AgentId"] in agents
    iis = call(sandbox, "GET", "/CertificateStores",
               params={"certificateStoreQuery.queryString": 'StorePath -contains "WebHosting"'}).json()
    assert iis and all(re.search("WebHosting", s["Storepath"]) for s in iis)


def _in_spec(method: str, path: str) -> bool:
    try:
        openapi_spec.operation(method, path.replace("{id}", "1"))
    except LookupError:
        return False
    return True


def test_without_mit_kerberos_the_sandbox_falls_back_to_basic_and_the_report_says_so(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "api", env={"KF_SANDBOX_KDC": "off"})
    assert run.returncode == 0, run.output
    table = (run.results_dir / "environment.properties").read_text()
    assert "Authentication=Basic" in table
    assert "MIT KDC binaries not found" in table
