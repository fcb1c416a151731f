"""The suite's options and session fixtures: pick the environment, start the embedded sandbox when the
environment asks for it, hand the checks a ready API client, and turn known failures into one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from smoke import evidence, launcher, settings
from smoke.api import KeyfactorClient, connect
from smoke.errors import Blocked, ConfigError, SmokeError

ROOT = Path(__file__).resolve().parent
SELF_TEST_DIRS = ("tests", "bench")
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
    sandbox = launcher.start([*raw["sandbox"].get("faults", []), *faults])
    config.stash[SANDBOX] = sandbox
    os.environ.update(sandbox.ready["environ"])
    for secret in sandbox.ready["environ"].values():
        evidence.register_secret(secret)
    return settings.load(env, settings.read_toml(sandbox.env_file))


def pytest_unconfigure(config: pytest.Config) -> None:
    sandbox = config.stash.get(SANDBOX, None)
    if sandbox:
        sandbox.stop()


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


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def smoke_settings(pytestconfig: pytest.Config) -> settings.Settings:
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def api_client(smoke_settings: settings.Settings) -> KeyfactorClient:
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


# --- one line per known failure ------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    try:
        return (yield)
    except Blocked as exc:
        pytest.skip(str(exc))
    except SmokeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):  # type: ignore[no-untyped-def]
    if item.get_closest_marker("writes") and item.config.getoption("--read-only"):
        pytest.skip("--read-only: this check writes to the server")
    return (yield)


def pytest_exception_interact(node: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    if isinstance(call.excinfo.value if call.excinfo else None, SmokeError) and report.failed:
        report.longrepr = str(call.excinfo.value)  # type: ignore[union-attr]
