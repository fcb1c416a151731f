"""The keyfactor wing's sections of an environment file: [enrollment], [orchestrators], [config_review],
[operations]."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from smoke.ground.sections import Section, Waiver
from smoke.keyfactor.formats import time_zone
from smoke.keyfactor.names import CertificateError, parse_dn


class EnrollmentSection(Section):
    """smoke/test_enrollment.py"""

    certificate_authority: str  # "<CA host>\\<CA logical name>", as Keyfactor names the CA
    template: str  # the template's short name (CommonName), as enrollment requests name it
    subject: str = "CN=kf-smoke-{run_id}"  # {run_id}: unique per run, so that runs never collide
    dns_sans: list[str] = []
    mode: Literal["csr", "pfx", "both"] = "csr"
    revoke_reason: int = 5  # 0 Unspecified … 5 Cessation of Operation; never 6 (a hold can be lifted)
    key_type: Literal["RSA", "ECC"] = "RSA"
    key_size: int = 2048  # RSA 2048/3072/4096; ECC 256/384/521 (the curve)

    @field_validator("certificate_authority")
    @classmethod
    def _ca(cls, name: str) -> str:
        host, sep, logical = name.partition("\\")
        if not sep or not host.strip() or not logical.strip() or "\\" in logical:
            raise ValueError('expected "<CA host>\\\\<CA logical name>" as Keyfactor shows it, e.g. '
                             '"ca01.corp.example.com\\\\Corp Issuing CA 1"')
        return name

    @field_validator("template")
    @classmethod
    def _template(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("expected the template's short name, e.g. \"WebServer\"")
        return name.strip()

    @field_validator("subject")
    @classmethod
    def _subject(cls, subject: str) -> str:
        if "{run_id}" not in subject:
            raise ValueError("must contain {run_id} (e.g. \"CN=kf-smoke-{run_id}.corp.example.com\") so that two runs "
                             "never collide and the cleanup only revokes this run's certificates")
        sample = subject.replace("{run_id}", "0")
        try:
            parse_dn(sample)
        except CertificateError as exc:
            raise ValueError(str(exc).replace(repr(sample), repr(subject))) from None
        return subject

    @field_validator("revoke_reason")
    @classmethod
    def _reason(cls, reason: int) -> int:
        if reason not in range(6):
            raise ValueError("expected 0-5 (5 = Cessation of Operation); 6 is a hold, which leaves the certificate "
                             "usable")
        return reason

    @field_validator("key_size")
    @classmethod
    def _size(cls, size: int, info: Any) -> int:
        sizes = {"RSA": (2048, 3072, 4096), "ECC": (256, 384, 521)}.get(info.data.get("key_type", "RSA"), ())
        if sizes and size not in sizes:
            raise ValueError(f"expected one of {', '.join(map(str, sizes))} for key_type "
                             f"\"{info.data.get('key_type', 'RSA')}\"")
        return size


class OrchestratorsSection(Section):
    """smoke/test_orchestrators.py"""

    max_last_seen_minutes: Annotated[int, Field(gt=0)] = 30
    expected: list[str] = []  # ClientMachine names, as the Orchestrator Management page shows them
    ignore: list[str] = []  # globs on ClientMachine, e.g. "retired-*"
    minimum_versions: dict[str, str] = {}  # platform name -> lowest acceptable Version
    # What a LastSeen without a zone means: "UTC", an offset such as "+02:00", or a zone name ("Europe/Berlin").
    zoneless_times: str = "UTC"
    page_size: Annotated[int, Field(gt=0, le=5000)] = 500  # pq.returnLimit for GET /Agents

    @field_validator("minimum_versions")
    @classmethod
    def _versions(cls, versions: dict[str, str]) -> dict[str, str]:
        for platform, version in versions.items():
            if not re.fullmatch(r"\d+(\.\d+)*", version.strip()):
                raise ValueError(f'"{platform}" = "{version}" is not a version (expected e.g. "10.1")')
        return versions

    @field_validator("zoneless_times")
    @classmethod
    def _zone(cls, name: str) -> str:
        time_zone(name)
        return name


class ConfigReviewSection(Section):
    """smoke/test_configuration.py — an empty [config_review] section turns the review on."""

    # The "Extension Handler Path" application setting (10.x has no API for it): alert PowerShell handlers must
    # lie below it or they do not run.
    extension_handler_path: str = "C:\\Program Files\\Keyfactor\\Keyfactor Platform\\ExtensionLibrary\\"


class OperationsSection(Section):
    """smoke/test_operations.py — the server's work since the upgrade: CAs, orchestrator jobs, workflows, revocation,
    the audit trail. An empty [operations] section turns the checks on with these defaults."""

    # CAs to test, as "<CA host>\\<CA logical name>"; default: every CA that synchronises or is offered for enrollment.
    cas: list[str] = []
    # Window start: ISO time (in zoneless_times) or a duration ("6h"); default: the logs' window ([logs]), else 24 h.
    since: str | None = None
    # The zone the server writes times without a zone in (and reads the query language's times in).
    zoneless_times: str = "UTC"
    page_size: Annotated[int, Field(gt=0, le=5000)] = 500  # returnLimit of the listings
    # Failed orchestrator jobs that are known and accepted: pattern searched in "<job type> <orchestrator> <store
    # path> <message>".
    job_waivers: list[Waiver] = []
    # A workflow instance still Running without a change for longer than this is stuck.
    workflow_stuck_minutes: Annotated[int, Field(gt=0)] = 30
    # A CRL must stay valid at least this long (its next update this far ahead).
    crl_min_hours_left: Annotated[float, Field(ge=0, strict=False)] = 24.0
    # PEM files holding the certificates of the CAs whose CRLs and OCSP answers are checked (their signatures are
    # verified against them); relative to the environment file.
    issuer_certificates: list[str] = []
    audit_sample: Annotated[int, Field(gt=0, le=500)] = 20  # the newest audit entries since the upgrade to validate

    @field_validator("cas")
    @classmethod
    def _cas(cls, names: list[str]) -> list[str]:
        for name in names:
            host, sep, logical = name.partition("\\")
            if not sep or not host.strip() or not logical.strip():
                raise ValueError(f'{name!r}: expected "<CA host>\\\\<CA logical name>" as Keyfactor shows it, e.g. '
                                 '"ca01.corp.example.com\\\\Corp Issuing CA 1"')
        return names

    @field_validator("since")
    @classmethod
    def _since(cls, since: str | None) -> str | None:
        from smoke.logscan import checked_since

        return checked_since(since, "[operations] since")

    @field_validator("zoneless_times")
    @classmethod
    def _zone(cls, name: str) -> str:
        time_zone(name)
        return name

    @field_validator("issuer_certificates")
    @classmethod
    def _files(cls, paths: list[str]) -> list[str]:
        if any(not path.strip() for path in paths):
            raise ValueError('an empty path — list PEM files, e.g. ["certs/issuing-ca1.pem"]')
        return paths
