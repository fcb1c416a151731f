"""The ticket system's credentials, read from the environment variables [ticket] names and registered for
redaction the moment they are read: they never reach reports/ or the console."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from smoke.ground import evidence
from smoke.ground.errors import ConfigError
from smoke.ticket.section import TicketSection

_WHAT = {"password_env": "password", "token_env": "API token or personal access token",
         "client_secret_env": "OAuth client secret"}


@dataclass(frozen=True)
class Credentials:
    secret: str  # the password, the API token (Jira Cloud) or the personal access token (Jira Data Center)
    client_secret: str | None = None  # ServiceNow OAuth

    @classmethod
    def read(cls, section: TicketSection, where: Path) -> Credentials:
        """One line naming the variable (never a value) when one is not set or empty."""
        keys = [section.secret_key] + (["client_secret_env"] if section.auth == "oauth" else [])
        values = {}
        for key in keys:
            variable = getattr(section, key)
            value = os.environ.get(variable)
            if value is None or not value.strip():
                state = "is not set" if value is None else "is set but empty"
                raise ConfigError(f"ticket: environment variable {variable} {state} — set it to the {_WHAT[key]} "
                                  f"of {section.account} ([ticket] {key} in {where}; it is never read from a file)")
            values[key] = value
        found = cls(values[section.secret_key], values.get("client_secret_env"))
        found.register(section)
        return found

    @classmethod
    def register_present(cls, section: TicketSection) -> None:
        """Masks the secrets whose variables are set, even when this run does not attach."""
        for key in ("password_env", "token_env", "client_secret_env"):
            variable = getattr(section, key)
            evidence.register_secret(os.environ.get(variable) if variable else None)

    def register(self, section: TicketSection) -> None:
        evidence.register_secret(self.secret)
        evidence.register_secret(self.client_secret)
        if section.username:  # what a Basic header carries, should it appear outside a header
            evidence.register_secret(base64.b64encode(f"{section.username}:{self.secret}".encode()).decode())
