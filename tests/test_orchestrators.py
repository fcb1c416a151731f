"""The orchestrator heartbeat and the configuration review: green on a healthy sandbox, a stale orchestrator found
on the last page of a multi-page listing, each endpoint paged with its own query prefix, .NET time formats read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import requests

from sandbox import inventory, listing
from sandbox.app import DOMAIN, PASSWORD_ENV, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.inventory import UO_PLATFORMS
from sandbox.kdc import USER
from smoke.ground import settings
from smoke.ground.errors import ApiUnexpectedAnswer, ConfigError
from smoke.keyfactor import config_review
from smoke.keyfactor.client import AuthConfig, KeyfactorClient
from smoke.keyfactor.formats import parse_net_time, time_zone
from smoke.keyfactor.orchestrators import Heartbeat, Orchestrator, fetch, format_age, platform_name
from smoke.keyfactor.sections import OrchestratorsSection
from smoke.run import environment
from tests import openapi_spec
from tests.openapi_spec import response_errors
from tests.suite_runs import run_suite

HEADERS = {"x-keyfactor-requested-with": "APIClient", "x-keyfactor-api-version": "1", "Accept": "application/json"}
STALE_CHECK = "smoke/test_orchestrators.py::test_every_approved_orchestrator_checked_in_recently"
AGENTS, PAGE = 300, 100
ORCHESTRATORS_SECTION = f"""
[orchestrators]
max_last_seen_minutes = 30
expected = {json.dumps(list(inventory.EXPECTED))}
ignore = ["retired-*"]
page_size = {PAGE}
[orchestrators.minimum_versions]
"Universal Orchestrator" = "10.1"
"""


@pytest.fixture(scope="module")
def stale_sandbox(tmp_path_factory):
    """A Basic-only sandbox whose last orchestrator (in the default AgentId order) stopped checking in."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(inventory.AGENTS_ENV, str(AGENTS))
        running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults(["orchestrator-stale"]), kerberos=False)
        running.start()
    yield running
    running.stop()


