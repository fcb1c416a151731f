"""Reports of one environment stay one environment's: two environment files with the same name in different folders
never share reports/<name>/ and its history; the second keeps its own folder, and its summary says so."""

from __future__ import annotations

import shutil
from pathlib import Path

from smoke.ground import settings
from smoke.run.report import environment_folder
from tests.test_report import NO_ALLURE, run_with_report


def test_each_environment_file_keeps_its_own_folder_and_comes_back_to_it(tmp_path):
    reports = tmp_path / "reports"
    first, second = tmp_path / "site-a" / "prod.toml", tmp_path / "site-b" / "prod.toml"
    assert environment_folder(reports, "prod", second, claim=False) == (reports / "prod", None)
    assert not reports.exists()  # looking claims nothing
    assert environment_folder(reports, "prod", first) == (reports / "prod", None)
    other, note = environment_folder(reports, "prod", second)
    assert other.parent == reports and other.name.startswith("prod-") and other != reports / "prod"
    assert note and str(first.resolve()) in note and str(second) in note
    assert environment_folder(reports, "prod", second) == (other, note)
    assert environment_folder(reports, "prod", first) == (reports / "prod", None)
    assert (reports / "prod" / "environment.txt").read_text().strip() == str(first.resolve())


def test_two_environment_files_of_the_same_name_do_not_share_reports_or_history(tmp_path):
    reports = tmp_path / "reports"
    copies = []
    for site in ("site-a", "site-b"):
        (tmp_path / site).mkdir()
        copies.append(shutil.copy(settings.ENVIRONMENTS_DIR / "sandbox.toml", tmp_path / site / "sandbox.toml"))
    first = run_with_report(reports, "sandbox", "--env", str(copies[0]), "-m", "api", env=NO_ALLURE)
    second = run_with_report(reports, "sandbox", "--env", str(copies[1]), "-m", "api", env=NO_ALLURE)
    assert first.returncode == 0 and second.returncode == 0, second.output
    assert len(first.run_dirs()) == 1  # the second run did not land in the first file's folder
    (own,) = [p for p in reports.iterdir() if p.name.startswith("sandbox-")]
    summary = (own / "latest-summary.md").read_text(encoding="utf-8")
    assert "Since the previous run" not in summary  # no history borrowed from the other file
    (note,) = [line for line in summary.splitlines() if line.startswith("- Note: ")]
    assert f"holds the reports of another environment file of the same name, {Path(copies[0]).resolve()}" in note
    assert f"those of {copies[1]} are in" in note and own.name in note
