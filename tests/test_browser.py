"""The browser checks as a user meets them: green over Kerberos in headless Chromium with a screenshot of every page
in the report; Basic with the API's credentials; tickets from a keytab handed over to the browser; a missing
browser as one line that leaves the API checks running. Then the pieces beneath: error and sign-in page
recognition, the [portal] overrides, and the sandbox's GET /Reports.

In Kerberos mode the browser is given no password and only the Negotiate scheme, so a page that loads was signed
in with Kerberos; the in-process sandbox below also records the scheme of every portal request to show it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.kdc import USER
from smoke.ground.errors import ConfigError
from smoke.portal.page import Answer, PageLoad
from smoke.portal.pages import pages_for
from smoke.run import environment
from tests.openapi_spec import response_errors
from tests.suite_runs import run_suite

MARKERS = "portal or dashboard or reports"
BROWSER_CHECKS = {
    "smoke/test_portal.py::test_the_portal_home_page_loads_completely_after_authentication",
    "smoke/test_portal.py::test_certificate_search_shows_its_results_grid",
    "smoke/test_dashboard.py::test_the_dashboard_and_every_request_it_makes_answer_below_500",
    "smoke/test_reports.py::test_every_configured_report_runs_and_renders_its_output",
}
REPORTS_LISTED = "smoke/test_reports.py::test_the_api_lists_every_configured_report"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A sandbox in this process, so that the tests can see which scheme signed each portal request in."""
    running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults())
    running.start()
    if not running.kerberos or running.server is None:
        pytest.fail("these tests need MIT Kerberos (krb5-kdc, krb5-admin-server, krb5-user): run ./setup.sh")
    authenticator = running.server.auth
    authenticate = authenticator.authenticate
    running.portal_schemes = []  # type: ignore[attr-defined]

    def recording(request):
        granted = authenticate(request)
        if granted is not None and request.path.lower().startswith("/keyfactorportal"):
            running.portal_schemes.append(request.scheme)  # type: ignore[attr-defined]
        return granted

    authenticator.authenticate = recording  # type: ignore[method-assign]
    yield running
    running.stop()


