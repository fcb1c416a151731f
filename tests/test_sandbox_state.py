"""The sandbox is the same server from one start to the next (its CA, site certificate and port kept in its home),
makes its identity once when two starts race, says so when it had to make a damaged one again, and can play the
server before the upgrade (--version)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import requests

from sandbox import identity
from sandbox.app import DOMAIN, SITE_NAMES, Sandbox
from sandbox.faults import ActiveFaults
from sandbox.kdc import USER
from sandbox.pki import SandboxPKI
from smoke.keyfactor.site import site_certificate
from tests.openapi_spec import response_errors
from tests.suite_runs import ROOT, run_suite

HEADERS = {"x-keyfactor-requested-with": "APIClient", "Accept": "application/json"}


def started(tmp_path: Path, name: str, home: Path, **options) -> Sandbox:
    sandbox = Sandbox(tmp_path / name, ActiveFaults(options.pop("faults", [])), kerberos=False, home=home, **options)
    sandbox.start()
    return sandbox


def presented(sandbox: Sandbox) -> dict:
    return site_certificate(sandbox.url, str(sandbox.ca_bundle), 10)


def get(sandbox: Sandbox, path: str) -> requests.Response:
    return requests.get(f"{sandbox.url}/KeyfactorAPI{path}", headers=HEADERS, timeout=10,
                        auth=(f"{DOMAIN}\\{USER}", sandbox.password), verify=str(sandbox.ca_bundle))


def test_two_starts_with_one_home_are_the_same_server(tmp_path):
    home = tmp_path / "home"
    first = started(tmp_path, "first", home)
    try:
        before, url, bundle = presented(first), first.url, first.ca_bundle.read_bytes()
        crls = get(first, "/Monitoring/Revocation").json()
    finally:
        first.stop()
    second = started(tmp_path, "second", home)
    try:
        assert presented(second) == before  # subject, names, issuer, validity and thumbprint
        assert second.url == url and second.ca_bundle.read_bytes() == bundle
        assert get(second, "/Monitoring/Revocation").json() == crls  # published at the same URLs
        assert not second.notes
    finally:
        second.stop()


def test_the_kept_certificates_are_valid_for_years_not_days(tmp_path):
    kept, _ = identity.kept(tmp_path, SITE_NAMES)
    site = kept.site[0]
    assert (site.not_valid_after_utc - site.not_valid_before_utc).days >= 3 * 365 - 1
    assert (kept.pki.root.cert.not_valid_after_utc - site.not_valid_after_utc).days > 365


def test_two_starts_at_once_make_one_identity_and_share_it(tmp_path):
    found: list[identity.Identity] = []
    threads = [threading.Thread(target=lambda: found.append(identity.kept(tmp_path, SITE_NAMES)[0]))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(found) == 4
    assert len({kept.site[0].serial_number for kept in found}) == 1
    assert len({kept.port for kept in found}) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [identity.FOLDER]  # no lock, no half-made folder left


def test_a_damaged_identity_is_made_again_and_the_start_says_so(tmp_path):
    kept, _ = identity.kept(tmp_path, SITE_NAMES)
    (tmp_path / identity.FOLDER / "site.pem").write_text("-----BEGIN CERTIFICATE-----\ntruncated")
    again, notes = identity.kept(tmp_path, SITE_NAMES)
    assert again.site[0].serial_number != kept.site[0].serial_number
    assert len(notes) == 1 and "site.pem is damaged" in notes[0] and "another TLS certificate" in notes[0]
    assert [p.name for p in tmp_path.glob(f"{identity.FOLDER}.unusable-*")], "the damaged one is kept aside"
    kept_now, notes_now = identity.kept(tmp_path, SITE_NAMES)
    assert kept_now.site[0].serial_number == again.site[0].serial_number and not notes_now


def test_a_site_certificate_about_to_expire_is_replaced_before_it_does(tmp_path):
    pki = SandboxPKI.create(valid_days=identity.CA_DAYS)
    expiring = identity.Identity(pki, pki.server_certificate(SITE_NAMES, valid_days=identity.RENEW_DAYS - 1), 20001,
                                 20002)
    identity._publish(expiring, tmp_path / identity.FOLDER)
    again, notes = identity.kept(tmp_path, SITE_NAMES)
    assert again.site[0].serial_number != expiring.site[0].serial_number
    assert "the site certificate is valid" in notes[0]


def test_the_sandbox_plays_the_server_before_the_upgrade(tmp_path):
    sandbox = started(tmp_path, "state", tmp_path / "home", version="10.1.4.0")
    try:
        response = get(sandbox, "/License")
        licence = response.json()
        assert response_errors("GET", "/License", 200, licence) == []
        assert licence["KeyfactorVersion"] == "10.1.4.0"
        assert licence["LicenseData"]["LicensedProducts"][0]["MajorRev"] == "10"  # the licence is not the version
    finally:
        sandbox.stop()


def test_a_version_that_is_not_one_is_refused_in_one_line():
    done = subprocess.run([sys.executable, "-m", "sandbox", "--version", "10.x"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "'10.x' is not a version such as 10.1.4" in done.stderr and "Traceback" not in done.stderr


def test_a_baseline_run_before_the_upgrade_skips_the_version_check_naming_the_version(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-version", "10.1.4", "--baseline", "-m", "api",
                    "--report-dir", str(tmp_path / "reports"))
    version_check = "smoke/test_api.py::test_the_server_reports_the_expected_command_version"
    assert run.outcomes[version_check] == "skipped", run.output
    assert "the server reports 10.1.4.0; expected_version 10.2 is checked after the upgrade" in \
        run.messages[version_check]
    others = {node for node in run.outcomes if node.startswith("smoke/test_api.py")} - {version_check}
    assert others and all(run.outcomes[node] == "passed" for node in others), run.outcomes


def test_after_the_upgrade_the_version_check_fails_on_the_old_version(tmp_path):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-version", "10.1.4", "-m", "api",
                    "--report-dir", str(tmp_path / "reports"))
    assert run.with_outcome("failed") == {"smoke/test_api.py::test_the_server_reports_the_expected_command_version"}
    assert "reports version 10.1.4.0, expected 10.2" in run.messages[
        "smoke/test_api.py::test_the_server_reports_the_expected_command_version"]


def test_a_sandbox_version_without_the_sandbox_is_refused(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text('[command]\nurl = "https://kf.example.com"\n')
    run = run_suite(tmp_path, "--env", str(plain), "--sandbox-version", "10.1.4")
    assert run.returncode == 4
    assert "--sandbox-version needs the embedded sandbox" in run.output and "Traceback" not in run.output
