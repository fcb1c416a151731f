"""A report runs: the vendor's post-upgrade proof of Logi connectivity. The Keyfactor API lists the configured
reports, and each one is run the way a user runs it — Report Manager, Run Report, Generate — until its output
renders."""

from __future__ import annotations

import pytest

from smoke.ground import evidence
from smoke.keyfactor import answers
from smoke.portal.pages import report_names

AREA = "Reports"  # the report's suite and feature
pytestmark = pytest.mark.reports
REPORT_FIELDS: answers.Fields = {"Id": "integer", "DisplayName": "string", "ShortName": "string",
                                 "ReportPath": "string"}


@pytest.fixture
def names(smoke_settings) -> list[str]:
    if smoke_settings.reports is None:
        pytest.skip(smoke_settings.not_configured("reports"))
    return report_names(smoke_settings)


def test_the_api_lists_every_configured_report(api, names):
    reports = answers.records(list(api.pages("/Reports")), REPORT_FIELDS, "GET /Reports")
    evidence.attach_json("GET /Reports", [{k: r.get(k) for k in REPORT_FIELDS} for r in reports])
    listed = {r.get("DisplayName") for r in reports}
    missing = [name for name in names if name not in listed]
    shown = ", ".join(sorted(str(n) for n in listed)[:12]) or "none"
    assert not missing, (
        f"GET /Reports does not list {', '.join(map(repr, missing))} (it lists {len(listed)}: {shown}) — the "
        "upgrade removed or renamed the report: check Reports > Report Manager, or correct [reports] names"
    )


def test_every_configured_report_runs_and_renders_its_output(portal, names, smoke_settings):
    runs = [portal.run_report(name, smoke_settings.reports.timeout_s) for name in names]
    failed = [run for run in runs if run.problem]
    for run in runs:
        evidence.attach_text(f"Report {run.name}", f"output: {run.output_url} → {run.output_status}, title "
                                                   f"{run.output_title!r}, {run.output_cells} cell(s)\n"
                                                   f"problem: {run.problem or 'none'}")
    if not failed:
        return
    # Reports failing the same way (Logi down fails them all) are named together, each with its address.
    groups: dict[str, list[str]] = {}
    for run in failed:
        groups.setdefault(run.problem or "", []).append(f"{run.name} ({run.address})" if run.address else run.name)
    problems = "; ".join(f"{' and '.join(names)}: {problem}" for problem, names in groups.items())
    fixes = "; ".join(dict.fromkeys(run.fix for run in failed if run.fix))  # a navigation error names its own
    fix = f" — {fixes}" if fixes else ""
    assert not failed, f"{len(failed)} of {len(runs)} report(s) did not run: {problems}{fix}"
