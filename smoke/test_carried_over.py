"""Everything carried over: the configuration now is the configuration of the baseline taken before the upgrade.

Items are matched by what identifies them to a person; a missing or changed item fails its area's check (changes
the vendor documents for 10.x and [[baseline.expected]] entries excepted), an added one is reported. Take the
baseline before the upgrade with `pytest --env <env> --baseline`."""

from __future__ import annotations

import pytest

AREA = "Carried over"  # the report's suite and feature
pytestmark = pytest.mark.carried_over


def _unchanged(carried_over, area: str) -> None:
    found = carried_over.compare(area)
    assert not found.unexpected, carried_over.failure(found)


def test_every_certificate_template_kept_its_enrollment_settings(carried_over):
    _unchanged(carried_over, "templates")


def test_every_certificate_authority_kept_its_settings(carried_over):
    _unchanged(carried_over, "certificate_authorities")


def test_every_certificate_collection_kept_its_query_and_settings(carried_over):
    _unchanged(carried_over, "collections")


def test_every_metadata_field_kept_its_definition(carried_over):
    _unchanged(carried_over, "metadata")


def test_every_security_role_kept_its_permissions_and_members(carried_over):
    _unchanged(carried_over, "security")


def test_every_alert_kept_its_recipients_query_schedule_and_handler(carried_over):
    _unchanged(carried_over, "alerts")


def test_every_workflow_kept_its_published_steps(carried_over):
    _unchanged(carried_over, "workflows")


def test_every_orchestrator_is_still_registered_with_its_capabilities(carried_over):
    _unchanged(carried_over, "orchestrators")


def test_every_certificate_store_is_still_defined(carried_over):
    _unchanged(carried_over, "certificate_stores")


def test_every_ssl_network_and_revocation_monitoring_endpoint_kept_its_settings(carried_over):
    _unchanged(carried_over, "discovery")


def test_every_report_kept_its_schedules(carried_over):
    _unchanged(carried_over, "reports")


def test_the_smtp_settings_custom_job_types_and_licence_carried_over(carried_over):
    _unchanged(carried_over, "server")


def test_every_iis_application_offers_the_same_sign_in_methods(carried_over):
    _unchanged(carried_over, "sign_in")


def test_the_site_presents_the_same_tls_certificate(carried_over):
    _unchanged(carried_over, "tls")


def test_every_baseline_file_is_unchanged(carried_over, smoke_settings):
    if not (smoke_settings.baseline and smoke_settings.baseline.files):
        pytest.skip(f"[baseline] files not configured in {smoke_settings.path}")
    _unchanged(carried_over, "files")
