"""Every node behind the load balancer (issue 15): three healthy sandbox nodes are green; each node fault turns
exactly its per-node check red, naming that node in one line; the Kerberos ticket each node gets is for the site's
service name and every node's TLS is verified against the site's name; bad node lists are one line; where no
nodes are configured nothing changes. Real sandbox, real KDC, real Chromium — no mocks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sandbox.faults import REGISTRY
from smoke.ground.errors import ConfigError
from smoke.keyfactor.fleet import odd_ones
from smoke.keyfactor.nodes import site_listed
from smoke.portal.nodes import NodeHome
from smoke.portal.page import PageLoad
from smoke.run import environment
from tests.suite_runs import ROOT, SuiteRun, run_suite

NODES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
CHECKS = {
    "api": "smoke/test_nodes.py::test_the_api_answers_authenticated_on_every_node_at_the_same_expected_version",
    "portal": "smoke/test_nodes.py::test_the_portal_home_page_loads_on_every_node",
    "sign-in": "smoke/test_nodes.py::test_every_iis_application_offers_the_same_sign_in_methods_on_every_node",
    "certificate": "smoke/test_nodes.py::test_every_node_presents_the_same_tls_certificate_as_the_load_balanced_name",
    "health": "smoke/test_nodes.py::test_the_load_balancers_health_probe_answers_200_on_every_node",
}
NODE_FAULTS = {name: fault for name, fault in REGISTRY.items() if fault.marker == "nodes"}
SITE_SERVICE = "HTTP/localhost@SANDBOX.KEYFACTOR.TEST"  # the sandbox's site name is localhost


def attachments(run: SuiteRun) -> dict[str, str]:
    """Every text attachment of the run's raw Allure results, by its name."""
    found = {}
    for result in run.results_dir.glob("*-result.json"):
        for attached in json.loads(result.read_text()).get("attachments", []):
            path = run.results_dir / attached["source"]
            if path.suffix in (".txt", ".json"):
                found[attached["name"]] = path.read_text(encoding="utf-8")
    return found


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return run_suite(tmp_path_factory.mktemp("healthy"), "--env", "sandbox", "--sandbox-nodes", "3", "-m", "nodes")


def test_three_healthy_sandbox_nodes_pass_every_node_check(healthy):
    assert healthy.returncode == 0, healthy.output
    assert healthy.with_outcome("passed") == set(CHECKS.values()), healthy.outcomes
    summary_line = "- Nodes: " + "; ".join(f"{node}: 10.2.1.0, passed" for node in NODES)
    assert summary_line in healthy.output  # the summary lists the nodes with their version and verdict
    table = (healthy.results_dir / "environment.properties").read_text()
    assert all(node in table for node in NODES) and "Nodes=" in table  # the report's environment names them


def test_each_node_was_reached_by_its_address_under_the_sites_name_and_kerberos_service(healthy):
    attached = attachments(healthy)
    for node in NODES:
        answered = [text for name, text in attached.items() if name.startswith(f"{node}: GET ") and "→ 200" in name]
        assert answered, sorted(attached)
        for text in answered:  # the address that answered, and the service the ticket was for: the site's
            assert f"X-Kf-Smoke-Node: {node}" in text and f"the Kerberos ticket sent is for {SITE_SERVICE}" in text
            assert "Host: localhost:" in text
    portal = json.loads(attached["Per node: portal"])
    assert {node: portal[node]["answered from"] for node in NODES} == {node: node for node in NODES}
    certificates = json.loads(attached["Per node: certificate"])
    assert all(isinstance(certificates[node]["DaysLeft"], int) for node in NODES)  # days to expiry in the evidence
    assert len({certificates[node]["Thumbprint"] for node in NODES}) == 1


@pytest.mark.parametrize("name, number", [("node-not-upgraded", 2), ("node-down", 3), ("node-ntlm-only", 2),
                                          ("node-certificate", 3)])
def test_each_node_fault_fails_exactly_its_per_node_check_naming_that_node(tmp_path, name, number):
    fault = NODE_FAULTS[name]
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-nodes", "3", "--sandbox-fault", f"{name}={number}",
                    "-m", "nodes")
    assert run.returncode == 1, run.output
    assert run.with_outcome("failed") == set(fault.fails), run.outcomes
    assert run.with_outcome("passed") == set(CHECKS.values()) - set(fault.fails), run.outcomes  # none skipped
    node, others = NODES[number - 1], [n for n in NODES if n != NODES[number - 1]]
    for failed in fault.fails:
        message = run.messages[failed]
        assert fault.says in message and f"{node}" in message, message
        assert not any(other in message for other in others), message  # exactly that node
        assert message.startswith("1 of 3 nodes fail: ") and "\n" not in message and "Traceback" not in message
    verdicts = next(line for line in run.output.splitlines() if line.startswith("- Nodes: "))
    assert all(f"{other}: 10.2.1.0, passed" in verdicts for other in others), verdicts
    assert f"{node}: 10.2.1.0, passed" not in verdicts, verdicts


def test_a_node_that_does_not_answer_is_left_out_of_the_later_checks_which_still_check_the_others(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-nodes", "3", "--sandbox-fault", "node-down=2",
                    "-m", "nodes")
    assert run.with_outcome("failed") == {CHECKS["api"]}, run.outcomes
    attached = attachments(run)
    assert "127.0.0.2 left out: it gave no answer earlier" in attached["Nodes left out"]
    assert set(json.loads(attached["Per node: sign-in"])) == {"127.0.0.1", "127.0.0.3"}
    assert "- Nodes: 127.0.0.1: 10.2.1.0, passed; 127.0.0.2: does not answer; 127.0.0.3: 10.2.1.0, passed" \
        in run.output


