"""The sandbox answers as the vendor's OpenAPI document says, and is no easier than IIS + Keyfactor:
required headers enforced, 401 challenges, bodies that validate against the spec's schemas."""

from __future__ import annotations

import pytest
import requests

from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.kdc import USER
from tests.openapi_spec import required_headers, response_errors
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


def test_the_spec_requires_the_requested_with_header_and_so_does_the_sandbox(sandbox):
    assert "x-keyfactor-requested-with" in required_headers("GET", "/License")
    response = call(sandbox, "GET", "/License", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert set(response.json()) == {"ErrorCode", "Message"}


def test_an_unauthenticated_call_gets_an_iis_401_challenge_not_json(sandbox):
    response = call(sandbox, "GET", "/License", auth=False)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Basic" in response.headers["WWW-Authenticate"]


def test_a_wrong_password_is_refused(sandbox):
    response = requests.get(f"{sandbox.url}/KeyfactorAPI/License", headers=HEADERS, auth=(f"{DOMAIN}\\{USER}", "x"),
                            verify=str(sandbox.ca_bundle), timeout=10)
    assert response.status_code == 401


def test_the_sandbox_never_sends_a_total_count_header(sandbox):
    assert "X-Total-Count" not in call(sandbox, "GET", "/Status/Endpoints").headers


def test_without_mit_kerberos_the_sandbox_falls_back_to_basic_and_the_report_says_so(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "api", env={"KF_SANDBOX_KDC": "off"})
    assert run.returncode == 0, run.output
    table = (run.results_dir / "environment.properties").read_text()
    assert "Authentication=Basic" in table
    assert "MIT KDC binaries not found" in table
