"""The house rules of smoke/: the checks on top, the run beside them, the wings below, the ground floor under all.
An import that runs back up a floor, a wing reaching into another wing's modules, pytest in the library or the
sandbox imported by the suite fails here with the line that does it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SMOKE = Path(__file__).resolve().parents[1] / "smoke"
WINGS = ("keyfactor", "portal", "database", "logscan", "baseline", "ticket")
FIXTURE_MODULES = {"smoke.portal.fixtures"}  # the library's only pytest modules: fixtures, loaded by conftest.py


def _module_name(path: Path) -> str:
    parts = path.relative_to(SMOKE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names imported from it), relative imports resolved."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.append((node.lineno, module, [alias.name for alias in node.names]))
    return found


def floor(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "face"
    if parts[1] in WINGS:
        return f"wing:{parts[1]}"
    if parts[1] in ("ground", "run"):
        return parts[1]
    return "check" if parts[1].startswith("test_") else "unknown"


def _violation(module: str, imported: str, names: list[str]) -> str | None:
    top = imported.split(".")[0]
    if top == "sandbox":
        return "the suite never imports the sandbox: it reaches it only over the network"
    if top == "pytest" or top == "_pytest":
        if floor(module) in ("ground", "face") or (floor(module).startswith("wing:") and module not in FIXTURE_MODULES):
            return "the library knows nothing of pytest (only fixtures modules and the run may import it)"
        return None
    if top != "smoke":
        return None
    source, target = floor(module), floor(imported)
    if target in ("check", "face") and imported != "smoke":
        return "nothing imports a check module"
    if source == "ground" and target != "ground":
        return "the ground floor imports only the ground floor"
    if source.startswith("wing:") and target == "run":
        return "a wing never imports the run (the plugin, the report)"
    if source == "check" and target == "run":
        return "a check asks the wings, not the run"
    if source.startswith("wing:") and target.startswith("wing:") and source != target:
        wing = imported.split(".")[1]
        face = imported == f"smoke.{wing}"
        submodules = [n for n in names if (SMOKE / wing / f"{n}.py").exists() or (SMOKE / wing / n).is_dir()]
        if not face or submodules:
            return f"a wing uses another wing only through its package face (from smoke.{wing} import …)"
    if target == "unknown" or source == "unknown":
        return "every module lives on a floor: smoke/test_*.py, smoke/run/, smoke/<wing>/ or smoke/ground/"
    return None


def test_no_module_imports_from_a_higher_floor_or_another_wings_internals():
    problems = []
    for path in sorted(SMOKE.rglob("*.py")):
        module = _module_name(path)
        for line, imported, names in _imports(path):
            why = _violation(module, imported, names)
            if why:
                problems.append(f"{path.relative_to(SMOKE.parent)}:{line} imports {imported}: {why}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module, imported, names", [
    ("smoke.ground.settings", "smoke.keyfactor.formats", ["time_zone"]),
    ("smoke.portal.browser", "smoke.keyfactor.client", ["KeyfactorClient"]),
    ("smoke.portal.browser", "smoke.keyfactor", ["client"]),
    ("smoke.keyfactor.client", "smoke.run.plugin", ["SETTINGS"]),
    ("smoke.test_api", "smoke.run.report", ["RunReport"]),
    ("smoke.keyfactor.client", "pytest", []),
    ("smoke.run.launcher", "sandbox.app", ["Sandbox"]),
    ("smoke.logscan.scan", "smoke.test_logs", ["logs"]),
])
def test_the_rule_catches_each_kind_of_wrong_import(module, imported, names):
    assert _violation(module, imported, names)


def test_the_top_of_smoke_is_the_checklist_and_a_handful_of_wings():
    files = sorted(p.name for p in SMOKE.glob("*.py"))
    assert files == ["__init__.py", *sorted(p.name for p in SMOKE.glob("test_*.py"))]
    wings = sorted(p.name for p in SMOKE.iterdir() if (p / "__init__.py").exists())
    assert wings == sorted([*WINGS, "ground", "run"])


@pytest.mark.parametrize("wing", [*WINGS, "ground", "run"])
def test_each_wing_says_in_its_first_line_what_it_knows(wing):
    doc = ast.get_docstring(ast.parse((SMOKE / wing / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc.splitlines()[0]) > 20, f"smoke/{wing}/__init__.py: a first line saying what it knows"
