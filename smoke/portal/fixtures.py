"""Session fixtures for the browser checks (portal, dashboard, reports): one browser for the whole run, started
by the first check that needs it and closed at the end. Loaded from conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smoke.ground import evidence
from smoke.portal import browser
from smoke.portal.pages import Portal, pages_for


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("keyfactor-smoke", "Keyfactor Command smoke tests").addoption(
        "--headed", action="store_true", help="show the browser window (default: [portal] headless)")


@pytest.fixture(scope="session")
def portal(smoke_settings: Any, pytestconfig: pytest.Config) -> Iterator[Portal]:
    """The Management Portal in one shared browser; skips when the environment has no [portal] section."""
    if smoke_settings.portal is None:
        pytest.skip(smoke_settings.not_configured("portal"))
    session = browser.connect(smoke_settings, headed=bool(pytestconfig.getoption("--headed")))
    yield Portal(session, pages_for(smoke_settings))
    if session.description:
        evidence.note_fact("Browser", session.description)
    session.close()