def get(sandbox: Sandbox, path: str, **params: object) -> list[dict]:
    response = requests.get(f"{sandbox.url}/KeyfactorAPI{path}", params=params, headers=HEADERS,
                            auth=(f"{DOMAIN}\\{USER}", sandbox.password), verify=str(sandbox.ca_bundle), timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["X-Total-Count"].isdigit()
    return response.json()


def client(sandbox: Sandbox) -> KeyfactorClient:
    return KeyfactorClient(f"{sandbox.url}/KeyfactorAPI", AuthConfig("basic", f"{DOMAIN}\\{USER}", sandbox.password),
                           str(sandbox.ca_bundle), timeout_s=10)


# --- through the suite ---------------------------------------------------------------------------------------


def test_a_healthy_sandbox_passes_the_orchestrator_and_configuration_checks(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "orchestrators or config")
    assert run.returncode == 0, run.output
    assert len(run.outcomes) == 9 and run.with_outcome("passed") == set(run.outcomes), run.outcomes
    assert "Orchestrators listed: 300" in run.output


def test_a_stale_orchestrator_on_the_last_page_of_a_multi_page_listing_is_found(tmp_path, stale_sandbox):
    pages = [get(stale_sandbox, "/Agents", **{"pq.pageReturned": n, "pq.returnLimit": PAGE}) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [PAGE, PAGE, PAGE, 0]  # three full pages, and X-Total-Count says so
    stale = stale_sandbox.inventory.agents[-1]
    assert stale.seen_seconds_ago > 3 * 3600
    assert [a["ClientMachine"] for a in pages[2]][-1] == stale.client_machine
    assert stale.client_machine not in {a["ClientMachine"] for p in pages[:2] for a in p}

    env = tmp_path / "stale.toml"
    env.write_text(stale_sandbox.environment_toml() + ORCHESTRATORS_SECTION)
    run = run_suite(tmp_path, "--env", str(env), "-m", "orchestrators", env={PASSWORD_ENV: stale_sandbox.password})
    assert run.with_outcome("failed") == {STALE_CHECK}, run.output
    message = run.messages[STALE_CHECK]
    counted = sum(a.status == inventory.APPROVED and a.client_machine != inventory.RETIRED
                  for a in stale_sandbox.inventory.agents)
    assert f"1 of {counted} approved orchestrators has not checked in within 30 min: {stale.client_machine} " \
           "(Universal Orchestrator" in message
    assert "last seen 3h 07m ago, Approved, no error)" in message
    assert "\n" not in message.strip()


# --- paging: each endpoint's own prefix -----------------------------------------------------------------------


def test_the_agents_listing_reads_only_its_pq_prefix_so_a_wrong_prefix_sees_page_one_again(stale_sandbox):
    first_ten = get(stale_sandbox, "/Agents", **{"pq.pageReturned": 1, "pq.returnLimit": 10})
    second_ten = get(stale_sandbox, "/Agents", **{"pq.pageReturned": 2, "pq.returnLimit": 10})
    assert len(first_ten) == len(second_ten) == 10
    assert not {a["AgentId"] for a in first_ten} & {a["AgentId"] for a in second_ten}
    for ignored in ({"pageReturned": 2, "returnLimit": 10}, {"sq.pageReturned": 2, "sq.returnLimit": 10}):
        answer = get(stale_sandbox, "/Agents", **ignored)
        assert len(answer) == listing.DEFAULT_PAGE
        assert [a["AgentId"] for a in answer[:10]] == [a["AgentId"] for a in first_ten]
    descending = get(stale_sandbox, "/Agents", **{"pq.sortField": "AgentId", "pq.sortAscending": 1,
                                                   "pq.returnLimit": 1})
    assert descending[0]["ClientMachine"] == stale_sandbox.inventory.agents[-1].client_machine


def test_the_client_pages_every_endpoint_with_its_own_prefix(stale_sandbox):
    api = client(stale_sandbox)
    agents = list(api.pages("/Agents", page_size=PAGE))
    assert len({a["AgentId"] for a in agents}) == AGENTS
    assert all("pq.pageReturned" in e.url for e in api.exchanges) and len(api.exchanges) == 3  # no 4th: counted
    api.exchanges.clear()
    templates = list(api.pages("/Templates", page_size=2))
    assert len({t["Id"] for t in templates}) == len(stale_sandbox.inventory.templates) > 2
    assert all("sq.pageReturned" in e.url and "pq." not in e.url for e in api.exchanges)


def test_a_client_with_the_wrong_prefix_is_told_so_instead_of_seeing_only_the_first_page(stale_sandbox):
    api = client(stale_sandbox)
    # The server ignores sq.* on /Agents and answers its default first page of 50: a short page that the client
    # confirms by asking for page 2, which repeats page 1.
    with pytest.raises(ApiUnexpectedAnswer, match="ignores sq.pageReturned; check the paging prefix"):
        list(api.pages("/Agents", page_size=PAGE, prefix="sq."))
    # /Templates ignores pq.* and answers its default page of 50, which holds all of them: X-Total-Count says the
    # listing is complete after one request.
    api.exchanges.clear()
    assert len(list(api.pages("/Templates", page_size=2, prefix="pq."))) == len(stale_sandbox.inventory.templates)
    assert len(api.exchanges) == 1


def test_the_sandbox_answers_queries_and_refuses_unknown_fields(stale_sandbox):
    approved = get(stale_sandbox, "/Agents", **{"pq.queryString": 'Status -eq "2"', "pq.returnLimit": 1000})
    assert approved and all(a["Status"] == inventory.APPROVED for a in approved)
    assert len(approved) == sum(a.status == inventory.APPROVED for a in stale_sandbox.inventory.agents)
    named = get(stale_sandbox, "/Agents", **{"pq.queryString": f"ClientMachine -eq {inventory.EXPECTED[0]}"})
    assert [a["ClientMachine"] for a in named] == [inventory.EXPECTED[0]]
    response = requests.get(f"{stale_sandbox.url}/KeyfactorAPI/Agents", params={"pq.queryString": "Colour -eq 1"},
                            headers=HEADERS, auth=(f"{DOMAIN}\\{USER}", stale_sandbox.password),
                            verify=str(stale_sandbox.ca_bundle), timeout=10)
    assert response.status_code == 400 and set(response.json()) == {"ErrorCode", "Message"}


def _without_nulls(items: list[dict]) -> list[dict]:
    # The generated spec marks no field nullable, yet Keyfactor answers null for unset fields (recorded on 25.4:
    # "LastErrorCode":null); every field that has a value must conform.
    return [{k: v for k, v in item.items() if v is not None} for item in items]


@pytest.mark.parametrize(("path", "schema"), [
    ("/Agents", "KeyfactorApi.Models.Orchestrators.AgentResponse"),
    ("/CertificateAuthority", "Models.CertificateAuthorities.CertificateAuthorityResponse"),
    ("/CertificateCollections", "Models.CertificateQuery"),
])
def test_the_listings_validate_against_the_openapi_document(stale_sandbox, path, schema):
    items = get(stale_sandbox, path, **{"pq.returnLimit": 1000})
    assert response_errors("GET", path, 200, _without_nulls(items)) == []
    assert set().union(*items) == set(openapi_spec.spec()["components"]["schemas"][schema]["properties"])


def test_templates_validate_apart_from_the_known_enrollment_type_enum(stale_sandbox):
    # The spec's AllowedEnrollmentTypes enum is [0, 1, 2, 4]; Keyfactor documents a bitmask and answers 3 for both
    # (see sandbox/templates.py). Every other field must conform.
    items = _without_nulls(get(stale_sandbox, "/Templates", **{"sq.returnLimit": 100}))
    errors = response_errors("GET", "/Templates", 200, items)
    assert errors and all(e.endswith("/AllowedEnrollmentTypes: 3 is not one of [0, 1, 2, 4]") for e in errors), errors


# --- the platform of a Universal Orchestrator: 7 or 1 -------------------------------------------------------------

OLD_VERSION_CHECK = "smoke/test_orchestrators.py::test_orchestrator_versions_meet_the_platform_minimums"


@pytest.mark.parametrize(("reported", "platform"), [
    ({"AgentPlatform": 1, "Version": "25.4.1.0", "Capabilities": ["SSL", "LOGS"]}, "Universal Orchestrator"),  # 25.4
    ({"AgentPlatform": 7, "Version": "10.4.1.0", "Capabilities": ["LOGS"]}, "Universal Orchestrator"),  # 11.x docs
    ({"AgentPlatform": 1, "Version": "8.5.0.0", "Capabilities": ["CertStores.IISU.Inventory"]},
     "Universal Orchestrator"),
    ({"AgentPlatform": 1, "Version": "8.7.0.0", "Capabilities": ["IIS", "F5", "LOGS", "SSL"]}, ".NET"),
    ({"AgentPlatform": 1, "Version": "", "Capabilities": None}, ".NET"),
    ({"AgentPlatform": 2, "Version": "9.0.0.0", "Capabilities": ["JKS"]}, "Java"),
    ({"AgentPlatform": 9}, "platform 9"),
    ({"AgentPlatform": None}, "Unknown"),
])
def test_a_universal_orchestrator_is_recognised_by_what_the_server_says_not_by_its_number(reported, platform):
    assert platform_name(reported) == platform


@pytest.fixture(scope="module", params=UO_PLATFORMS)
def old_uo_sandbox(request, tmp_path_factory):
    """A sandbox with one Universal Orchestrator left at 9.5, reporting UOs as AgentPlatform 1 or 7."""
    running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults(["orchestrator-old-version"]), kerberos=False,
                      uo_platform=request.param)
    running.start()
    yield running
    running.stop()


def test_the_minimum_versions_flag_the_same_orchestrators_whether_a_uo_is_platform_1_or_7(old_uo_sandbox):
    section = OrchestratorsSection(**settings.read_toml(settings.ENVIRONMENTS_DIR / "sandbox.toml")["orchestrators"])
    listed = fetch(client(old_uo_sandbox), section)
    universal = [o for o in listed if o.platform == "Universal Orchestrator"]
    reported = {a.reported_platform(old_uo_sandbox.uo_platform) for a in old_uo_sandbox.inventory.agents
                if a.platform == inventory.UNIVERSAL}
    assert reported == {old_uo_sandbox.uo_platform}
    assert len(universal) == sum(a.platform == inventory.UNIVERSAL for a in old_uo_sandbox.inventory.agents)
    flagged = [(o.client_machine, o.platform, o.version, m) for o, m in Heartbeat.of(listed, section).below_minimum()]
    old = next(a for a in old_uo_sandbox.inventory.agents if a.version == inventory.OLD_UO_VERSION)
    assert flagged == [(old.client_machine, "Universal Orchestrator", inventory.OLD_UO_VERSION, "10.1")]


def test_the_version_check_names_an_old_uo_reported_as_platform_1(tmp_path):
    text = (settings.ENVIRONMENTS_DIR / "sandbox.toml").read_text()
    env = tmp_path / "sandbox-uo1.toml"
    env.write_text(text.replace("[sandbox]\n", "[sandbox]\nuo_platform = 1\n", 1))
    run = run_suite(tmp_path, "--env", str(env), "-m", "orchestrators", "--sandbox-fault", "orchestrator-old-version")
    assert run.with_outcome("failed") == {OLD_VERSION_CHECK}, run.output
    assert set(run.outcomes) - {OLD_VERSION_CHECK} == run.with_outcome("passed")
    message = run.messages[OLD_VERSION_CHECK]
    assert "1 approved orchestrator below the minimum version for its platform: uo-" in message
    assert f"(Universal Orchestrator {inventory.OLD_UO_VERSION}, " in message and "below 10.1" in message


# --- .NET time formats --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "zoneless", "expected"), [
    ("2026-03-12T16:26:49.6330000Z", "UTC", "2026-03-12T16:26:49.633000+00:00"),
    ("2026-03-12T16:26:49.1234567", "UTC", "2026-03-12T16:26:49.123456+00:00"),  # 7 digits, no zone
    ("2026-03-12T16:26:49.12", "UTC", "2026-03-12T16:26:49.120000+00:00"),  # Json.NET drops trailing zeros
    ("2026-03-12T16:26:49", "UTC", "2026-03-12T16:26:49+00:00"),
    ("2026-03-12T16:26:49z", "+02:00", "2026-03-12T16:26:49+00:00"),  # a zone in the text wins
    ("2026-03-12T18:26:49.5+02:00", "UTC", "2026-03-12T18:26:49.500000+02:00"),
    ("2026-03-12T11:26:49-0500", "UTC", "2026-03-12T11:26:49-05:00"),
    ("2026-03-12 16:26:49.633", "UTC", "2026-03-12T16:26:49.633000+00:00"),
    ("2026-03-12T18:26:49.6330000", "+02:00", "2026-03-12T18:26:49.633000+02:00"),  # the server's zone
    ("2026-07-12T18:26:49", "Europe/Berlin", "2026-07-12T16:26:49+00:00"),  # summer time: +02:00
    ("2026-01-12T17:26:49", "Europe/Berlin", "2026-01-12T16:26:49+00:00"),  # winter time: +01:00
])
def test_dotnet_date_times_are_read_in_every_form_it_writes(text, zoneless, expected):
    parsed = parse_net_time(text, time_zone(zoneless))
    assert parsed is not None and parsed == dt.datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00", "12/03/2026 16:26", None, 1712345678])
