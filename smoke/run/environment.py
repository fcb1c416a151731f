"""An environment file as a whole: environments/<name>.toml, every wing's section in one validated model.

Secrets never live in these files: a password is named by the environment variable that holds it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from smoke.baseline.section import BaselineSection
from smoke.database.section import DatabaseSection
from smoke.ground import evidence, settings
from smoke.ground.errors import ConfigError
from smoke.ground.sections import AuthSection, CommandSection, PathValue, Section
from smoke.keyfactor.nodes import check_nodes
from smoke.keyfactor.sections import ConfigReviewSection, EnrollmentSection, OperationsSection, OrchestratorsSection
from smoke.logscan.section import LogsSection
from smoke.portal.sections import PortalSection, ReportsSection
from smoke.ticket import TicketSection


class SandboxSection(Section):
    start: bool = True
    faults: list[str] = []
    agents: Annotated[int, Field(ge=8)] | None = None  # orchestrators the sandbox lists (python -m sandbox --agents)
    configuration: Literal["default", "large"] | None = None  # python -m sandbox --configuration (large: bench/)
    uo_platform: Literal[1, 7] | None = None  # the AgentPlatform of its Universal Orchestrators (--uo-platform)
    total_count: Literal["sent", "absent", "high", "low"] | None = None  # its X-Total-Count header (--total-count)
    nodes: Annotated[int, Field(ge=1, le=16)] | None = None  # web servers behind its name (--nodes)


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
    baseline: BaselineSection | None = None
    ticket: TicketSection | None = None
    operations: OperationsSection | None = None

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
        if value is None or not value.strip():
            state = "is not set" if value is None else "is set but empty"
            raise ConfigError(f"Basic auth: environment variable {variable} {state} — set it to the password "
                              f"of {self.auth.username or 'the service account'} (it is never read from a file)")
        return value

    def not_configured(self, section: str) -> str:
        return f"[{section}] not configured in {self.path}"


def build(name: str, path: Path, raw: dict[str, Any]) -> Settings:
    """Validates the raw TOML table; paths in it are relative to the file."""
    return _anchor_paths(settings.validate(Settings, path, {**raw, "name": name, "path": path}), path.parent)


def load(env: str, overlay: dict[str, Any] | None = None) -> Settings:
    name, path = settings.resolve(env)
    raw = settings.read_toml(path)
    if "name" in raw or "path" in raw:
        raise ConfigError(f"{path}: 'name'/'path' are not keys of an environment file — remove them")
    return build(name, path, settings.merge(raw, overlay or {}))


def _anchor_paths(environment: Settings, base: Path) -> Settings:
    def anchored(value: Path | None) -> Path | None:
        return value if value is None or value.is_absolute() else (base / value).resolve()

    command = environment.command.model_copy(update={"ca_bundle": anchored(environment.command.ca_bundle)})
    auth = environment.auth.model_copy(
        update={"keytab": anchored(environment.auth.keytab), "krb5_config": anchored(environment.auth.krb5_config)}
    )
    environment = environment.model_copy(update={"command": command, "auth": auth})
    def folders(paths: list[str]) -> list[str]:
        return [p if Path(p).is_absolute() or p.startswith("\\\\") else str((base / p).resolve()) for p in paths]

    if environment.logs:
        logs = environment.logs.model_copy(update={"paths": folders(environment.logs.paths)})
        environment = environment.model_copy(update={"logs": logs})
    if environment.baseline:
        kept = environment.baseline.model_copy(update={"files": folders(environment.baseline.files)})
        environment = environment.model_copy(update={"baseline": kept})
    if environment.ticket:
        environment = environment.model_copy(update={"ticket": environment.ticket.anchored(base, environment.path)})
    if environment.operations:
        issuers = folders(environment.operations.issuer_certificates)
        environment = environment.model_copy(update={
            "operations": environment.operations.model_copy(update={"issuer_certificates": issuers})})
    if environment.auth.method == "basic":
        evidence.register_secret(environment.password())
    if environment.auth.keytab and not environment.auth.principal:
        raise ConfigError(f"{environment.path}: [auth] keytab needs principal = \"svc-smoke@CORP.EXAMPLE.COM\", the "
                          "principal whose key it holds")
    problem = command.ca_bundle and settings.file_problem(command.ca_bundle)
    if problem:
        raise ConfigError(f"{environment.path}: [command] ca_bundle {command.ca_bundle} {problem} — "
                          "point it at the PEM file of the CA that issued the server's TLS certificate")
    for key in ("keytab", "krb5_config"):  # a missing one is the Kerberos check's to say, with how to make one
        path = getattr(environment.auth, key)
        problem = path and settings.file_problem(path)
        if problem and problem != "does not exist":
            raise ConfigError(f"{environment.path}: [auth] {key} {path} {problem} — name the file itself")
    if command.nodes:
        try:
            check_nodes(command.nodes, command.url)
        except ConfigError as exc:
            raise ConfigError(f"{environment.path}: {exc}") from None
    return environment
