"""The [baseline] section of an environment file: what else to keep in a baseline, and the changes to expect."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import Field, field_validator

from smoke.ground.sections import Section


class ExpectedChange(Section):
    pattern: str  # a regular expression searched in "<area>/<item>: <field>", e.g. "^templates/.*/WebServer: "
    justification: str  # why the change is expected: the change ticket, the vendor's note
    expires: Annotated[dt.date, Field(strict=False)]  # 2026-12-31 (TOML date); after it, the change counts again

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
            raise ValueError("say why the change is expected (a change ticket, a vendor note)")
        return text


class BaselineSection(Section):
    """smoke/test_carried_over.py"""

    # IIS applications beyond /KeyfactorAPI, the portal, /KeyfactorAgents and /CMSAPI whose sign-in methods to keep.
    applications: list[str] = []
    # Files or folders (a share or mounted path, like [logs] paths) kept as a hash and, for text, their lines.
    files: list[str] = []
    expected: list[ExpectedChange] = []

    @field_validator("applications")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/") or " " in path:
                raise ValueError(f"{path!r}: expected an IIS application path such as \"/KeyfactorProxy\"")
        return ["/" + path.strip("/") for path in paths]

    @field_validator("files")
    @classmethod
    def _files(cls, paths: list[str]) -> list[str]:
        if any(not path.strip() for path in paths):
            raise ValueError("an empty path — list files or folders, e.g. ['/mnt/kf01/Keyfactor/nlog.config']")
        return paths