def test_unreadable_times_are_none(text):
    assert parse_net_time(text) is None


def test_the_sandbox_writes_times_as_json_net_does_and_the_suite_reads_them_back():
    when = dt.datetime(2026, 3, 12, 16, 26, 49, 633000)
    assert inventory.json_net_time(when, ticks=0) == "2026-03-12T16:26:49.633Z"
    assert inventory.json_net_time(when, ticks=7, zone=False) == "2026-03-12T16:26:49.6330007"
    assert inventory.json_net_time(when.replace(microsecond=0), zone=False) == "2026-03-12T16:26:49"
    for text in ("2026-03-12T16:26:49.633Z", "2026-03-12T16:26:49.6330007", "2026-03-12T16:26:49"):
        parsed = parse_net_time(text)
        assert parsed is not None and parsed.replace(microsecond=0) == when.replace(microsecond=0, tzinfo=dt.UTC)


def _agent(name: str, last_seen: str | None, status: int = 2, **extra: object) -> dict:
    return {"AgentId": "0f6e2b1c-0000-4000-8000-000000000001", "ClientMachine": name, "AgentPlatform": 7,
            "Version": "10.4.1.0", "Status": status, "LastSeen": last_seen, "LastErrorCode": None,
            "LastErrorMessage": None, **extra}


