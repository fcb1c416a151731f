"""Authentication as a user meets it: a valid Kerberos ticket, none, an expired one, a keytab, Basic with the
right and the wrong password, and a server certificate the client does not trust."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sandbox.app import DOMAIN, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.kdc import USER
from tests.suite_runs import run_suite

FIRST_CHECK = "smoke/test_api.py::test_the_api_answers_an_authenticated_request"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("sandbox"), ActiveFaults())
    running.start()
    if not running.kerberos:
        pytest.fail("these tests need MIT Kerberos (krb5-kdc, krb5-admin-server, krb5-user): run ./setup.sh")
    yield running
    running.stop()


def environment(tmp_path: Path, sandbox: Sandbox, auth: dict[str, str], ca_bundle: bool = True) -> str:
    lines = ["[command]", f'url = "{sandbox.url}"', 'expected_version = "10.2"', "timeout_s = 10"]
    if ca_bundle:
        lines.append(f"ca_bundle = {json.dumps(str(sandbox.ca_bundle))}")
    lines.append("[auth]")
    lines += [f"{key} = {json.dumps(value)}" for key, value in auth.items()]
    path = tmp_path / "env.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def kerberos_auth(sandbox: Sandbox, ccache: str) -> dict[str, str]:
    assert sandbox.realm
    return {"method": "kerberos", "ccache": ccache, "krb5_config": str(sandbox.realm.krb5_config),
            "principal": sandbox.realm.user_principal}


def test_a_valid_kerberos_ticket_authenticates_with_kerberos(tmp_path, sandbox):
    assert sandbox.realm
    env = environment(tmp_path, sandbox, kerberos_auth(sandbox, sandbox.realm.environ["KRB5CCNAME"]))
    run = run_suite(tmp_path, "--env", env, "-m", "api")
    assert run.returncode == 0, run.output
    assert "Authentication=Kerberos (Negotiate, mutually authenticated)" in (
        run.results_dir / "environment.properties").read_text()


def test_no_ticket_is_one_line_telling_the_user_to_kinit(tmp_path, sandbox):
    env = environment(tmp_path, sandbox, kerberos_auth(sandbox, f"FILE:{tmp_path / 'empty-ccache'}"))
    run = run_suite(tmp_path, "--env", env, "-m", "api")
    assert run.returncode == 1
    assert run.messages[FIRST_CHECK].startswith("Kerberos: no ticket in the credential cache")
    assert f"run kinit {USER}@" in run.messages[FIRST_CHECK]
    assert len(run.with_outcome("skipped")) == 2


def test_an_expired_ticket_is_one_line_telling_the_user_to_kinit_again(tmp_path, sandbox):
    assert sandbox.realm
    ccache = tmp_path / "short-ccache"
    sandbox.realm._run("kinit", "-l", "1s", "-c", f"FILE:{ccache}", sandbox.realm.user_principal,
                       stdin=sandbox.password + "\n")
    time.sleep(2)
    env = environment(tmp_path, sandbox, kerberos_auth(sandbox, f"FILE:{ccache}"))
    run = run_suite(tmp_path, "--env", env, "-m", "api")
    assert run.returncode == 1
    assert "has expired — run kinit" in run.messages[FIRST_CHECK]


def test_a_keytab_gets_its_own_ticket_without_kinit(tmp_path, sandbox):
    assert sandbox.realm
    auth = kerberos_auth(sandbox, f"FILE:{tmp_path / 'empty-ccache'}")
    auth["keytab"] = str(sandbox.realm.user_keytab)
    run = run_suite(tmp_path, "--env", environment(tmp_path, sandbox, auth), "-m", "api")
    assert run.returncode == 0, run.output


def test_basic_with_the_right_password_authenticates_with_basic(tmp_path, sandbox):
    auth = {"method": "basic", "username": f"{DOMAIN}\\{USER}", "password_env": "KF_TEST_PASSWORD"}
    run = run_suite(tmp_path, "--env", environment(tmp_path, sandbox, auth), "-m", "api",
                    env={"KF_TEST_PASSWORD": sandbox.password})
    assert run.returncode == 0, run.output
    assert "Authentication=Basic" in (run.results_dir / "environment.properties").read_text()
    assert sandbox.password not in run.output


def test_a_wrong_basic_password_is_one_line_and_never_shows_the_password(tmp_path, sandbox):
    auth = {"method": "basic", "username": f"{DOMAIN}\\{USER}", "password_env": "KF_TEST_PASSWORD"}
    wrong = "Wr0ng-but-secret-pw"
    run = run_suite(tmp_path, "--env", environment(tmp_path, sandbox, auth), "-m", "api",
                    env={"KF_TEST_PASSWORD": wrong})
    assert run.returncode == 1
    assert run.messages[FIRST_CHECK].startswith(f"Basic: {sandbox.url}/KeyfactorAPI/Status/Endpoints refused")
    leaked = [p for p in run.results_dir.rglob("*") if p.is_file() and wrong in p.read_text(errors="ignore")]
    assert wrong not in run.output and not leaked


def test_an_untrusted_server_certificate_is_one_line_pointing_at_ca_bundle(tmp_path, sandbox):
    assert sandbox.realm
    env = environment(tmp_path, sandbox, kerberos_auth(sandbox, sandbox.realm.environ["KRB5CCNAME"]),
                      ca_bundle=False)
    run = run_suite(tmp_path, "--env", env, "-m", "api")
    assert run.returncode == 1
    assert run.messages[FIRST_CHECK].startswith("TLS: the certificate of localhost:")
    assert "[command] ca_bundle" in run.messages[FIRST_CHECK]
