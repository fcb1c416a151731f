"""The configuration the upgrade guide names as blocking or silently changing an upgrade is clean."""

from __future__ import annotations

import pytest

from smoke.ground import evidence
from smoke.keyfactor.config_review import (
    CERTIFICATE_AUTHORITIES,
    COLLECTIONS,
    REMOVED_SEARCH_FIELDS,
    TEMPLATES,
    alert_scripts,
    approval_without_key_retention,
    collections_using_removed_fields,
    duplicate_cas,
    duplicate_templates,
    listing,
    outside,
)

AREA = "Configuration review"  # the report's suite and feature
pytestmark = pytest.mark.config


@pytest.fixture
def review(smoke_settings):
    if smoke_settings.config_review is None:
        pytest.skip(smoke_settings.not_configured("config_review"))
    return smoke_settings.config_review


def test_no_two_certificate_authorities_share_logical_and_host_name(review, api):
    authorities = listing(api, CERTIFICATE_AUTHORITIES)
    evidence.attach_json("Certificate authorities", [
        {k: ca.get(k) for k in ("Id", "LogicalName", "HostName", "ForestRoot")} for ca in authorities])
    duplicates = duplicate_cas(authorities)
    assert not duplicates, (
        f"certificate authorities share logical name and host name: {'; '.join(d.line() for d in duplicates)} — "
        "refused since 9.0: an upgrade removes the duplicates that hold no data (certificates, API applications) "
        "and stops when more than one does; fix the CA records so that each logical + host name is unique"
    )


def test_no_two_templates_share_a_name_or_oid_in_a_forest(review, api):
    templates = listing(api, TEMPLATES)
    evidence.attach_json("Templates", [
        {k: t.get(k) for k in ("Id", "CommonName", "Oid", "ForestRoot")} for t in templates])
    duplicates = duplicate_templates(templates)
    assert not duplicates, (
        f"duplicate templates: {'; '.join(d.line() for d in duplicates)} — upgrades to 10.0 and "
        "later fail on templates with the same CommonName and forest or the same OID and forest; the vendor's "
        "remedy is to contact Keyfactor Support, who keep the wanted template record and remove the duplicates"
    )


def test_no_saved_collection_uses_a_removed_search_field(review, api):
    collections = listing(api, COLLECTIONS)
    evidence.attach_json("Certificate collections", [
        {k: c.get(k) for k in ("Id", "Name", "Content")} for c in collections])
    offenders = collections_using_removed_fields(collections)
    assert not offenders, (
        f"saved certificate collections search on removed fields: {'; '.join(offenders)} — the "
        f"search fields {', '.join(REMOVED_SEARCH_FIELDS)} no longer exist: open each collection in Certificate "
        "Search, replace or remove those criteria, and save it"
    )


def test_every_alert_powershell_handler_lies_under_the_extension_handler_path(review, api):
    scripts = alert_scripts(api)
    evidence.attach_text("Alert PowerShell handlers", "\n".join(f"{alert}: {path}" for alert, path in scripts)
                         or "no alert has a PowerShell handler")
    misplaced = [f"{alert}: {path}" for alert, path in scripts if outside(path, review.extension_handler_path)]
    assert not misplaced, (
        f"alert handler scripts outside the Extension Handler Path {review.extension_handler_path}: "
        f"{'; '.join(misplaced)} — such handlers do not run: move each script below that folder (or correct "
        "[config_review] extension_handler_path to the server's Application Settings > Console value)"
    )


def test_every_template_that_needs_approval_keeps_its_private_keys(review, api):
    templates = listing(api, TEMPLATES)
    offenders = approval_without_key_retention(templates)
    assert not offenders, (
        f"templates that need a CA manager's approval but keep no private key: {', '.join(offenders)} — with "
        "approval, the key generated for a PFX enrollment is needed again when the request is approved: set a "
        "Keyfactor private key retention policy on each (Templates > Key Retention)"
    )