def test_zone_less_times_in_the_servers_zone_read_as_utc_look_like_the_future_and_the_check_says_so():
    now = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
    server_local = "2026-03-12T13:55:00.1234567"  # 5 minutes ago on a +02:00 server, written without a zone
    as_utc = OrchestratorsSection()
    right = OrchestratorsSection(zoneless_times="+02:00")
    wrong_beat = Heartbeat.of([Orchestrator.from_api(_agent("uo1", server_local), time_zone("UTC"))], as_utc, now)
    right_beat = Heartbeat.of([Orchestrator.from_api(_agent("uo1", server_local), time_zone("+02:00"))], right, now)
    assert right_beat.stale() == [] and not right_beat.in_the_future()
    assert [o.client_machine for o in wrong_beat.stale()] == ["uo1"] and wrong_beat.in_the_future()
    assert "last seen 1h 55m in the future" in wrong_beat.stale()[0].describe(now)


def test_the_heartbeat_judges_each_rule_and_names_what_it_found():
    now = dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)
    expected = ["orch01.corp.example.com", "orch01.corp.example.org", "ORCH03.corp.example.com"]
    section = OrchestratorsSection(expected=expected,
                                   ignore=["retired-*"], minimum_versions={"universal orchestrator": "10.1"})
    listed = [
        _agent("orch01.corp.example.com", "2026-03-12T11:58:00Z"),
        _agent("orch03.corp.example.com", "2026-03-12T11:58:00Z", status=1),
        _agent("uo-old.corp.example.com", "2026-03-12T11:20:00.5Z"),
        _agent("uo-never.corp.example.com", None),
        _agent("uo-garbled.corp.example.com", "12/03/2026"),
        _agent("retired-uo.corp.example.com", "2020-01-01T00:00:00Z"),
        _agent("uo-v9.corp.example.com", "2026-03-12T11:59:00Z", Version="9.10.0.0"),
        _agent("uo-err.corp.example.com", "2026-03-12T11:59:00Z", LastErrorCode=5, LastErrorMessage="Access denied"),
        _agent("uo-bad.corp.example.com", "2026-03-12T11:59:00Z", status=3, LastErrorMessage="not approved"),
    ]
    beat = Heartbeat.of([Orchestrator.from_api(a, dt.UTC) for a in listed], section, now)
    assert [o.client_machine for o in beat.stale()] == [
        "uo-old.corp.example.com", "uo-never.corp.example.com", "uo-garbled.corp.example.com"]
    assert [o.seen(now) for o in beat.stale()] == [
        "last seen 39 min ago", "never seen", "last seen unreadable ('12/03/2026')"]
    problems = beat.expected_problems()
    assert problems[0] == "orch01.corp.example.org (not registered; did you mean orch01.corp.example.com?)"
    assert problems[1] == ("orch03.corp.example.com (Universal Orchestrator 10.4.1.0, last seen 2 min ago, New, "
                           "no error)")
    assert len(problems) == 2
    assert [o.describe(now) for o in beat.with_errors()] == [
        "uo-err.corp.example.com (Universal Orchestrator 10.4.1.0, last seen 1 min ago, Approved, error 5: "
        "Access denied)"]
    assert [(o.client_machine, m) for o, m in beat.below_minimum()] == [("uo-v9.corp.example.com", "10.1")]
    assert format_age(dt.timedelta(days=400, hours=3)) == "400d 03h"


