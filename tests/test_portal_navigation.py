"""The portal checks find their own pages: against a portal whose routes and markup differ from the sandbox's guess
(`--sandbox-portal other`) they are green with no [portal] pages setting; with its navigation hidden each page
check names its setting and the closest links instead of blaming the server; a setting still wins; the portal map
prints the lines to paste. Failing dashboard and report requests are named with the "Dashboard and Reports" fix
even when the page shows an error text. Real Chromium against the sandbox, then the matching rules beneath."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.kdc import USER
from smoke.portal.navigation import Link, closest, find, links_from, route
from smoke.portal.pages import pages_for
from smoke.run import environment
from tests.suite_runs import ROOT, run_suite

MARKERS = "portal or dashboard or reports"
HOME = "smoke/test_portal.py::test_the_portal_home_page_loads_completely_after_authentication"
SEARCH = "smoke/test_portal.py::test_certificate_search_shows_its_results_grid"
DASHBOARD = "smoke/test_dashboard.py::test_the_dashboard_and_every_request_it_makes_answer_below_500"
REPORTS = "smoke/test_reports.py::test_every_configured_report_runs_and_renders_its_output"
LISTED = "smoke/test_reports.py::test_the_api_lists_every_configured_report"


def facts(results: Path) -> dict[str, str]:
    """The report's environment table (environment.properties), unescaped."""
    found = {}
    for line in (results / "environment.properties").read_text(encoding="utf-8").splitlines():
        key, _, value = line.replace("\\ ", " ").replace("\\:", ":").replace("\\=", "\x00").partition("=")
        found[key.replace("\x00", "=")] = value.replace("\x00", "=")
    return found


