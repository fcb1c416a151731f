"""The README and the documented environment stay true to the code: the two commands a newcomer runs first, every
fault of the registry, every key an environment file accepts."""

from __future__ import annotations

import re

from pydantic import BaseModel

from sandbox.faults import REGISTRY
from smoke.ground import settings
from smoke.run import environment
from tests.suite_runs import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_starts_with_the_two_commands_of_a_fresh_machine():
    commands = re.findall(r"^(\./setup\.sh.*?)\s+#", README, re.M)
    assert commands[:2] == ["./setup.sh && .venv/bin/pytest --env sandbox",
                            "./setup.sh --dev && .venv/bin/pytest tests"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./setup.sh --dev" in ci and ".venv/bin/pytest tests" in ci


def test_the_readme_lists_every_sandbox_fault():
    missing = [name for name in REGISTRY if f"`{name}" not in README]
    assert not missing, f"README's fault table lacks {missing}"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    found = []
    for name, field in model.model_fields.items():
        if name in ("name", "path"):
            continue
        nested = [a for a in (field.annotation, *getattr(field.annotation, "__args__", ()))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        found += _keys(nested[0], f"{prefix}{name}.") if nested else [prefix + name]
    return found


def test_example_prod_documents_every_key_of_every_section():
    text = (settings.ENVIRONMENTS_DIR / "example-prod.toml").read_text(encoding="utf-8")
    undocumented = [key for key in _keys(environment.Settings) if not key.startswith("sandbox.")
                    and not re.search(rf"\b{re.escape(key.rsplit('.', 1)[-1])}\b", text)]
    assert not undocumented, f"example-prod.toml does not document {undocumented}"
