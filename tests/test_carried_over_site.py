"""The carried-over checks against the sandbox: a baseline of the healthy server before the upgrade (10.1.4), then
the runs after it. The healthy sandbox compares clean; each carried-over fault fails exactly its check, with a line
naming the item and the field. Two baselines of two starts are byte-identical."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.faults import REGISTRY
from smoke.baseline import document
from smoke.baseline.document import Area
from smoke.ground import settings
from smoke.ground.errors import SmokeError
from smoke.run import environment, launcher
from smoke.run.baselines import TITLES, Baselines
from tests.suite_runs import run_suite

# The areas the sandbox serves outside its configuration API.
SIGN_IN = "smoke/test_carried_over.py::test_every_iis_application_offers_the_same_sign_in_methods"
TLS = "smoke/test_carried_over.py::test_the_site_presents_the_same_tls_certificate"
FILES = "smoke/test_carried_over.py::test_every_baseline_file_is_unchanged"
SITE_CHECKS = {SIGN_IN, TLS, FILES}
# The faults of those areas; the configuration API's faults have their own self-tests.
SITE_FAULTS = sorted((f for f in REGISTRY.values() if f.marker == "carried_over" and set(f.fails) <= SITE_CHECKS),
                     key=lambda f: f.name)


def take_baseline(reports: Path, stamp: str, version: str | None = None) -> Path:
    """A baseline of a healthy start, as `pytest --env sandbox --baseline` takes it, of every area this sandbox
    serves (one it does not serve yet is left out: its check then skips, naming the missing area)."""
    options = {"home": launcher.home_for(reports, "sandbox").resolve(), **({"version": version} if version else {})}
    sandbox = launcher.start([], options=options)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in sandbox.ready["environ"].items():
                patch.setenv(name, value)
            loaded = environment.load("sandbox", settings.read_toml(sandbox.env_file))
            folder = reports / "sandbox" / "baselines"
            areas = {}
            for key in TITLES:
                try:
                    areas[key] = Area(key, Baselines(loaded, folder, taking=True).now(key))
                except SmokeError:
                    continue
            document = Baselines(loaded, folder, taking=True).document(areas)
            return document.save(folder, stamp, {"taken by": __name__})
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("reports")
    take_baseline(folder, "20261201-090000", version="10.1.4")
    yield folder


def after_the_upgrade(tmp_path: Path, reports: Path, *faults: str):
    options = [option for fault in faults for option in ("--sandbox-fault", fault)]
    return run_suite(tmp_path, "--env", "sandbox", "-m", "carried_over", "--report-dir", str(reports), *options)


def test_the_healthy_sandbox_after_the_upgrade_compares_clean_with_its_baseline(tmp_path, reports):
    run = after_the_upgrade(tmp_path, reports)
    assert run.returncode == 0, run.output
    assert run.with_outcome("passed") >= SITE_CHECKS, run.outcomes
    for node in run.with_outcome("skipped"):
        assert "has no" in run.messages[node], run.messages[node]  # an area the sandbox does not serve yet


@pytest.mark.parametrize("fault", SITE_FAULTS, ids=lambda f: f.name)
def test_each_site_fault_fails_exactly_its_check_naming_item_and_field(tmp_path, reports, fault):
    run = after_the_upgrade(tmp_path, reports, fault.name)
    assert run.returncode == 1, run.output
    assert run.with_outcome("failed") == set(fault.fails), run.outcomes
    for node in fault.fails:
        message = run.messages[node]
        assert fault.says in message, message
        assert "\n" not in message.strip() and "Traceback" not in message


def test_what_the_site_faults_change_is_named_as_a_person_reads_it_and_nothing_else(tmp_path, reports):
    run = after_the_upgrade(tmp_path, reports, "iis-ntlm-only", "tls-certificate-replaced", "logo-overwritten")
    assert run.with_outcome("failed") == SITE_CHECKS, run.outcomes
    sign_in, tls, files = run.messages[SIGN_IN], run.messages[TLS], run.messages[FILES]
    assert sign_in.endswith('1 changed since the baseline — /KeyfactorAgents: SignInMethods '
                            '"Negotiate, NTLM, Basic" → "NTLM"'), sign_in
    assert "localhost: Thumbprint" in tls and "Issuer" not in tls and "Subject" not in tls, tls
    assert "KeyfactorPortal/Images/Banner.png: sha256" in files and "NLog.config" not in files, files


def test_two_baselines_of_two_starts_of_an_unchanged_sandbox_are_byte_identical(reports):
    first = sorted((reports / "sandbox" / "baselines").glob("sandbox-*.json"))[0]
    second = take_baseline(reports, "20261201-100000", version="10.1.4")
    try:
        assert second.read_bytes() == first.read_bytes()
    finally:
        second.unlink()
        second.with_suffix(".meta.json").unlink()


def test_a_baseline_run_before_the_upgrade_then_the_full_run_after_it_are_green(tmp_path, reports):
    taken = sorted((reports / "sandbox" / "baselines").glob("sandbox-*.json"))[0]
    missing = sorted(set(TITLES) - set(document.load(taken).areas))
    if missing:
        pytest.skip(f"the sandbox does not serve the areas {', '.join(missing)} yet: a --baseline run cannot be green")
    own = tmp_path / "reports"
    before = run_suite(tmp_path / "before", "--env", "sandbox", "--sandbox-version", "10.1.4", "--baseline",
                       "--report-dir", str(own))
    assert before.returncode == 0, before.output
    after = run_suite(tmp_path / "after", "--env", "sandbox", "--report-dir", str(own))
    assert after.returncode == 0, after.output
    assert after.with_outcome("passed") >= SITE_CHECKS
    assert "server: 1 changed (1 expected)" in after.output  # the version, which the vendor's notes expect
