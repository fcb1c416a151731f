"""Every web server behind the load balancer ([command] nodes) — each one upgraded, answering and signing in the
same way. Through the load-balanced name the other checks see whichever node answers; these reach each node
directly under the site's name (TLS, the Host header and the Kerberos service name stay the site's), side by
side, and each failure lists every node that fails it. A node that gives no answer is one failure naming it."""

from __future__ import annotations

import pytest

from smoke.ground import evidence
from smoke.portal.launch import BrowserUnavailable

AREA = "Every node"  # the report's suite and feature
pytestmark = pytest.mark.nodes


def _verdict(fleet, finding) -> None:
    evidence.attach_json(f"Per node: {finding.check}", finding.table)
    if finding.left_out:
        evidence.attach_text("Nodes left out", finding.left_out_text())
    fleet.record(finding)
    problem = finding.message()
    assert problem is None, problem


def test_the_api_answers_authenticated_on_every_node_at_the_same_expected_version(fleet, smoke_settings):
    finding = fleet.versions(smoke_settings.command.expected_version, smoke_settings.auth.method == "kerberos")
    for node, client in fleet.clients.items():
        for exchange in client.exchanges:
            evidence.attach_text(f"{node.label}: {exchange.method} {exchange.url} → {exchange.status}",
                                 exchange.as_text())
        client.exchanges.clear()
    _verdict(fleet, finding)


def test_the_portal_home_page_loads_on_every_node(fleet, node_home_pages):
    finding, answers = fleet.together("portal", node_home_pages)
    unavailable = next((a.error for a in answers if isinstance(a.error, BrowserUnavailable)), None)
    if unavailable:
        raise unavailable  # the browser's problem, not the nodes'
    for answer in answers:
        if answer.error:
            finding.met(answer)
            continue
        home = answer.value
        if home.load.screenshot:
            evidence.attach_png(f"Portal home page on {answer.node.label} (screenshot)", home.load.screenshot)
        evidence.attach_text(f"Portal home page on {answer.node.label}: answers and errors", home.load.as_text())
        finding.table[answer.node.label] = {"status": home.load.status, "title": home.load.title,
                                            "answered from": home.answered_from, "browser": home.browser}
        problem = home.problem or home.elsewhere()
        if problem:
            finding.said(answer.node, problem)
    _verdict(fleet, finding)


def test_every_iis_application_offers_the_same_sign_in_methods_on_every_node(fleet):
    _verdict(fleet, fleet.sign_in())


def test_every_node_presents_the_same_tls_certificate_as_the_load_balanced_name(fleet, smoke_settings):
    """The same certificate as the load-balanced name, or with [command] node_certificates = "own" a valid one of
    the node's own that covers the site's name; days to expiry in the evidence."""
    _verdict(fleet, fleet.certificates(own=smoke_settings.command.node_certificates == "own"))


def test_the_load_balancers_health_probe_answers_200_on_every_node(fleet, smoke_settings):
    path = smoke_settings.command.health_path
    if not path:
        pytest.skip(f"[command] health_path not configured in {smoke_settings.path}")
    _verdict(fleet, fleet.health(path))
