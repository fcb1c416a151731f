"""The nodes behind the load balancer ([command] nodes) for the run: the report's environment names them from the
start (and says so when the load-balanced name itself is listed), the per-node checks share one Fleet, and each
node's portal opens in a browser of its own. Loaded from conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from smoke.ground import evidence
from smoke.keyfactor.fleet import Fleet
from smoke.keyfactor.nodes import site_listed
from smoke.portal.nodes import NodeHome, home_page
from smoke.run.plugin import SETTINGS


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    found = config.stash.get(SETTINGS, None)
    if found is None or not found.command.nodes:
        return
    evidence.note_fact("Nodes", "; ".join(f"{node}: not checked" for node in found.command.nodes))
    said = site_listed(found.command.nodes, urlsplit(found.command.url).hostname or "")
    if said:
        evidence.note_fact("Nodes note", said)


@pytest.fixture(scope="session")
def fleet(smoke_settings: Any) -> Fleet:
    """Every node of [command] nodes, with what each has shown so far; skips where no nodes are configured."""
    if not smoke_settings.command.nodes:
        pytest.skip(f"[command] nodes not configured in {smoke_settings.path}")
    return Fleet(smoke_settings)


@pytest.fixture(scope="session")
def node_home_page(smoke_settings: Any, pytestconfig: pytest.Config) -> Callable[[str], NodeHome]:
    """Opens the portal's home page on one node, in a browser of its own; skips without a [portal] section."""
    if smoke_settings.portal is None:
        pytest.skip(smoke_settings.not_configured("portal"))
    headed = bool(pytestconfig.getoption("--headed"))
    return lambda node: home_page(smoke_settings, node, headed)
