"""Every orchestrator checked in again after the upgrade: approved, recent, error-free, at a supported version."""

from __future__ import annotations

import pytest

from smoke.ground import evidence
from smoke.keyfactor.orchestrators import AgentListing, counted, format_age, offender_list, table

AREA = "Orchestrators"  # the report's suite and feature
pytestmark = pytest.mark.orchestrators

FIX_CHECK_IN = ("check that the Keyfactor Orchestrator service runs on each and reaches the server's /KeyfactorAgents "
                "(TLS trust, proxy; see the orchestrator's log)")


@pytest.fixture(scope="module")
def agents(smoke_settings) -> AgentListing:
    if smoke_settings.orchestrators is None:
        pytest.skip(smoke_settings.not_configured("orchestrators"))
    # Loaded in a check's call, not in a fixture's setup, so that a failure is that check's one line.
    return AgentListing(smoke_settings.orchestrators)


def test_every_approved_orchestrator_checked_in_recently(agents, api, smoke_settings):
    beat = agents.get(api)
    stale = beat.stale()
    approved = len(beat.approved())
    assert approved, (
        "no approved orchestrator is registered (GET /Agents lists none with Status 2) — approve the orchestrators "
        "in Orchestrators > Management, or remove [orchestrators] from the environment if none are used"
    )
    if stale:
        evidence.attach_text("Orchestrators not checked in", table(stale, beat.now))
    limit = format_age(beat.limit)
    zone_hint = (f" — LastSeen times in the future: if the server writes them without a zone, set [orchestrators] "
                 f"zoneless_times to the server's zone (now \"{smoke_settings.orchestrators.zoneless_times}\")"
                 if beat.in_the_future() else "")
    assert not stale, (
        f"{len(stale)} of {counted(approved, 'approved orchestrator')} {'has' if len(stale) == 1 else 'have'} not "
        f"checked in within {limit}: "
        f"{offender_list([o.describe(beat.now) for o in stale])} — {FIX_CHECK_IN}{zone_hint}"
    )


def test_every_expected_orchestrator_is_approved_and_checked_in(agents, api, smoke_settings):
    if smoke_settings.orchestrators and not smoke_settings.orchestrators.expected:
        pytest.skip(f"[orchestrators] expected not configured in {smoke_settings.path}")
    beat = agents.get(api)
    problems = beat.expected_problems()
    assert not problems, (
        f"{len(problems)} of {counted(len(beat.settings.expected), 'expected orchestrator')} missing, not approved "
        f"or not checked in within {format_age(beat.limit)}: {offender_list(problems)} — approve re-registered ones "
        "(New) in Orchestrators > Management; for the others check the service and its server URL"
    )


def test_no_orchestrator_reports_an_error(agents, api, smoke_settings):
    beat = agents.get(api)
    failing = beat.with_errors()
    if failing:
        evidence.attach_text("Orchestrators reporting an error", table(failing, beat.now))
    assert not failing, (
        f"{counted(len(failing), 'orchestrator')} {'reports' if len(failing) == 1 else 'report'} a last error: "
        f"{offender_list([o.describe(beat.now) for o in failing])}"
        " — read the orchestrator's log at its last check-in, fix the cause (often TLS trust of the upgraded server "
        "or the service account's rights) and restart its service"
    )


def test_orchestrator_versions_meet_the_platform_minimums(agents, api, smoke_settings):
    if smoke_settings.orchestrators and not smoke_settings.orchestrators.minimum_versions:
        pytest.skip(f"[orchestrators.minimum_versions] not configured in {smoke_settings.path}")
    beat = agents.get(api)
    old = beat.below_minimum()
    if old:
        evidence.attach_text("Orchestrators below the minimum version", table([o for o, _ in old], beat.now))
    assert not old, (
        f"{counted(len(old), 'approved orchestrator')} below the minimum version for its platform: "
        f"{offender_list([f'{o.describe(beat.now)} below {minimum}' for o, minimum in old])} — upgrade them "
        "(Universal Orchestrator 10.x needs Command 9.0+; the Windows Orchestrator's last release, 8.7, still "
        "works with 10.2)"
    )