def environment_file(tmp_path: Path, sandbox: Sandbox, auth: dict[str, str], browser: str = "chromium") -> str:
    lines = ["[command]", f'url = "{sandbox.url}"', 'expected_version = "10.2"', "timeout_s = 10",
             f"ca_bundle = {json.dumps(str(sandbox.ca_bundle))}", "[auth]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in auth.items()]
    lines += ["[portal]", f"browser = {json.dumps(browser)}", "min_search_rows = 10",
              "[reports]", 'names = ["Expiration Report"]']
    path = tmp_path / "env.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def kerberos_auth(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    assert sandbox.realm
    return {"method": "kerberos", "ccache": sandbox.realm.environ["KRB5CCNAME"],
            "krb5_config": str(sandbox.realm.krb5_config), "principal": sandbox.realm.user_principal, **extra}


def screenshots(results: Path) -> dict[str, list[bytes]]:
    """Test name -> the PNG attachments of its result in the Allure results."""
    found: dict[str, list[bytes]] = {}
    for result in results.glob("*-result.json"):
        data = json.loads(result.read_text())
        name = data["fullName"].rsplit("#", 1)[-1]  # the function; "name" is the title shown in the report
        found[name] = [(results / a["source"]).read_bytes() for a in data.get("attachments", [])
                        if a.get("type") == "image/png"]
    return found


def test_a_healthy_sandbox_passes_every_browser_check_over_kerberos_with_screenshots(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", MARKERS)
    assert run.returncode == 0, run.output
    assert run.with_outcome("passed") == BROWSER_CHECKS | {REPORTS_LISTED}, run.outcomes
    shots = screenshots(run.results_dir)
    for node in BROWSER_CHECKS:
        pictures = shots[node.split("::")[1]]
        assert pictures and all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 5000 for p in pictures), node
    assert len(shots["test_every_configured_report_runs_and_renders_its_output"]) == 2  # sandbox.toml names two
    assert "Browser=" in (run.results_dir / "environment.properties").read_text()


def test_tickets_from_a_keytab_reach_the_browser_and_it_signs_in_with_kerberos(tmp_path, sandbox):
    assert sandbox.realm
    auth = kerberos_auth(sandbox, ccache=f"FILE:{tmp_path / 'empty-ccache'}", keytab=str(sandbox.realm.user_keytab))
    sandbox.portal_schemes.clear()
    run = run_suite(tmp_path, "--env", environment_file(tmp_path, sandbox, auth), "-m", "portal")
    assert run.returncode == 0, run.output
    assert sandbox.portal_schemes and set(sandbox.portal_schemes) == {"Negotiate"}


def test_basic_signs_the_browser_in_with_the_api_credentials(tmp_path, sandbox):
    auth = {"method": "basic", "username": f"{DOMAIN}\\{USER}", "password_env": "KF_TEST_PASSWORD"}
    sandbox.portal_schemes.clear()
    run = run_suite(tmp_path, "--env", environment_file(tmp_path, sandbox, auth), "-m", MARKERS,
                    env={"KF_TEST_PASSWORD": sandbox.password})
    assert run.returncode == 0, run.output
    assert run.with_outcome("passed") == BROWSER_CHECKS | {REPORTS_LISTED}, run.outcomes
    assert sandbox.portal_schemes and set(sandbox.portal_schemes) == {"Basic"}
    leaked = [p for p in run.results_dir.rglob("*") if p.is_file() and sandbox.password.encode() in p.read_bytes()]
    assert sandbox.password not in run.output and not leaked


def test_a_missing_browser_is_one_line_and_the_api_checks_still_pass(tmp_path, sandbox):
    env = environment_file(tmp_path, sandbox, kerberos_auth(sandbox), browser="/nonexistent/chrome")
    run = run_suite(tmp_path, "--env", env, "-m", f"api or {MARKERS}")
    assert run.returncode == 1, run.output
    failed = run.with_outcome("failed")
    assert len(failed) == 1 and failed <= BROWSER_CHECKS, run.outcomes
    message = run.messages[next(iter(failed))]
    assert message.startswith('Browser: [portal] browser = "/nonexistent/chrome" does not exist — install one: '
                               "`playwright install chromium`"), message
    assert "\n" not in message and "Traceback" not in run.output
    skipped = run.with_outcome("skipped")
    assert skipped == BROWSER_CHECKS - failed, run.outcomes
    for node in skipped:
        assert "the browser failed earlier in this run" in run.messages[node] and "/nonexistent/chrome" in \
            run.messages[node]
    assert REPORTS_LISTED in run.with_outcome("passed")
    assert "smoke/test_api.py::test_the_api_answers_an_authenticated_request" in run.with_outcome("passed")


# --- the pieces beneath --------------------------------------------------------------------------------------

def test_iis_error_pages_and_sign_in_pages_are_recognised():
    stopped = PageLoad("home", "https://kf/KeyfactorPortal/", url="https://kf/KeyfactorPortal/", status=503,
                       title="Service Unavailable",
                       text="Service Unavailable\nHTTP Error 503. The service is unavailable.")
    assert "answered 503" in stopped.document_problem() and "HTTP Error 503" in stopped.document_problem()
    yellow = PageLoad("home", "u", url="https://kf/KeyfactorPortal/", status=200,
                      title="Runtime Error", text="Server Error in '/KeyfactorPortal' Application.")
    assert "ASP.NET" in yellow.document_problem()
    refused = PageLoad("home", "u", url="https://kf/KeyfactorPortal/", status=401,
                       title="401 - Unauthorized: Access is denied due to invalid credentials.")
    assert refused.sign_in_page() and "answered 401" in refused.document_problem()
    adfs = PageLoad("home", "u", url="https://sts.corp.example.com/adfs/ls/?wa=wsignin1.0", status=200,
                    title="Sign In")
    assert "sign-in page" in adfs.document_problem()
    healthy = PageLoad("home", "u", url="https://kf/KeyfactorPortal/", status=200, title="Home - Keyfactor Command",
                       text="Welcome, svc-smoke\nActive certificates 20",
                       answers=[Answer("GET", "https://kf/KeyfactorPortal/Dashboard/Panel/RiskHeader", 500, "fetch")])
    assert healthy.document_problem() is None
    assert [str(a) for a in healthy.server_errors] == [
        "GET https://kf/KeyfactorPortal/Dashboard/Panel/RiskHeader → 500"]


def test_portal_markup_is_overridden_in_the_environment_file_and_a_misspelt_key_is_one_line(tmp_path):
    path = tmp_path / "env.toml"
    path.write_text('[command]\nurl = "https://kf.example.com"\n[portal]\ntimeout_s = 20\n'
                    '[portal.selectors]\nsearch_rows = "#grid tbody tr"\n[portal.pages]\ndashboard = "/Logi/Dash"\n')
    pages = pages_for(environment.load(str(path)))
    assert pages.selector("search_rows") == "#grid tbody tr"
    assert pages.selector("report_row", name='Say "hi"') == 'tr:has(td:text-is("Say \\"hi\\""))'
    assert pages.url("dashboard") == "https://kf.example.com/Logi/Dash"
    assert pages.url("certificate_search") == "https://kf.example.com/KeyfactorPortal/CertificateCollection/Edit?cid=0"
    path.write_text('[command]\nurl = "https://kf.example.com"\n[portal.selectors]\nsearch_rowz = "tr"\n')
    with pytest.raises(ConfigError) as raised:
        environment.load(str(path))
    assert "[portal] selectors" in str(raised.value) and "did you mean search_rows?" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_sandbox_lists_its_reports_as_the_openapi_document_says_with_the_query_prefix(sandbox):
    def reports(**params: object) -> list[dict]:
        answer = requests.get(f"{sandbox.url}/KeyfactorAPI/Reports", params=params, timeout=10,
                              headers={"x-keyfactor-requested-with": "APIClient", "Accept": "application/json"},
                              auth=(f"{DOMAIN}\\{USER}", sandbox.password), verify=str(sandbox.ca_bundle))
        assert answer.status_code == 200, answer.text
        assert response_errors("GET", "/Reports", 200, answer.json()) == []
        return answer.json()

    everything = reports()
    assert "Expiration Report" in {r["DisplayName"] for r in everything} and len(everything) >= 3
    pages = [reports(**{"query.pageReturned": n, "query.returnLimit": 2}) for n in (1, 2, 3)]
    assert [r["Id"] for page in pages for r in page] == [r["Id"] for r in everything]
    assert len(reports(**{"pq.returnLimit": 2})) == len(everything)  # another endpoint's prefix is ignored
