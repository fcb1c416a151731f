"""The sandbox's configuration (sandbox/configuration): every endpoint the carried-over checks read answers as the
vendor's OpenAPI document says — or, where the document lacks the endpoint, as the 10.x documentation describes
it — with each endpoint's own paging prefix; the configuration is the same at every start; the secrets the real
API returns are in the answers; the large scale for bench/ has what it promises."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sandbox import configuration
from sandbox.app import Sandbox
from sandbox.configuration import alerts, stores, workflows
from sandbox.faults import ActiveFaults
from sandbox.inventory import Inventory
from sandbox.listing import Listing
from tests import openapi_spec, test_sandbox_api
from tests.openapi_spec import response_errors
from tests.test_sandbox_api import call

PAGE = {"pq.returnLimit": 1000, "sq.returnLimit": 1000, "pagedQuery.returnLimit": 1000, "query.returnLimit": 1000,
        "cstquery.returnLimit": 1000, "returnLimit": 1000}

# Outside the OpenAPI file: their documented shapes are checked by tests/test_sandbox_api.py.
DOCUMENTED = ("/Security/Roles", "/Security/Identities", "/CertificateStores")
SPEC_LISTS = ["/MetadataFields", "/AgentPools", "/CertificateStoreTypes", "/CertificateStoreContainers",
              "/SSL/Networks", "/Monitoring/Revocation", "/Reports", "/Reports/Custom", "/JobTypes/Custom",
              "/CertificateAuthority", "/Workflow/Definitions", *(f"/Alerts/{kind}" for kind in alerts.KINDS)]


sandbox = test_sandbox_api.sandbox  # the same fixture: a healthy sandbox for the module


def get(sandbox: Sandbox, path: str, **params: Any) -> Any:
    response = call(sandbox, "GET", path, params=params)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response.json()


def without_nulls(value: Any) -> Any:
    # The generated spec marks no field nullable, yet Keyfactor answers null for unset fields (recorded on 25.4);
    # every field that has a value must conform.
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def properties_of(method: str, path: str) -> set[str]:
    """The properties the spec gives one item of a list answer (or the answer itself)."""
    _, operation = openapi_spec.operation(method, path)
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    reference = schema.get("items", schema)["$ref"].rsplit("/", 1)[-1]
    return set(openapi_spec.spec()["components"]["schemas"][reference]["properties"])


@pytest.mark.parametrize("path", SPEC_LISTS)
def test_every_configuration_listing_validates_against_the_openapi_document_with_every_field(sandbox, path):
    items = get(sandbox, path, **PAGE)
    assert items, f"{path} lists nothing"
    assert response_errors("GET", path, 200, without_nulls(items)) == []
    assert set().union(*items) == properties_of("GET", path)


@pytest.mark.parametrize("path", ["/Templates/Settings", "/SMTP", "/Alerts/Expiration/Schedule", "/License"])
def test_every_single_configuration_answer_validates_against_the_openapi_document(sandbox, path):
    answer = get(sandbox, path)
    assert response_errors("GET", path, 200, without_nulls(answer)) == []
    assert set(answer) == properties_of("GET", path) | ({"KeyfactorVersion", "LicenseData"} & set(answer))


def test_every_template_detail_validates_apart_from_the_known_enrollment_type_enum(sandbox):
    listed = get(sandbox, "/Templates", **{"sq.returnLimit": 1000})
    forests = {t["ForestRoot"] for t in listed}
    assert len(forests) >= 3 and len(listed) == len(sandbox.inventory.templates)
    for summary in listed:
        detail = get(sandbox, f"/Templates/{summary['Id']}")
        assert set(detail) == properties_of("GET", f"/Templates/{summary['Id']}")
        assert {k: v for k, v in detail.items() if k in summary} == summary  # the list says what the detail says
        errors = response_errors("GET", f"/Templates/{summary['Id']}", 200, without_nulls(detail))
        # The spec's AllowedEnrollmentTypes enum is [0, 1, 2, 4]; Keyfactor answers the bitmask 3 (templates.py).
        assert all(e == "AllowedEnrollmentTypes: 3 is not one of [0, 1, 2, 4]" for e in errors), errors
        policy = detail["TemplatePolicy"]
        assert policy["TemplateId"] == detail["Id"] and (policy["RSAValidKeySizes"] or policy["ECCValidCurves"])
    web = get(sandbox, "/Templates/1")
    assert web["CommonName"] == "WebServer" and web["TemplatePolicy"]["AllowWildcards"] is True
    assert web["TemplateRegexes"] and web["TemplateDefaults"] and web["MetadataFields"] and web["EnrollmentFields"]


def test_every_workflow_definition_and_network_range_validates_against_the_openapi_document(sandbox):
    for summary in get(sandbox, "/Workflow/Definitions", **{"query.returnLimit": 100}):
        path = f"/Workflow/Definitions/{summary['Id']}"
        definition = get(sandbox, path)
        errors = response_errors("GET", path, 200, without_nulls(definition))
        # ConfigurationParameters is a .NET Dictionary<string, object>, which the generator wrote as "values are
        # objects": the parameters themselves are strings, numbers and booleans ("Verb": "POST").
        assert all(re.match(r"Steps/\d+/ConfigurationParameters/\w+: .* is not of type 'object'$", e)
                   for e in errors), errors
        assert set(definition) == properties_of("GET", path)
    steps = {s["ExtensionName"] for w in sandbox.configuration.workflows for s in w.response()["Steps"]}
    assert {"RESTRequest", "Email", "RequireApproval", "PowerShell"} <= steps
    for network in get(sandbox, "/SSL/Networks", **{"sq.returnLimit": 100}):
        path = f"/SSL/NetworkRanges/{network['NetworkId']}"
        ranges = get(sandbox, path)
        assert ranges and response_errors("GET", path, 200, ranges) == []
    for report in get(sandbox, "/Reports", **{"query.returnLimit": 100}):
        path = f"/Reports/{report['Id']}/Schedules"
        assert get(sandbox, path) == report["Schedules"]
        assert response_errors("GET", path, 200, without_nulls(report["Schedules"])) == []
    assert any(len(r["Schedules"]) > 1 for r in get(sandbox, "/Reports"))


def test_each_listing_reads_only_its_own_paging_names(sandbox):
    """A client with the wrong prefix sees the default first page (50) again and again, as on IIS."""
    for path, prefix in (("/Security/Roles", ""), ("/Security/Identities", ""),
                         ("/CertificateStores", "certificateStoreQuery."), ("/Workflow/Definitions", "query."),
                         ("/Alerts/Expiration", "pagedQuery."), ("/CertificateStoreTypes", "cstquery.")):
        everything = get(sandbox, path, **{f"{prefix}returnLimit": 1000})
        second = get(sandbox, path, **{f"{prefix}pageReturned": 2, f"{prefix}returnLimit": 3})
        assert second == everything[3:6], path
        for wrong in {"pq.", "", "query."} - {prefix}:
            assert get(sandbox, path, **{f"{wrong}pageReturned": 2, f"{wrong}returnLimit": 3}) == everything[:50]


def test_the_answers_hold_the_secrets_the_real_api_returns_so_that_the_suites_masking_is_exercised(sandbox):
    secrets = sandbox.configuration.secrets.values
    assert len(secrets) >= 5
    answers = json.dumps([get(sandbox, "/CertificateStores", **{"certificateStoreQuery.returnLimit": 1000}),
                          get(sandbox, "/Alerts/Expiration", **{"pagedQuery.returnLimit": 100}),
                          get(sandbox, "/CertificateAuthority"),
                          *(get(sandbox, f"/Workflow/Definitions/{w.id}") for w in sandbox.configuration.workflows)])
    assert all(secret in answers for secret in secrets), "a secret the configuration holds is never answered"
    store = get(sandbox, "/CertificateStores", **{"certificateStoreQuery.returnLimit": 1})[0]
    assert json.loads(store["Properties"])["ServerPassword"]["value"]["SecretValue"] in secrets
    assert "RelayPassword" not in get(sandbox, "/SMTP")  # the 10.x SMTPResponse has none


def _every_answer(sandbox: Sandbox) -> dict[str, Any]:
    found = {path: get(sandbox, path, **PAGE) for path in (*SPEC_LISTS, *DOCUMENTED, "/Templates")}
    found["/CertificateStores"] = get(sandbox, "/CertificateStores", **{"certificateStoreQuery.returnLimit": 1000})
    found.update({f"/Templates/{t.id}": get(sandbox, f"/Templates/{t.id}") for t in sandbox.inventory.templates})
    found["/Agents"] = [{k: v for k, v in a.items() if k != "LastSeen"} for a in found.pop("/AgentPools")[0]["Agents"]]
    return found


def test_the_configuration_is_the_same_at_every_start_but_its_secrets(sandbox, tmp_path):
    again = Sandbox(tmp_path / "again", ActiveFaults(), kerberos=False)
    again.start()
    try:
        first, second = json.dumps(_every_answer(sandbox)), json.dumps(_every_answer(again))
        for old, new in zip(sandbox.configuration.secrets.values, again.configuration.secrets.values, strict=True):
            assert old != new
            first, second = first.replace(old, "(secret)"), second.replace(new, "(secret)")
        assert first == second
    finally:
        again.stop()


def test_the_large_scale_holds_what_bench_needs_and_pages_each_store_once():
    inventory = Inventory(ActiveFaults(), agent_count=10_000)
    large = configuration.build(inventory, ActiveFaults(), configuration.SCALES["large"])
    assert len(inventory.templates) == 2_000
    assert len(large.security.roles) == 500
    assert len(large.stores.stores) == 50_000
    assert sum(len(listed) for listed in large.alerts.by_kind.values()) == 1_000
    rendered: list[str] = []

    def render(store: stores.Store) -> dict[str, Any]:
        rendered.append(store.id)
        return large.stores.response(store)

    listing = Listing("certificateStoreQuery.", lambda: large.stores.stores, render, {"id": lambda s: s.id}, "Id")
    ids: list[str] = []
    for page in range(1, 102):
        request = type("R", (), {"param": lambda self, name, page=page: {"certificateStoreQuery.pageReturned": str(
            page), "certificateStoreQuery.returnLimit": "500"}.get(name)})()
        ids += [item["Id"] for item in json.loads(listing.answer(request).body)]
    assert len(ids) == len(set(ids)) == 50_000 and rendered == ids  # every store rendered once, on its page


@pytest.mark.parametrize("fault, changed", [
    ("template-policy-reset", lambda c: c.templates.profiles[("corp.example.com", "WebServer")].policy.wildcards),
    ("role-permission-lost", lambda c: "Certificates:Revoke" in c.security.roles[1].permissions),
    ("alert-handler-moved", lambda c: c.alerts.by_kind["Expiration"][0]["EventHandlerParameters"][0]["DefaultValue"]
     .startswith(alerts.EXTENSION_LIBRARY)),
    ("workflow-step-changed", lambda c: c.workflows[0].steps[1].parameters["URL"] == workflows.SERVICE_NOW),
    ("store-missing", lambda c: any((s.client_machine, s.storepath, s.store_type) == stores.MISSING
                                    for s in c.stores.stores)),
])
def test_each_configuration_fault_changes_its_one_item(fault, changed):
    def built(*faults: str) -> configuration.Configuration:
        default = configuration.SCALES["default"]
        return configuration.build(Inventory(ActiveFaults()), ActiveFaults(list(faults)), default)

    assert changed(built()) and not changed(built(fault))
