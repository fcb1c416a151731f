"""The portal wing's sections of an environment file: [portal] (the browser, page overrides) and [reports]."""

from __future__ import annotations

from difflib import get_close_matches
from typing import Annotated, Any

from pydantic import Field, field_validator

from smoke.ground.sections import Section, as_seconds
from smoke.portal.pages import KNOWN


class PortalSection(Section):
    """smoke/test_portal.py, test_dashboard.py (and the browser test_reports.py runs reports in)"""

    browser: str = "chromium"  # "chromium" (Playwright's, else a system one) | "chrome" | "msedge" | a path
    headless: bool = True
    min_search_rows: Annotated[int, Field(ge=1)] = 1
    timeout_s: Annotated[float, Field(gt=0, le=600)] | None = None  # a page load; default [command] timeout_s
    # Overrides of the page knowledge in smoke/portal/pages.py, for portal markup that differs by version.
    pages: dict[str, str] = {}
    selectors: dict[str, str] = {}
    texts: dict[str, list[str]] = {}

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return as_seconds(value)

    @field_validator("browser")
    @classmethod
    def _browser(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('expected "chromium", "chrome", "msedge" or the path of a browser executable')
        return value.strip()

    @field_validator("pages", "selectors", "texts")
    @classmethod
    def _known(cls, overrides: dict[str, Any], info: Any) -> dict[str, Any]:
        known = KNOWN[info.field_name]
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

    names: list[str] = []  # Report Manager display names; empty: the defaults in smoke/portal/pages.py
    timeout_s: Annotated[float, Field(gt=0, le=1800)] = 60.0  # one report run, Generate to rendered output

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        return as_seconds(value)
