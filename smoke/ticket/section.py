"""The [ticket] section of an environment file: which change system, where, how the suite signs in, and whether the
report is attached after the run (opt-in). Secrets never live in the file: it names the variables that hold them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from smoke.ground import settings
from smoke.ground.errors import ConfigError
from smoke.ground.sections import PathValue, Section, as_seconds, https_only

AUTH = {"servicenow": ("basic", "oauth"), "jira": ("basic", "bearer")}
# What a ticket number looks like in each system: ServiceNow's change numbers are a prefix and digits (CHG0012345,
# the prefix is the instance's number maintenance), Jira's issue keys a project key, a dash and a number.
SHAPES = {
    "servicenow": (re.compile(r"[A-Z]{2,10}\d{4,}"), "a change number such as CHG0012345"),
    "jira": (re.compile(r"[A-Z][A-Z0-9_]*-[1-9]\d*"), "an issue key such as OPS-123"),
}


class TicketSection(Section):
    """Attaching the report to the change ticket (smoke/ticket/)."""

    system: Literal["servicenow", "jira"]
    url: str
    username: str | None = None  # servicenow: the user; jira basic: the account's e-mail (Cloud) or user name
    password_env: str | None = None  # NAME of the variable holding the password
    token_env: str | None = None  # jira: NAME of the variable holding the API token (Cloud) or personal access token
    client_id: str | None = None  # servicenow oauth: the OAuth application's client id
    client_secret_env: str | None = None  # servicenow oauth: NAME of the variable holding the client secret
    # Checked last: it names the keys above that it needs.
    auth: Annotated[str, Field(validate_default=True)] = "basic"
    attach: Literal["after-run", "never"] = "never"
    ca_bundle: PathValue | None = None
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0

    @field_validator("url")
    @classmethod
    def _https(cls, url: str) -> str:
        return https_only(url, "credentials go to the ticket system over TLS only")

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return as_seconds(value)

    @field_validator("auth")
    @classmethod
    def _auth(cls, auth: str, info: Any) -> str:
        system = info.data.get("system")
        if system is None:
            return auth
        allowed = AUTH[system]
        if auth not in allowed:
            raise ValueError(f"{system} takes {' | '.join(allowed)}")
        needed = {
            ("servicenow", "basic"): ("username", "password_env"),
            ("servicenow", "oauth"): ("username", "password_env", "client_id", "client_secret_env"),
            ("jira", "basic"): ("username",),
            ("jira", "bearer"): ("token_env",),
        }[system, auth]
        missing = [key for key in needed if not info.data.get(key)]
        if system == "jira" and auth == "basic" and not (info.data.get("token_env") or info.data.get("password_env")):
            missing.append("token_env (Cloud: the API token) or password_env")
        if missing:
            raise ValueError(f"{system} with auth = \"{auth}\" needs {', '.join(missing)}")
        return auth

    @property
    def secret_key(self) -> str:
        """The key naming the variable of the main secret: the password, the API token or the access token."""
        if self.system == "jira" and self.token_env:
            return "token_env"
        return "password_env"

    @property
    def account(self) -> str:
        return self.username or "the token's account"

    def anchored(self, base: Path, where: Path) -> TicketSection:
        """ca_bundle relative to the environment file `where` (in folder `base`), and present."""
        bundle = self.ca_bundle
        if bundle is None:
            return self
        bundle = bundle if bundle.is_absolute() else (base / bundle).resolve()
        problem = settings.file_problem(bundle)
        if problem:
            raise ConfigError(f"{where}: [ticket] ca_bundle {bundle} {problem} — point it at the PEM file of "
                              "the CA that issued the ticket system's certificate, or leave it out (OS trust store)")
        return self.model_copy(update={"ca_bundle": bundle})


def check_number(section: TicketSection, number: str, where: Path) -> str:
    """The ticket number, or one line when it has the wrong shape for the configured system."""
    shape, example = SHAPES[section.system]
    if not shape.fullmatch(number):
        raise ConfigError(f"--ticket {number}: [ticket] system = \"{section.system}\" in {where} expects {example}")
    return number
