"""The Keyfactor API answers, authenticated, at the version the upgrade installed."""

from __future__ import annotations

import datetime as dt

import pytest

from smoke.ground import evidence
from smoke.keyfactor import licence
from smoke.keyfactor.formats import version_matches

AREA = "Keyfactor API"  # the report's suite and feature
pytestmark = pytest.mark.api


def test_the_api_answers_an_authenticated_request(api, smoke_settings):
    endpoints = api.get_json("/Status/Endpoints")
    assert isinstance(endpoints, list) and endpoints and all(isinstance(e, str) for e in endpoints), (
        f"GET /Status/Endpoints answered {str(endpoints)[:120]!r}, not the list of endpoint names the API documents "
        "— check [command] api_path"
    )
    evidence.note_fact("Authentication", api.scheme_used)
    evidence.attach_text("Authentication", f"{api.scheme_used} ({len(endpoints)} endpoints granted)")
    if smoke_settings.auth.method == "kerberos":
        assert api.scheme_used and api.scheme_used.startswith("Kerberos"), (
            f"the API accepted {api.scheme_used}, not Kerberos — NTLM does not work for enrollment and the "
            "dashboard: check the SPN (setspn -Q HTTP/host) and that the client gets a service ticket"
        )


def test_the_server_reports_the_expected_command_version(api, smoke_settings, before_the_upgrade):
    expected = smoke_settings.command.expected_version
    if not expected:
        pytest.skip(f"[command] expected_version not configured in {smoke_settings.path}")
    version = licence.read(api).version
    evidence.note_fact("Keyfactor Command version", version)
    if before_the_upgrade:
        pytest.skip(f"--baseline, the run before the upgrade: the server reports {version}; expected_version "
                    f"{expected} is checked after the upgrade")
    assert isinstance(version, str) and version_matches(version, expected), (
        f"Keyfactor Command reports version {version}, expected {expected} — the upgrade did not take: check the "
        "installer and configuration wizard logs (Command_Configuration_Log.txt), then iisreset"
    )


def test_the_licence_has_not_expired(api):
    found = licence.read(api)
    expires = found.expires
    evidence.attach_json("Licence", found.evidence())
    assert expires is not None, (
        f"GET /License has no readable LicenseData.ExpirationDate ({found.expiration!r})"
    )
    now = dt.datetime.now(dt.UTC)
    assert expires > now, (
        f"the Keyfactor licence expired on {expires:%Y-%m-%d} — install the renewed .cmslicense "
        "(Keyfactor Command configuration wizard, License tab) and run iisreset"
    )
