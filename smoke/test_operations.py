"""The server's work goes on after the upgrade: every CA answers, orchestrator jobs succeed, workflows finish, CRLs
and OCSP answers are current, and the audit trail still validates. Every call here reads; none changes the server."""

from __future__ import annotations

import datetime as dt

import pytest

from smoke.ground import evidence
from smoke.keyfactor import audit, authorities, jobs, revocation, workflow_instances
from smoke.keyfactor.formats import time_zone
from smoke.keyfactor.issuers import Issuers
from smoke.keyfactor.orchestrators import counted, offender_list
from smoke.keyfactor.revocation_http import Http
from smoke.keyfactor.tables import plain_table
from smoke.keyfactor.upgrade_window import Since, since_the_upgrade
from smoke.logscan import Waiver

AREA = "The server's work"  # the report's suite and feature
pytestmark = pytest.mark.operations

FIX_JOBS = ("read the orchestrator's log at the job's time and fix the cause (store credentials, TLS trust of the "
            "upgraded server, the store type's extension), or waive a known one in [[operations.job_waivers]]")
FIX_STRANDED = ("approve the orchestrator again (Orchestrators > Management), or move its stores to a running "
                "orchestrator and remove the old one's scheduled jobs")
FIX_WORKFLOWS = ("open each in Workflow > Workflow Instances, fix the step's cause (its REST target, PowerShell "
                 "script or the KEYFACTOR_BLOCKED_OUTBOUND_IPS setting), then restart it")
FIX_AUDIT = ("the material that signs audit entries did not carry over (the database master key, or the signing "
             "key after the upgrade): restore it as the upgrade guide says and tell Keyfactor Support — until then "
             "no entry can be proven untampered")


@pytest.fixture(scope="module")
def operations(smoke_settings):
    if smoke_settings.operations is None:
        pytest.skip(smoke_settings.not_configured("operations"))
    return smoke_settings.operations


@pytest.fixture(scope="module")
def since(operations, smoke_settings) -> Since:
    window = since_the_upgrade(smoke_settings)
    evidence.note_fact("Window of the server's work", window.describe())
    return window


@pytest.fixture(scope="module")
def zone(operations) -> dt.tzinfo:
    return time_zone(operations.zoneless_times)


@pytest.fixture(scope="module")
def job_history(operations, since, zone) -> jobs.WindowHistory:
    return jobs.WindowHistory(since.start, zone, operations.page_size)


def test_every_certificate_authority_answers(operations, api):
    listed = authorities.listed(api)
    offered = set() if operations.cas else authorities.offered_for_enrollment(api)
    chosen, missing = authorities.chosen(listed, operations.cas, offered)
    assert chosen or missing, (
        f"no certificate authority to test: none of the {len(listed)} CA records synchronises or is offered for "
        "enrollment — name the CAs in [operations] cas"
    )
    answers = [authorities.test(api, authority, use) for authority, use in chosen]
    evidence.attach_text("Certificate authorities (POST /CertificateAuthority/Test)", plain_table(
        ("CA", "tested because", "credentials", "answer", "message"),
        [(a.authority.name, a.use, f"explicit ({a.authority.record.get('ExplicitUser')})" if a.authority.explicit
          else "integrated", "answers" if a.success else "FAILED", a.message) for a in answers]))
    problems = [f"{name}: no CA record has this name (GET /CertificateAuthority lists {len(listed)}) — correct "
                "[operations] cas" for name in missing] + [a.line() for a in answers if not a.success]
    assert not problems, (
        f"{len(problems)} of {counted(len(chosen) + len(missing), 'certificate authority', 'certificate authorities')}"
        f" did not answer: {offender_list(problems)}"
    )


def test_no_orchestrator_job_failed_since_the_upgrade(operations, api, job_history):
    runs = job_history.get(api)
    waivers = [Waiver(w.pattern, w.justification, w.expires) for w in operations.job_waivers]
    found = jobs.review(runs, waivers, dt.date.today())
    evidence.note_fact("Orchestrator job runs since the upgrade", f"{len(runs)} ({found.warnings} with warnings)")
    header = ("job type", "orchestrator", "jobs", "failed runs", "newest failure (UTC)", "newest message")

    def rows(groups: list[jobs.FailingGroup]) -> list[tuple[object, ...]]:
        return [(g.job_type, g.orchestrator, len(g.jobs), g.runs, _utc(g.newest.start) if g.newest else "",
                 g.newest.message if g.newest else "") for g in groups]

    evidence.attach_text("Failing orchestrator jobs since the upgrade", plain_table(header, rows(found.failing)))
    if found.waived:
        evidence.attach_text("Waived orchestrator job failures", plain_table(
            (*header, "waiver"), [(*row, g.waiver.describe() if g.waiver else "")
                                  for row, g in zip(rows(found.waived), found.waived, strict=True)]))
    if found.recovered:
        evidence.attach_text("Jobs that failed since the upgrade and then succeeded", plain_table(
            ("job type", "orchestrator", "store", "failed at (UTC)", "message"),
            [(r.job_type, r.orchestrator, r.store, _utc(r.start), r.message) for r in found.recovered]))
    if found.expired_waivers:
        evidence.note_fact("Expired job waivers (evaluated normally)",
                           "; ".join(w.describe() for w in found.expired_waivers))
    failing = sum(len(g.jobs) for g in found.failing)
    assert not found.failing, (
        f"{counted(failing, 'orchestrator job')} failing since the upgrade: "
        f"{offender_list([g.line() for g in found.failing])} — {FIX_JOBS}"
    )


