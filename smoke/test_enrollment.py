"""A certificate can be issued through Keyfactor Command (CA connectivity, Kerberos delegation), is what was asked
for, and is revoked again: the one check that writes, so it leaves nothing behind."""

from __future__ import annotations

import sys

import pytest

from smoke.ground import evidence
from smoke.keyfactor.enrollment import EnrollmentRun, RevocationFailed, kerberos_problem

AREA = "Certificate issuance"  # the report's suite and feature
pytestmark = pytest.mark.enrollment


@pytest.fixture(scope="module")
def enrollment(request, api_client, smoke_settings):
    """One enrollment run for the module; on exit it revokes whatever the run issued, whatever happened."""
    section = smoke_settings.enrollment
    if section is None:
        pytest.skip(smoke_settings.not_configured("enrollment"))
    run = EnrollmentRun(api_client, section)
    evidence.note_fact("Enrollment run", run.run_id)
    try:
        with run:
            yield run
    except RevocationFailed as exc:
        if request.session.exitstatus != pytest.ExitCode.INTERRUPTED:
            raise
        # After Ctrl-C this teardown runs at session end, where an error would print as an INTERNALERROR traceback.
        sys.stderr.write(f"\n{exc}\n")
    finally:
        evidence.note_fact("Smoke certificates", run.summary())


def _enroll(enrollment, method):
    issued = enrollment.enroll(method)
    evidence.attach_json(f"{method} enrollment", issued.evidence())
    evidence.note_fact(f"{method} enrollment round trip", f"{issued.round_trip_ms} ms")


def test_the_template_is_offered_for_enrollment_by_the_configured_ca(api, enrollment):
    for method in enrollment.methods:
        template = enrollment.template_offered(method)
        evidence.attach_json(f"{method} enrollment template", template)


@pytest.mark.writes
def test_a_certificate_can_be_issued_through_the_api_by_csr(api, enrollment, smoke_settings):
    if "CSR" not in enrollment.methods:
        pytest.skip(f'[enrollment] mode = "{smoke_settings.enrollment.mode}" in {smoke_settings.path}: '
                    "CSR enrollment is not part of this environment's checks")
    _enroll(enrollment, "CSR")


@pytest.mark.writes
def test_a_certificate_can_be_issued_through_the_api_by_pfx(api, enrollment, smoke_settings):
    if "PFX" not in enrollment.methods:
        pytest.skip(f'[enrollment] mode = "{smoke_settings.enrollment.mode}" in {smoke_settings.path}: '
                    "PFX enrollment is not part of this environment's checks")
    _enroll(enrollment, "PFX")


@pytest.mark.writes
def test_the_issued_certificate_matches_the_request_and_chains_to_the_ca(api, enrollment):
    problems = [problem for issued in enrollment.require_issued() for problem in enrollment.problems(issued)]
    assert not problems, (
        f"the issued certificate is not what was requested: {'; '.join(problems)} — check the template's subject, "
        "SAN and key settings and that [enrollment] certificate_authority names the CA that issues it"
    )


@pytest.mark.writes
def test_enrollment_authenticated_with_kerberos(api, enrollment, smoke_settings):
    issued = enrollment.require_issued()
    schemes = {f"{i.method} enrollment": i.scheme or "none" for i in issued}
    evidence.attach_json("Enrollment authentication", schemes)
    evidence.note_fact("Enrollment authentication", ", ".join(f"{k}: {v}" for k, v in schemes.items()))
    if smoke_settings.auth.method != "kerberos":
        pytest.skip(f'[auth] method = "{smoke_settings.auth.method}": the API accepted {", ".join(schemes.values())};'
                    " Kerberos delegation is exercised only with method = \"kerberos\"")
    problems = [p for p in map(kerberos_problem, issued) if p]
    assert not problems, "; ".join(problems)


@pytest.mark.writes
def test_the_smoke_certificate_is_revoked_afterwards(api, enrollment):
    enrollment.require_issued()
    revoked = enrollment.revoke()
    evidence.attach_json("Revoked", [
        {"KeyfactorId": c.keyfactor_id, "SerialNumber": c.serial, "Thumbprint": c.thumbprint, "source": c.source}
        for c in revoked
    ])