def test_own_node_certificates_accept_a_valid_certificate_of_the_nodes_own(tmp_path):
    base = (ROOT / "environments" / "sandbox.toml").read_text(encoding="utf-8")
    own = tmp_path / "own.toml"
    own.write_text(base.replace("[command]\n", '[command]\nnode_certificates = "own"\n', 1), encoding="utf-8")
    run = run_suite(tmp_path / "run", "--env", str(own), "--sandbox-nodes", "3", "--sandbox-fault",
                    "node-certificate=3", "-m", "nodes")
    assert run.returncode == 0, run.output
    certificates = json.loads(attachments(run)["Per node: certificate"])
    assert certificates["127.0.0.3"]["Thumbprint"] != certificates["127.0.0.1"]["Thumbprint"]
    assert isinstance(certificates["127.0.0.3"]["DaysLeft"], int)


def test_without_nodes_the_node_checks_skip_as_not_configured(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "nodes")
    assert run.returncode == 0, run.output
    assert run.with_outcome("skipped") == set(CHECKS.values()), run.outcomes
    assert all("[command] nodes not configured in" in run.messages[check] for check in CHECKS.values())
    assert "- Nodes" not in run.output


# --- bad input: one line ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("nodes, said", [
    (["10.20.0.11", "10.20.0.11"], "listed twice"),
    (["10.20.0.11", "not a host!"], "neither an IP address nor a host name"),
    (["kf-node-that-does-not-exist.invalid"], "does not resolve"),
])
def test_a_bad_node_list_is_one_line_naming_the_file(tmp_path, nodes, said):
    path = tmp_path / "prod.toml"
    with pytest.raises(ConfigError, match=said) as raised:
        environment.build("prod", path, {"command": {"url": "https://kf.corp.example.com", "nodes": nodes}})
    assert str(raised.value).startswith(f"{path}: [command] nodes: ") and "\n" not in str(raised.value)


def test_the_load_balanced_name_listed_as_a_node_is_allowed_and_said_in_the_summary(tmp_path):
    env = tmp_path / "lb.toml"
    env.write_text('[command]\nurl = "https://localhost:9"\nnodes = ["localhost", "127.0.0.2"]\ntimeout_s = 2\n'
                   '[auth]\nmethod = "basic"\nusername = "x"\npassword_env = "KF_TEST_PASSWORD"\n', encoding="utf-8")
    run = run_suite(tmp_path / "run", "--env", str(env), "-m", "nodes", "-k", "health",
                    env={"KF_TEST_PASSWORD": "not-a-real-password"})
    assert run.returncode == 0, run.output
    assert ("Nodes note: [command] nodes lists localhost, the load-balanced name itself: that entry checks whichever "
            "web server the load balancer picks") in run.output
    assert site_listed(["10.20.0.11", "KF.corp.example.com."], "kf.corp.example.com")
    assert site_listed(["10.20.0.11"], "kf.corp.example.com") is None


@pytest.mark.parametrize("args, said", [
    (["--nodes", "3", "--fault", "node-down=1"], "give a node number from 2 to 3"),
    (["--nodes", "3", "--fault", "node-certificate=4"], "give a node number from 2 to 3"),
    (["--fault", "node-ntlm-only=2"], "with --nodes 2 or more"),
    (["--nodes", "0"], "--nodes 0: from 1 to 16"),
])
def test_the_sandbox_refuses_a_node_it_does_not_have_in_one_line(args, said):
    done = subprocess.run([sys.executable, "-m", "sandbox", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_python_m_sandbox_nodes_writes_an_environment_file_listing_them(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--nodes", "3", "--basic-only", "--state-dir",
                                str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        printed = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Environment file:"):
                break
        text = (tmp_path / "sandbox-run.toml").read_text(encoding="utf-8")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert 'nodes = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]' in text and 'health_path = "/lb-probe.htm"' in text
    assert any("3 nodes behind the site's name" in line for line in printed), printed


# --- the pieces, without a server ------------------------------------------------------------------------------

def test_the_odd_node_is_named_against_the_others_and_without_a_majority_each_is():
    assert odd_ones({"kf01": "10.2.1.0", "kf02": "10.1.4.0", "kf03": "10.2.1.0"}) == [("kf02", "10.1.4.0", "10.2.1.0")]
    assert odd_ones({"kf01": "10.2.1.0", "kf02": "10.1.4.0"}) == [("kf01", "10.2.1.0", None),
                                                                  ("kf02", "10.1.4.0", None)]
    assert odd_ones({"kf01": "10.2.1.0", "kf02": "10.2.1.0"}) == []


def test_a_portal_page_from_another_address_than_the_node_is_named():
    load = PageLoad("Portal home page", requested="https://kf.corp.example.com/KeyfactorPortal/")
    assert NodeHome("10.20.0.12", load, "10.20.0.12", None).elsewhere() is None
    assert NodeHome("10.20.0.12", load, None, None).elsewhere() is None  # the browser did not say
    elsewhere = NodeHome("10.20.0.12", load, "10.20.0.5", None).elsewhere()
    assert elsewhere and "reached 10.20.0.5, not 10.20.0.12" in elsewhere and "host-resolver-rules" in elsewhere