def test_no_scheduled_job_waits_on_an_orchestrator_that_is_gone_or_not_approved(operations, api, job_history):
    ran = {run.job_id for run in job_history.get(api)}
    scheduled = jobs.scheduled(api, operations.page_size)
    stranded = jobs.stranded(scheduled, jobs.orchestrator_statuses(api, operations.page_size), ran)
    evidence.note_fact("Scheduled orchestrator jobs", len(scheduled))
    evidence.attach_text("Scheduled jobs that never ran since the upgrade", plain_table(
        ("job type", "target", "orchestrator", "why"), [(j.job_type, j.target, j.orchestrator, why)
                                                         for j, why in stranded]))
    assert not stranded, (
        f"{counted(len(stranded), 'scheduled job')} never ran since the upgrade: "
        f"{offender_list([f'{j.job_type} {j.target} on {j.orchestrator}: {why}' for j, why in stranded])}"
        f" — {FIX_STRANDED}"
    )


def test_no_workflow_started_since_the_upgrade_failed_or_is_stuck(operations, api, since, zone):
    now = dt.datetime.now(dt.UTC)
    found = workflow_instances.review(api, since.start, dt.timedelta(minutes=operations.workflow_stuck_minutes),
                                      zone, operations.page_size, now)
    evidence.note_fact("Workflow instances started since the upgrade",
                       "not counted (no X-Total-Count)" if found.started is None else found.started)
    offenders = [*found.failed, *found.stuck]
    evidence.attach_text("Workflow instances since the upgrade that failed, are stuck or wait for a person",
                         plain_table(("definition", "#", "status", "step", "started (UTC)", "message"), [
                             (i.definition, i.reference, i.status, i.step, _utc(i.started), i.message)
                             for i in [*offenders, *found.waiting]]))
    assert not offenders, (
        f"{counted(len(offenders), 'workflow instance')} started since the upgrade "
        f"{'has' if len(offenders) == 1 else 'have'} failed or {'is' if len(offenders) == 1 else 'are'} stuck "
        f"(Running, unchanged for {operations.workflow_stuck_minutes} min or more): "
        f"{offender_list([i.line(now) for i in offenders])} — {FIX_WORKFLOWS}"
    )


def test_every_monitored_crl_is_current_and_every_ocsp_responder_answers(operations, api, smoke_settings):
    endpoints = revocation.monitored(api, operations.page_size)
    if not endpoints:
        pytest.skip("Revocation Monitoring lists no endpoint (GET /Monitoring/Revocation): add the CRL and OCSP "
                    "locations your clients use in Alerts > Revocation Monitoring")
    command = smoke_settings.command
    check = revocation.RevocationCheck(
        Http(command.timeout_s, str(command.ca_bundle) if command.ca_bundle else None),
        Issuers.load(operations.issuer_certificates), dt.timedelta(hours=operations.crl_min_hours_left))
    verdicts = check.all(endpoints)
    evidence.attach_text("Revocation endpoints (GET /Monitoring/Revocation, each checked from here)", plain_table(
        ("name", "type", "location", "state", "found"),
        [(v.endpoint.name, v.endpoint.kind, v.endpoint.location, v.state, v.detail) for v in verdicts]))
    failed = [v for v in verdicts if v.state == revocation.FAILED]
    assert not failed, (
        f"{len(failed)} of {counted(len(verdicts), 'revocation endpoint')} failed: "
        f"{offender_list([v.line() for v in failed])}"
    )


def test_the_newest_audit_entries_since_the_upgrade_validate(operations, api, since, zone):
    entries = audit.newest_since(api, since.start, zone, operations.audit_sample)
    if not entries:
        pytest.skip(f"no audit entry was written {since.describe()}: nothing to validate yet")
    checked = [(entry, audit.validates(api, entry)) for entry in entries]
    evidence.attach_text("Audit entries validated (GET /Audit/{id}/Validate)", plain_table(
        ("Id", "time (UTC)", "category", "operation", "user", "valid", "message"),
        [(e.id, _utc(e.when, seconds=True), e.category, e.operation, e.user, "yes" if ok else "NO", e.message)
         for e, ok in checked]))
    invalid = [entry.id for entry, ok in checked if not ok]
    assert not invalid, (
        f"{len(invalid)} of the {len(checked)} newest audit entries since the upgrade do not validate "
        f"(Ids {', '.join(map(str, invalid[:20]))}{' …' if len(invalid) > 20 else ''}) — {FIX_AUDIT}"
    )


def _utc(moment: dt.datetime | None, seconds: bool = False) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M{':%S' if seconds else ''}}" if moment else "?"
