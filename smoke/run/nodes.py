"""The nodes behind the load balancer ([command] nodes) for the run: the report's environment names them from the
start (and says so when the load-balanced name itself is listed), the per-node checks share one Fleet, and each
node's portal opens in a browser of its own. Loaded with the plugin (smoke/run/plugin.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from smoke.ground import evidence
from smoke.ground.errors import SmokeError
from smoke.keyfactor.fleet import Answer, Fleet, Node
from smoke.keyfactor.nodes import site_listed
from smoke.portal.nodes import NodeHome, home_pages
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
def node_home_pages(smoke_settings: Any, pytestconfig: pytest.Config
                    ) -> Callable[[list[Node]], list[Answer[NodeHome]]]:
    """Opens the portal's home page on each node, each in a browser of its own; skips without a [portal] section."""
    if smoke_settings.portal is None:
        pytest.skip(smoke_settings.not_configured("portal"))
    headed = bool(pytestconfig.getoption("--headed"))

    def visit(nodes: list[Node]) -> list[Answer[NodeHome]]:
        found = home_pages(smoke_settings, [node.given for node in nodes], headed)
        return [Answer(node, error=home) if isinstance(home, SmokeError) else Answer(node, home)
                for node, home in zip(nodes, found.values(), strict=True)]

    return visit
