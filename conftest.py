"""Session fixtures for the checks: the environment's settings and one API client for the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from smoke.ground import evidence
from smoke.keyfactor.client import KeyfactorClient, connect
from smoke.run import environment
from smoke.run.plugin import SETTINGS


@pytest.fixture(scope="session")
def smoke_settings(pytestconfig: pytest.Config) -> environment.Settings:
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def api_client(smoke_settings: environment.Settings) -> KeyfactorClient:
    """One client for the run. Its first call does the Kerberos pre-check; once the server or the credentials
    fail, later calls are skipped with that root cause instead of repeating it."""
    return connect(smoke_settings)


@pytest.fixture
def api(api_client: KeyfactorClient) -> Iterator[KeyfactorClient]:
    client = api_client
    yield client
    for exchange in client.exchanges:
        evidence.attach_text(f"{exchange.method} {exchange.url} → {exchange.status}", exchange.as_text())
    client.exchanges.clear()


# The browser checks' fixtures (smoke/portal/fixtures.py); the baselines and the nodes come with the plugin
# (smoke/run/plugin.py).
pytest_plugins = ["smoke.portal.fixtures"]
