"""The sections every wing shares — [command] (the server) and [auth] (how the suite signs in) — and the base
every section model stands on: typed keys, unknown keys refused, frozen values. Each wing keeps its own section
beside its code (smoke/keyfactor/sections.py, smoke/portal/sections.py, …); smoke/run/environment.py puts them
together as the environment file, and smoke/ground/settings.py turns a bad value into one line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Paths are strings in TOML; everything else is taken as written (no "30" for 30).
PathValue = Annotated[Path, Field(strict=False)]


def as_seconds(value: Any) -> Any:
    """A whole number of seconds in TOML (30) is as good as 30.0; everything else is validated as written."""
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def https_only(url: str, why: str) -> str:
    """`url` without a trailing slash, or a ValueError saying why only https:// will do."""
    if not url.lower().startswith("https://"):
        raise ValueError(f"must start with https:// ({why})")
    return url.rstrip("/")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CommandSection(Section):
    url: str
    api_path: str = "/KeyfactorAPI"
    portal_path: str = "/KeyfactorPortal"
    expected_version: str | None = None
    ca_bundle: PathValue | None = None
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    # Each web server behind the load balancer, by address or its own name (smoke/test_nodes.py); checked for
    # duplicates and resolvability when the environment loads.
    nodes: list[str] = []
    node_certificates: Literal["same", "own"] = "same"  # every node presents the site's certificate, or its own
    health_path: str | None = None  # the load balancer's probe, e.g. "/KeyfactorAPI/Status/Endpoints"

    @field_validator("url")
    @classmethod
    def _https(cls, url: str) -> str:
        return https_only(url, "the suite never talks to Keyfactor in clear text")

    @field_validator("api_path", "portal_path")
    @classmethod
    def _path(cls, path: str) -> str:
        return "/" + path.strip("/")

    @field_validator("health_path")
    @classmethod
    def _probe(cls, path: str | None) -> str | None:
        if path is not None and not path.startswith("/"):
            raise ValueError('expected a path on [command] url, starting with "/" (e.g. "/health.htm")')
        return path

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return as_seconds(value)


class AuthSection(Section):
    method: Literal["kerberos", "basic"] = "kerberos"
    username: str | None = None
    password_env: str | None = None
    principal: str | None = None
    keytab: PathValue | None = None
    ccache: str | None = None
    krb5_config: PathValue | None = None
    spn: str | None = None


class Waiver(Section):
    """One known finding accepted for now: a regular expression on what the finding says, why, and until when (after
    that date the finding counts again). The section that lists them says what the pattern is searched in."""

    pattern: str
    justification: str  # why it is acceptable: a vendor case, a change ticket
    expires: Annotated[dt.date, Field(strict=False)]  # 2026-12-31 (TOML date)

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
            raise ValueError("say why it is acceptable (a vendor case, a change ticket)")
        return text
