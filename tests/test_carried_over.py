"""The carried-over checks against the sandbox: a baseline of the healthy sandbox compares clean with the healthy
sandbox; two baselines of an unchanged sandbox are byte-identical and hold no secret; each configuration fault,
compared with that baseline, fails exactly its check with one line naming the item and the field.

The sandbox's site certificate and its files on disk are kept in its home, which follows --report-dir: the runs
after the baseline use the baseline's report folder (tests/test_carried_over_site.py covers those areas' faults)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.app import PASSWORD_ENV, Sandbox
from sandbox.faults import REGISTRY, ActiveFaults
from smoke.baseline import canonical
from tests.suite_runs import run_suite

CARRIED_OVER = "smoke/test_carried_over.py::"
SITE_AREAS = {CARRIED_OVER + name for name in ("test_every_iis_application_offers_the_same_sign_in_methods",
                                               "test_the_site_presents_the_same_tls_certificate",
                                               "test_every_baseline_file_is_unchanged")}
FAULTS = sorted((f for f in REGISTRY.values() if f.marker == "carried_over" and not set(f.fails) <= SITE_AREAS),
                key=lambda f: f.name)


@pytest.fixture(scope="module")
def healthy_baseline(tmp_path_factory) -> Path:
    """A baseline of the healthy sandbox, as a user takes it before the upgrade."""
    folder = tmp_path_factory.mktemp("before")
    run = run_suite(folder, "--env", "sandbox", "--baseline", "-m", "carried_over", "--report-dir",
                    str(folder / "reports"))
    assert run.returncode == 0, run.output
    assert run.with_outcome("passed") == {"smoke/run/baselines.py::test_the_configuration_baseline_is_saved"}
    [baseline] = (folder / "reports" / "sandbox" / "baselines").glob("sandbox-*[0-9].json")
    return baseline


def test_the_healthy_sandbox_compared_with_its_baseline_is_green_in_every_area(tmp_path, healthy_baseline):
    run = run_suite(tmp_path, "--env", "sandbox", "-m", "carried_over",
                    "--report-dir", str(healthy_baseline.parents[2]))  # the newest baseline of the environment
    assert run.returncode == 0, run.output
    assert len(run.with_outcome("passed")) == 15 and not run.with_outcome("skipped"), run.outcomes
    document = json.loads(healthy_baseline.read_text())
    assert document["server"] == "https://localhost"  # no port: another port does not make another server
    counts = {area: len(content["items"]) for area, content in document["areas"].items()}
    assert all(counts.values()), counts


def test_references_are_kept_by_the_name_a_person_checks_not_the_database_id(healthy_baseline):
    areas = json.loads(healthy_baseline.read_text())["areas"]
    schedules = [schedule for report in areas["reports"]["items"].values()
                 for schedule in (report.get("Schedules") or {}).values()]
    collections = set(areas["collections"]["items"])
    assert schedules and all(s.get("Collection") in collections for s in schedules if "Collection" in s), schedules
    assert any("Collection" in s for s in schedules), schedules
    metadata = set(areas["metadata"]["items"])
    fields = [name for template in areas["templates"]["items"].values() for name in template.get("MetadataFields", {})]
    assert fields and set(fields) <= metadata, set(fields) - metadata
    assert "CertificateCollectionId" not in healthy_baseline.read_text()


def test_a_baseline_is_written_in_the_same_bytes_with_or_without_orjson(healthy_baseline):
    written = healthy_baseline.read_bytes()
    assert canonical.ENCODER == "orjson"
    assert canonical.dumps_without_orjson(json.loads(written)) == written


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_each_configuration_fault_fails_exactly_its_checks_naming_the_item_and_the_field(tmp_path, fault,
                                                                                       healthy_baseline):
    run = run_suite(tmp_path, "--env", "sandbox", "--sandbox-fault", fault.name, "-m", "carried_over or config",
                    "--baseline-file", str(healthy_baseline), "--report-dir", str(healthy_baseline.parents[2]))
    assert run.returncode == 1, run.output
    assert run.with_outcome("failed") == set(fault.fails), run.outcomes
    assert not run.with_outcome("error") and not run.with_outcome("skipped"), run.outcomes
    for node in fault.fails:
        message = run.messages[node]
        assert "\n" not in message.strip() and "Traceback" not in message
    [carried] = [node for node in fault.fails if node.startswith(CARRIED_OVER)]
    assert fault.says in run.messages[carried], run.messages[carried]
    pages = [p.read_text() for p in run.results_dir.glob("*-attachment.html")]
    tables = [page for page in pages if "<th>before</th><th>after</th>" in page
              and ("<td>changed</td>" in page or "<td>missing</td>" in page)]
    assert len(tables) == 1, "the failing area's before/after table is attached"


def test_two_baselines_of_an_unchanged_sandbox_are_byte_identical_hold_no_secret_and_compare_clean(tmp_path):
    running = Sandbox(tmp_path / "sandbox", ActiveFaults(), kerberos=False)
    running.start()
    try:
        env_file = tmp_path / "unchanged.toml"
        env_file.write_text(running.environment_toml())
        reports = tmp_path / "reports"
        runs = [run_suite(tmp_path / name, "--env", str(env_file), "--baseline", "-m", "carried_over",
                          "--report-dir", str(reports), env={PASSWORD_ENV: running.password})
                for name in ("first", "second")]
        compared = run_suite(tmp_path / "compared", "--env", str(env_file), "-m", "carried_over", "--report-dir",
                             str(reports), env={PASSWORD_ENV: running.password})
        secrets = [running.password, *running.configuration.secrets.values]
    finally:
        running.stop()
    assert all(run.returncode == 0 for run in runs), runs[-1].output
    assert compared.returncode == 0 and len(compared.with_outcome("passed")) == 15, compared.outcomes  # TLS, files
    first, second = sorted((reports / "unchanged" / "baselines").glob("unchanged-*[0-9].json"))
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text()
    assert '"(set)"' in text and '"ServerPassword": "(set)"' in text and '"BasicPassword": "(set)"' in text
    written = [p for p in (reports, *(tmp_path / name for name in ("first", "second", "compared"))) if p.exists()]
    for path in (p for folder in written for p in folder.rglob("*") if p.is_file()):
        content = path.read_text(errors="replace")
        assert not [s for s in secrets if s in content], f"a secret in {path}"
    assert not [s for s in secrets if any(s in run.output for run in (*runs, compared))]
