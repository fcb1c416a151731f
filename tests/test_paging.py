"""Paging: every list endpoint with its own query prefix, and X-Total-Count used when the server sends it — one
request per page and none to confirm the last — while a server without it, or with a wrong one, is still paged to
the end."""

from __future__ import annotations

import pytest

from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.kdc import USER
from smoke.ground import evidence
from smoke.ground.errors import ApiUnexpectedAnswer
from smoke.keyfactor.client import PAGING_PREFIX, AuthConfig, KeyfactorClient
from tests import openapi_spec

AGENTS, PAGE = 300, 100
COUNT_FACT = "X-Total-Count of GET /Agents"


@pytest.fixture(scope="module", params=["sent", "absent", "high", "low"])
def sandbox(request, tmp_path_factory):
    """A Basic-only sandbox listing 300 orchestrators, sending X-Total-Count as counted, not at all, one too high or
    one too low (python -m sandbox --total-count)."""
    running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults(), kerberos=False, total_count=request.param)
    running.start()
    yield running
    running.stop()


def client(sandbox: Sandbox) -> KeyfactorClient:
    return KeyfactorClient(f"{sandbox.url}/KeyfactorAPI", AuthConfig("basic", f"{DOMAIN}\\{USER}", sandbox.password),
                           str(sandbox.ca_bundle), timeout_s=10)


def test_the_orchestrators_are_paged_with_one_request_per_page_and_none_to_confirm_when_the_count_is_right(sandbox):
    evidence.facts.pop(COUNT_FACT, None)
    api = client(sandbox)
    agents = list(api.pages("/Agents", page_size=PAGE))
    assert len({a["AgentId"] for a in agents}) == len(agents) == AGENTS
    pages = [int(e.url.split("pq.pageReturned=")[1].split("&")[0]) for e in api.exchanges]
    counts = {e.response_headers.get("X-Total-Count") for e in api.exchanges}
    if sandbox.total_count == "sent":
        assert pages == [1, 2, 3] and counts == {str(AGENTS)}  # the third page is full: the count says it is the last
        assert COUNT_FACT not in evidence.facts
    else:
        assert pages == [1, 2, 3, 4]  # without a count to trust, an empty 4th page ends the listing
        assert counts == {{"absent": None, "high": str(AGENTS + 1), "low": str(AGENTS - 1)}[sandbox.total_count]}
    if sandbox.total_count in ("high", "low"):
        said = AGENTS + 1 if sandbox.total_count == "high" else AGENTS - 1
        line = evidence.facts.pop(COUNT_FACT)
        assert line.startswith(f"said {said}, the pages held {AGENTS} — the server's count disagrees with its items")
        assert "\n" not in line


def test_a_short_last_page_ends_the_listing_without_a_confirming_request_when_the_count_agrees(sandbox):
    api = client(sandbox)
    assert len(list(api.pages("/Agents", page_size=120))) == AGENTS  # 120 + 120 + 60
    # Without a count it can trust, the client confirms the short page as it always did: one request more.
    expected = {"sent": 3, "absent": 4, "high": 4, "low": 4}[sandbox.total_count]
    assert len(api.exchanges) == expected
    evidence.facts.pop(COUNT_FACT, None)


def test_a_server_that_ignores_the_prefix_is_named_whatever_its_count(sandbox):
    # It answers its default first page of 50 to every request: page 2 repeats page 1.
    with pytest.raises(ApiUnexpectedAnswer, match="ignores sq.pageReturned; check the paging prefix"):
        list(client(sandbox).pages("/Agents", page_size=PAGE, prefix="sq."))


def test_every_list_endpoint_of_the_openapi_document_has_its_prefix_in_the_client():
    documented = {}
    for path, item in openapi_spec.spec()["paths"].items():
        names = [p["name"] for p in item.get("get", {}).get("parameters", [])
                 if p.get("in") == "query" and p["name"].endswith(".pageReturned")]
        if names and "{" not in path and not path.endswith("/Download"):
            documented[path] = names[0].removesuffix("pageReturned")
    assert {path: PAGING_PREFIX.get(path, "pq.") for path in documented} == documented  # pq. unless listed
    # Where the OpenAPI file lacks the endpoint: keyfactor-api-notes, "Evidence added 2026-12-01".
    assert PAGING_PREFIX["/CertificateStores"] == "certificateStoreQuery."
    assert PAGING_PREFIX["/Security/Roles"] == ""
    assert {PAGING_PREFIX[p] for p in ("/Alerts/Expiration", "/Alerts/KeyRotation", "/Monitoring/Revocation",
                                       "/Workflow/Certificates/Pending", "/Workflow/Certificates/Denied")} == {
        "pagedQuery."}


def test_unprefixed_and_store_listings_are_paged_with_their_own_names(sandbox):
    api = client(sandbox)
    roles = list(api.pages("/Security/Roles", page_size=3))
    stores = list(api.pages("/CertificateStores", page_size=4))
    assert len({r["Name"] for r in roles}) == len(roles) == len(sandbox.configuration.security.roles)
    assert len({s["Id"] for s in stores}) == len(stores) == len(sandbox.configuration.stores.stores) > 4
    assert all("pageReturned=" in e.url and "pq." not in e.url for e in api.exchanges)
    assert any("certificateStoreQuery.pageReturned=2" in e.url for e in api.exchanges)
