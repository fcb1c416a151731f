"""The sections of an environment file, as typed models: what each key may hold, its default, and the checks a
value must pass. Loading, merging and the one-line error messages are in smoke/settings.py."""

from __future__ import annotations

import datetime as dt
import os
import re
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import evidence, keyfactor
from .errors import ConfigError

# Paths are strings in TOML; everything else is taken as written (no "30" for 30).
PathValue = Annotated[Path, Field(strict=False)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CommandSection(Section):
    url: str
    api_path: str = "/KeyfactorAPI"
    portal_path: str = "/KeyfactorPortal"
    expected_version: str | None = None
    ca_bundle: PathValue | None = None
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0

    @field_validator("url")
    @classmethod
    def _https(cls, url: str) -> str:
        if not url.lower().startswith("https://"):
            raise ValueError("must start with https:// (the suite never talks to Keyfactor in clear text)")
        return url.rstrip("/")

    @field_validator("api_path", "portal_path")
    @classmethod
    def _path(cls, path: str) -> str:
        return "/" + path.strip("/")

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class AuthSection(Section):
    method: Literal["kerberos", "basic"] = "kerberos"
    username: str | None = None
    password_env: str | None = None
    principal: str | None = None
    keytab: PathValue | None = None
    ccache: str | None = None
    krb5_config: PathValue | None = None
    spn: str | None = None


class SandboxSection(Section):
    start: bool = True
    faults: list[str] = []
    agents: Annotated[int, Field(ge=8)] | None = None  # orchestrators the sandbox lists (python -m sandbox --agents)


# Sections of the later checks. A section an environment leaves out makes its checks skip with
# "not configured in <file>"; each class below belongs to the check module named in its docstring.

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
        from .certs import CertificateError, parse_dn

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


class PortalSection(Section):
    """smoke/test_portal.py, test_dashboard.py (and the browser test_reports.py runs reports in)"""

    browser: str = "chromium"  # "chromium" (Playwright's, else a system one) | "chrome" | "msedge" | a path
    headless: bool = True
    min_search_rows: Annotated[int, Field(ge=1)] = 1
    timeout_s: Annotated[float, Field(gt=0, le=600)] | None = None  # a page load; default [command] timeout_s
    # Overrides of the page knowledge in smoke/portal_pages.py, for portal markup that differs by version.
    pages: dict[str, str] = {}
    selectors: dict[str, str] = {}
    texts: dict[str, list[str]] = {}

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("browser")
    @classmethod
    def _browser(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('expected "chromium", "chrome", "msedge" or the path of a browser executable')
        return value.strip()

    @field_validator("pages", "selectors", "texts")
    @classmethod
    def _known(cls, overrides: dict[str, Any], info: Any) -> dict[str, Any]:
        from . import portal_pages

        known = portal_pages.KNOWN[info.field_name]
        for key, value in overrides.items():
            if key not in known:
                hint = get_close_matches(key, known, n=1)
                raise ValueError(f"{key!r} is not a known {info.field_name[:-1]}"
                                 + (f" (did you mean {hint[0]}?)" if hint else f" (known: {', '.join(known)})"))
            if not value:
                raise ValueError(f"{key} is empty — remove it to use the default")
        return overrides


class ReportsSection(Section):
    """smoke/test_reports.py"""

    names: list[str] = []  # Report Manager display names; empty: the defaults in smoke/portal_pages.py
    timeout_s: Annotated[float, Field(gt=0, le=1800)] = 60.0  # one report run, Generate to rendered output

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


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
        keyfactor.time_zone(name)
        return name


class ConfigReviewSection(Section):
    """smoke/test_configuration.py — an empty [config_review] section turns the review on; it needs no keys."""


class LogWaiver(Section):
    pattern: str  # a regular expression searched in "<logger> <message>" of each Error/Fatal entry
    justification: str  # why it is acceptable: a vendor case, a ticket
    expires: Annotated[dt.date, Field(strict=False)]  # 2026-12-31 (TOML date); after it, the entry counts again

    @field_validator("pattern")
    @classmethod
    def _regex(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return pattern

    @field_validator("justification")
    @classmethod
    def _why(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("say why the entry is acceptable (a vendor case, a ticket)")
        return text


class LogsSection(Section):
    """smoke/test_logs.py"""

    # Folders (or files) of Keyfactor's NLog logs: local (C:\Keyfactor\logs), a UNC share on Windows
    # (\\server\c$\Keyfactor\logs), a CIFS mount on Linux (/mnt/kf-logs). Archives below them are read too.
    paths: list[str] = []
    freshness_minutes: Annotated[int, Field(gt=0)] = 60  # each location must have an entry newer than this
    since: str | None = None  # window start: ISO time or duration ("2h"); default: the last wizard run, else 24 h
    timezone: str = "local"  # the zone the server writes log times in: local, UTC, "+02:00", "Europe/Berlin"
    wizard_logger: str = ""  # regex on the logger name of configuration-wizard entries ("" = every entry)
    wizard_start: str | None = None  # regex on "<logger> <message>" of the line that starts a wizard run
    waivers: list[LogWaiver] = []

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        if any(not path.strip() for path in paths):
            raise ValueError('an empty path — list the log folders, e.g. ["/mnt/kf-logs"]')
        return paths

    @field_validator("since")
    @classmethod
    def _since(cls, since: str | None) -> str | None:
        from .logscan import LogScanError, parse_since

        if since is not None:
            try:
                parse_since(since, dt.datetime(2000, 1, 1))
            except LogScanError as exc:
                raise ValueError(str(exc).removeprefix("logs: ")) from None
        return since

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        from .logscan import LogClock, LogScanError

        try:
            LogClock.parse(name)
        except LogScanError as exc:
            raise ValueError(str(exc).removeprefix("logs: ")) from None
        return name

    @field_validator("wizard_logger", "wizard_start")
    @classmethod
    def _marker(cls, pattern: str | None) -> str | None:
        try:
            re.compile(pattern or "")
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return pattern


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DatabaseSection(Section):
    """smoke/test_database.py"""

    # The NAME of the environment variable holding the ODBC connection string (it holds a password).
    connection_string_env: str
    database: str | None = None  # the Keyfactor database; default: DATABASE= of the connection string
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 15.0  # login and each query

    @model_validator(mode="before")
    @classmethod
    def _a_name_not_a_string(cls, values: Any) -> Any:
        # Checked on the whole section so that the error shows "{…}", never a pasted connection string.
        name = values.get("connection_string_env") if isinstance(values, dict) else None
        if isinstance(name, str) and not _ENV_NAME.fullmatch(name):
            raise ValueError("[database] connection_string_env must be the NAME of the environment variable that "
                             "holds the ODBC connection string (e.g. \"KF_SMOKE_SQL\"), not the string itself — "
                             "move the connection string into that variable")
        return values

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def connection_string(self) -> str:
        """The connection string, from the environment variable (never from a file); registered as a secret."""
        value = os.environ.get(self.connection_string_env, "").strip()
        if not value:
            raise ConfigError(f"[database] connection_string_env: environment variable {self.connection_string_env} "
                              "is not set — set it to the ODBC connection string of the Keyfactor database "
                              "(README: \"The logs and database checks\"); it is never read from a file")
        evidence.register_secret(value)
        return value


class Settings(Section):
    command: CommandSection
    auth: AuthSection = AuthSection()
    sandbox: SandboxSection | None = None
    enrollment: EnrollmentSection | None = None
    portal: PortalSection | None = None
    reports: ReportsSection | None = None
    orchestrators: OrchestratorsSection | None = None
    config_review: ConfigReviewSection | None = None
    logs: LogsSection | None = None
    database: DatabaseSection | None = None

    # Not part of the file: where it came from.
    name: str = ""
    path: PathValue = Path()

    @property
    def api_url(self) -> str:
        return self.command.url + self.command.api_path

    @property
    def portal_url(self) -> str:
        return self.command.url + self.command.portal_path

    def password(self) -> str:
        """The Basic password, from the environment variable the file names (never from the file)."""
        variable = self.auth.password_env
        if not variable:
            raise ConfigError(f"{self.path}: [auth] method = \"basic\" needs password_env, the NAME of the "
                              "environment variable holding the password (e.g. password_env = \"KF_SMOKE_PASSWORD\")")
        value = os.environ.get(variable)
        if not value:
            raise ConfigError(f"Basic auth: environment variable {variable} is not set — set it to the password "
                              f"of {self.auth.username or 'the service account'} (it is never read from a file)")
        return value

    def not_configured(self, section: str) -> str:
        return f"[{section}] not configured in {self.path}"
