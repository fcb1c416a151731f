"""The suite's pytest plugin: the options, choosing the environment, starting the embedded sandbox when the
environment asks for it, the report's environment table, and one line per known failure.

Loaded through the `pytest11` entry point, so that `--env path/to/file.toml` is understood before pytest
picks its root folder (a conftest.py is read too late for that).
"""


from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import evidence, launcher, rootdir, settings
from .errors import Blocked, ConfigError, SmokeError

ROOT = Path(__file__).resolve().parent.parent
SELF_TEST_DIRS = ("tests", "bench")
CHECKS = ROOT / "smoke"
SETTINGS = pytest.StashKey[settings.Settings]()
SANDBOX = pytest.StashKey[launcher.EmbeddedSandbox]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("keyfactor-smoke", "Keyfactor Command smoke tests")
    group.addoption("--env", metavar="NAME|FILE",
                    help="environment: environments/NAME.toml, or a path to an environment file")
    group.addoption("--sandbox-fault", action="append", default=[], metavar="NAME[=VALUE]",
                    help="with --env sandbox: reproduce a documented failure (repeatable; python -m sandbox "
                         "--list-faults lists them)")
    group.addoption("--read-only", action="store_true", help="skip every check that writes to the server")


def _runs_checks(config: pytest.Config) -> bool:
    """True unless every path asked for is one of the suite's own test folders."""
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if not any(path.is_relative_to(ROOT / d) for d in SELF_TEST_DIRS):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--help") or not _runs_checks(config):
        return
    if config.getoption("--env") and rootdir.misplaced(config.rootpath, config.invocation_params.args):
        rootdir.rerun_from_project_root(config.invocation_params.args)
    env = config.getoption("--env")
    if not env:
        found = ", ".join(settings.available()) or "none"
        raise pytest.UsageError(f"no environment chosen: pass --env NAME (found: {found}) or --env path/to/file.toml")
    if not getattr(config.option, "allure_report_dir", None):
        config.option.allure_report_dir = str(ROOT / "reports" / "allure-results")
        config.option.clean_alluredir = True
    try:
        config.stash[SETTINGS] = _load(config, env)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def _load(config: pytest.Config, env: str) -> settings.Settings:
    name, path = settings.resolve(env)
    raw = settings.read_toml(path)
    faults = config.getoption("--sandbox-fault")
    if "sandbox" not in raw:
        if faults:
            raise ConfigError(f"--sandbox-fault needs the embedded sandbox, but {path} has no [sandbox] section "
                              "— use --env sandbox")
        return settings.load(env)
    if config.option.collectonly:
        return settings.load(env, {"command": {"url": "https://localhost"}})
    sandbox = launcher.start([*raw["sandbox"].get("faults", []), *faults], agents=raw["sandbox"].get("agents"))
    config.stash[SANDBOX] = sandbox
    os.environ.update(sandbox.ready["environ"])
    for secret in sandbox.ready["environ"].values():
        evidence.register_secret(secret)
    return settings.load(env, settings.read_toml(sandbox.env_file))


def pytest_unconfigure(config: pytest.Config) -> None:
    sandbox = config.stash.get(SANDBOX, None)
    if sandbox:
        sandbox.stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    found = config.stash.get(SETTINGS, None)
    results = getattr(config.option, "allure_report_dir", None)
    if not found or not results:
        return
    values = {"Environment": found.name, "Server": found.command.url, "Authentication method": found.auth.method}
    sandbox = config.stash.get(SANDBOX, None)
    if sandbox:
        values["Sandbox faults"] = ", ".join(sandbox.ready["faults"]) or "none"
        values.update({f"Sandbox note {i + 1}": note for i, note in enumerate(sandbox.ready["notes"])})
    evidence.write_environment(results, values)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, value in evidence.facts.items():
        terminalreporter.write_line(f"{name}: {value}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    found = config.stash.get(SETTINGS, None)
    if not found:
        return []
    lines = [f"environment: {found.name} ({found.path}) → {found.api_url} [{found.auth.method}]"]
    sandbox = config.stash.get(SANDBOX, None)
    if sandbox:
        faults = ", ".join(sandbox.ready["faults"]) or "none"
        lines.append(f"embedded sandbox: faults {faults}")
        lines += [f"sandbox note: {note}" for note in sandbox.ready["notes"]]
    return lines


# --- one line per known failure ------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    try:
        return (yield)
    except Blocked as exc:
        pytest.skip(str(exc))
    except SmokeError as exc:
        pytest.fail(str(exc), pytrace=False)
    except AssertionError as exc:
        if not item.path.is_relative_to(CHECKS):
            raise
        # A check's assertion message is the one line for the ticket; pytest's introspection is for developers.
        pytest.fail(str(exc).split("\nassert ")[0].strip() or "check failed", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):  # type: ignore[no-untyped-def]
    if item.get_closest_marker("writes") and item.config.getoption("--read-only"):
        pytest.skip("--read-only: this check writes to the server")
    return (yield)


def pytest_exception_interact(node: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    if isinstance(call.excinfo.value if call.excinfo else None, SmokeError) and report.failed:
        report.longrepr = str(call.excinfo.value)  # type: ignore[union-attr]