def test_the_checks_find_the_pages_of_another_portal_layout_through_its_navigation(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-portal", "other", "-m", MARKERS)
    assert run.returncode == 0, run.output
    assert run.with_outcome("passed") == {HOME, SEARCH, DASHBOARD, REPORTS, LISTED}, run.outcomes
    table = facts(run.results_dir)
    assert table["Portal page dashboard"] == ("/KeyfactorPortal/Home/Dashboard (found in the navigation: link "
                                              "'Dashboard')")
    assert table["Portal page certificate_search"] == (
        "/KeyfactorPortal/Certificates/Search?cid=0 (found in the navigation: link 'Certificate Search')")
    assert table["Portal page report_manager"] == ("/KeyfactorPortal/Reporting/Manager (found in the navigation: "
                                                   "link 'Report Manager 5', which contains 'Report Manager')")
    assert "sandbox note: portal layout: other" in run.output


def test_with_the_navigation_hidden_each_page_check_names_its_setting_and_the_closest_links(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-portal", "other-nonav", "-m", MARKERS)
    assert run.returncode == 1, run.output
    assert run.with_outcome("failed") == {SEARCH, DASHBOARD, REPORTS}, run.outcomes
    assert run.with_outcome("passed") == {HOME, LISTED}, run.outcomes
    for node, setting, near in [
        (SEARCH, "[portal] pages.certificate_search", "Active certificates' → /KeyfactorPortal/Certificates/Search"),
        (DASHBOARD, "[portal] pages.dashboard", "links on the home page closest to 'Dashboard': "),
        (REPORTS, "[portal] pages.report_manager", "'5 Reports' → /KeyfactorPortal/Reporting/Manager"),
    ]:
        message = run.messages[node]
        assert "answered 404" in message and "the route differs on this server (the home page loads)" in message
        assert f"set {setting} to its address" in message and near in message, message
        assert "--portal-map" in message and "Command_Portal_Log" not in message, message
        assert "\n" not in message
    assert "Connectivity or environment" in run.output and "Product defect" not in run.output


@pytest.fixture(scope="module")
def nonav_sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults(), kerberos=False, portal_layout="other-nonav")
    running.start()
    yield running
    running.stop()


def test_a_pages_setting_wins_over_the_navigation_and_a_wrong_one_names_itself(tmp_path, nonav_sandbox):
    env = tmp_path / "env.toml"
    user = json.dumps(f"{DOMAIN}\\{USER}")
    env.write_text("\n".join([
        "[command]", f'url = "{nonav_sandbox.url}"', "timeout_s = 10",
        f"ca_bundle = {json.dumps(str(nonav_sandbox.ca_bundle))}",
        "[auth]", 'method = "basic"', f"username = {user}",
        'password_env = "KF_TEST_PASSWORD"',
        "[portal]", "[portal.pages]", 'certificate_search = "{portal}/Certificates/Search?cid=0"',
        'report_manager = "/KeyfactorPortal/Reporting/Manager"', 'dashboard = "{portal}/Dashboard/Home"',
        "[reports]", 'names = ["Expiration Report"]',
    ]) + "\n")
    run = run_suite(tmp_path, "--env", str(env), "-m", MARKERS, env={"KF_TEST_PASSWORD": nonav_sandbox.password})
    assert run.with_outcome("passed") == {HOME, SEARCH, REPORTS, LISTED}, run.outcomes
    assert run.with_outcome("failed") == {DASHBOARD}, run.outcomes
    message = run.messages[DASHBOARD]
    assert "/KeyfactorPortal/Dashboard/Home answered 404" in message, message
    assert "nothing at the address [portal] pages.dashboard names: correct it" in message, message
    assert facts(run.results_dir)["Portal page report_manager"] == (
        "/KeyfactorPortal/Reporting/Manager (set in [portal] pages.report_manager)")


def test_dashboard_500_names_each_failing_request_and_the_wizard_tab_though_the_page_shows_an_error(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-fault", "dashboard-500", "-m", "dashboard")
    assert run.with_outcome("failed") == {DASHBOARD}, run.outcomes
    message = run.messages[DASHBOARD]
    for panel in ("RiskHeader", "Collections", "RevocationMonitoring"):
        assert f"GET /KeyfactorPortal/Dashboard/Panel/{panel} → 500" in message, message
    assert "made 3 request(s) that failed" in message
    assert "the page shows an ASP.NET error page" in message  # added to the requests, not put in their place
    assert message.endswith('"Dashboard and Reports" tab (Logi reaches the Keyfactor API through them), then iisreset')


def test_reports_500_names_the_failing_report_request_and_the_wizard_tab(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-fault", "reports-500", "-m", "reports")
    assert run.with_outcome("failed") == {REPORTS}, run.outcomes
    message = run.messages[REPORTS]
    for report in ("ExpirationReport", "PKIStatusForCollection"):
        assert f"GET /KeyfactorLogi/rdPage.aspx?rdReport=Keyfactor.{report}&" in message, message
    assert "1 request(s) failed" in message and "→ 500; Logi's error page" in message
    assert '"Dashboard and Reports" tab' in message


def portal_map(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "--env", "sandbox", "--portal-map", "--report-dir",
                           str(tmp_path / "reports"), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_portal_map_prints_each_link_and_the_pages_lines_to_paste(tmp_path):
    done = portal_map(tmp_path, "--sandbox-portal", "other")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Orchestrator Job Status" in out and "→ /KeyfactorPortal/AgentJobStatus/Index" in out
    assert "/KeyfactorPortal/Home/Dashboard → 200 (found in the navigation: link 'Dashboard')" in out
    pasted = out[out.index("\n[portal.pages]") + 1:].splitlines()
    assert pasted == ["[portal.pages]", 'dashboard = "{portal}/Home/Dashboard"',
                      'certificate_search = "{portal}/Certificates/Search?cid=0"',
                      'report_manager = "{portal}/Reporting/Manager"']
    assert not (tmp_path / "reports").exists()  # a map is not a run: no report


def test_the_portal_map_fails_in_one_line(tmp_path):
    done = portal_map(tmp_path, "--sandbox-fault", "portal-down")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith("portal map: the portal home page did not load: ") and "503" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


# --- the matching rules beneath ---------------------------------------------------------------------------------

HOME_URL = "https://kf.example.com/KeyfactorPortal/"


def test_the_home_pages_links_are_read_once_each_from_this_server_only():
    read = [("\n Dashboard ", "https://kf.example.com/KeyfactorPortal/Home/Dashboard", "", ""),
            ("Dashboard", "https://kf.example.com/KeyfactorPortal/Home/Dashboard#top", "", ""),
            ("Certificates ▾", "https://kf.example.com/KeyfactorPortal/#", "", ""),
            ("", "https://kf.example.com/KeyfactorPortal/Reporting/Manager", "Report Manager", ""),
            ("", "https://kf.example.com/KeyfactorPortal/Alerts", "", "Alerts"),
            ("Vendor site", "https://www.keyfactor.com/", "", ""),
            ("Menu", "javascript:void(0)", "", ""),
            ("Top", "https://kf.example.com/KeyfactorPortal/#top", "", ""),
            ("Alerts", "https://kf.example.com/KeyfactorPortal/#/alerts", "", "")]
    assert links_from(read, HOME_URL) == [
        Link("Dashboard", "https://kf.example.com/KeyfactorPortal/Home/Dashboard"),
        Link("Report Manager", "https://kf.example.com/KeyfactorPortal/Reporting/Manager"),
        Link("Alerts", "https://kf.example.com/KeyfactorPortal/Alerts"),
        Link("Alerts", "https://kf.example.com/KeyfactorPortal/#/alerts"),
    ]


def test_a_link_reading_the_text_wins_over_one_containing_it_and_closest_ranks_by_likeness():
    links = [Link("My Dashboard settings", "https://kf/a"), Link("DASHBOARD", "https://kf/b"),
             Link("Reports", "https://kf/c"), Link("Report Manager 5", "https://kf/d")]
    assert find(links, ["Dashboard"]) == (links[1], "Dashboard")
    assert find(links, ["Tableau de bord", "Report Manager"]) == (links[3], "Report Manager")
    assert find(links, ["Certificate Search"]) is None
    assert closest(links, ["Report Manager"], 2) == [links[3], links[2]]
    found = route("dashboard", "https://kf/KeyfactorPortal/Dashboard", False, ["Certificate Search"], links)
    assert found.source == "default" and found.url == "https://kf/KeyfactorPortal/Dashboard"
    assert route("dashboard", "https://kf/x", True, ["Dashboard"], None).how == "set in [portal] pages.dashboard"


def test_the_navigation_texts_are_set_in_the_environment_file(tmp_path):
    path = tmp_path / "env.toml"
    path.write_text('[command]\nurl = "https://kf.example.com"\n[portal.texts]\nnav_dashboard = ["Tableau de bord"]\n'
                    '[portal.pages]\nreport_manager = "{portal}/Reports"\n')
    pages = pages_for(environment.load(str(path)))
    assert pages.texts["nav_dashboard"] == ["Tableau de bord"]
    assert pages.texts["nav_report_manager"] == ["Report Manager"]
    assert pages.overridden == {"report_manager"}