def test_an_unknown_platform_or_zone_or_version_in_the_environment_is_one_line(tmp_path):
    beat = Heartbeat.of([], OrchestratorsSection(minimum_versions={"Universal": "10.1"}))
    with pytest.raises(ConfigError, match="\"Universal\" is not an orchestrator platform — use one of: 'Unknown'"):
        beat.below_minimum()
    for key, value, says in (("zoneless_times", "Mars/Olympus", 'is not a time zone: use "UTC"'),
                             ("max_last_seen_minutes", 0, "greater than 0")):
        with pytest.raises(ConfigError, match=f"\\[orchestrators\\] {key} = .*{says}"):
            environment.build("t", Path("t.toml"), {"command": {"url": "https://kf"}, "orchestrators": {key: value}})
    with pytest.raises(ConfigError, match="is not a version"):
        environment.build("t", Path("t.toml"), {"command": {"url": "https://kf"},
                                             "orchestrators": {"minimum_versions": {"Java": "latest"}}})


# --- the configuration review -----------------------------------------------------------------------------


def test_removed_search_fields_count_only_where_a_query_names_a_field():
    assert config_review.removed_fields_in('CARequestId -gt "0" AND requestresolutiondate -ge "%TODAY%"') == [
        "CARequestId", "RequestResolutionDate"]
    assert config_review.removed_fields_in('(KeyfactorRequestId -eq 5) OR CN -eq "x"') == ["KeyfactorRequestId"]
    assert config_review.removed_fields_in('IssuedCN -contains "CARequestId-migrated"') == []
    assert config_review.removed_fields_in("KeyfactorRequestIdentifier -eq 5 AND Metadata.CARequestId -eq 1") == []
    offenders = config_review.collections_using_removed_fields([
        {"Id": 3, "Name": "Old", "Content": "KeyfactorRequestId -gt 0", "Description": ""},
        {"Id": 4, "Name": "Described", "Content": "CN -eq x", "Description": "KeyfactorRequestId"},
        {"Id": 5, "Name": "Posted", "Content": None, "Query": "CARequestId -eq 7"},
    ])
    assert offenders == ['"Old" (Id 3) uses KeyfactorRequestId', '"Posted" (Id 5) uses CARequestId']


def test_duplicates_are_per_forest_and_ignore_case():
    cas = [{"Id": 1, "LogicalName": "CorpCA", "HostName": "ca01.corp"},
           {"Id": 2, "LogicalName": "corpca", "HostName": "CA01.corp"},
           {"Id": 3, "LogicalName": "CorpCA", "HostName": "ca02.corp"}]
    assert [d.line() for d in config_review.duplicate_cas(cas)] == [
        'logical name "CorpCA" on host "ca01.corp" (Ids 1, 2)']
    templates = [{"Id": 1, "CommonName": "Web", "Oid": "1.2.3", "ForestRoot": "corp"},
                 {"Id": 2, "CommonName": "Web", "Oid": "1.2.9", "ForestRoot": "partner"},
                 {"Id": 3, "CommonName": "WebV2", "Oid": "1.2.3", "ForestRoot": "corp"}]
    assert [d.line() for d in config_review.duplicate_templates(templates)] == [
        'template Web in forest "corp" shares OID "1.2.3" (Ids 1, 3)']
