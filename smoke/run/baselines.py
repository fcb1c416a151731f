"""`--baseline` and `--baseline-file`: before the upgrade, save the configuration as a baseline (a read-only run
that is also the pre-upgrade readiness verdict); after it, the carried-over checks compare the server with the
newest baseline of the environment. Every run also lists what a person must check by hand ("For a person")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from smoke.baseline import document, files
from smoke.baseline.compare import AreaComparison, compare_area
from smoke.baseline.document import Area, Baseline
from smoke.baseline.errors import BaselineError
from smoke.baseline.expected import Expectation
from smoke.baseline.render import failure_line, html_table
from smoke.ground import evidence
from smoke.ground.prerequisites import Prerequisite
from smoke.keyfactor import by_hand, configuration, site
from smoke.keyfactor.client import KeyfactorClient, connect
from smoke.run.plugin import SETTINGS, environment_reports
from smoke.run.report import suite_version

BASELINES = pytest.StashKey["Baselines"]()
AREA = "Carried over"

# Areas read outside the API: the site as a visitor sees it, and the files of [baseline] files.
SIGN_IN, TLS, FILES = "sign_in", "tls", "files"
TITLES = {
    **{area.key: area.title for area in configuration.AREAS},
    SIGN_IN: "every IIS application offers the same sign-in methods",
    TLS: "the site presents the same TLS certificate",
    FILES: "every baseline file is unchanged",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("keyfactor-smoke", "Keyfactor Command smoke tests")
    group.addoption("--baseline", action="store_true",
                    help="before the upgrade: save the configuration as a baseline under reports/<env>/baselines/ "
                         "(implies --read-only) and run the read-only checks")
    group.addoption("--baseline-file", metavar="PATH",
                    help="compare with this baseline instead of the environment's newest")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    found = config.stash.get(SETTINGS, None)
    if found is None:
        return
    taking, given = config.getoption("--baseline"), config.getoption("--baseline-file")
    if taking and given:
        raise pytest.UsageError("--baseline takes a new baseline and --baseline-file names one to compare with — "
                                "pass one of them")
    if taking:
        config.option.read_only = True
    folder = environment_reports(config, claim=False)[0] / "baselines"
    baselines = Baselines(found, folder, taking)
    if given is not None:
        try:
            baselines.use(Path(given))
        except BaselineError as exc:
            raise pytest.UsageError(f"--baseline-file: {exc}") from None
    config.stash[BASELINES] = baselines
    for line in by_hand.ALWAYS:
        evidence.note_for_a_person(line)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    baselines = config.stash.get(BASELINES, None)
    if not baselines or not baselines.taking:
        return
    comparisons = [item for item in items if item.get_closest_marker("carried_over")]
    if comparisons:
        config.hook.pytest_deselected(items=comparisons)
        items[:] = [item for item in items if item not in comparisons]
    name = "test_the_configuration_baseline_is_saved"
    taking = BaselineCheck.from_parent(session, name=name, path=Path(__file__),
                                       nodeid=f"smoke/run/baselines.py::{name}")
    for label_type, value in (("parentSuite", "Keyfactor Command"), ("suite", AREA), ("feature", AREA)):
        taking.add_marker(pytest.mark.allure_label(value, label_type=label_type))
    taking.add_marker(pytest.mark.carried_over)
    items.append(taking)


@pytest.fixture(scope="session")
def carried_over(pytestconfig: pytest.Config) -> Iterator[Baselines]:
    baselines = pytestconfig.stash.get(BASELINES, None)
    if baselines is None:
        pytest.skip("no environment loaded")
    yield baselines


@pytest.fixture(scope="session")
def before_the_upgrade(pytestconfig: pytest.Config) -> bool:
    """A --baseline run is the one before the upgrade: the server still runs the version the upgrade replaces."""
    return bool(pytestconfig.getoption("--baseline", default=False))


def server_of(url: str) -> str:
    """The server a baseline belongs to, as a person names it: scheme and host. The port is left out: it does not
    make another server (the embedded sandbox takes another when its own is busy)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}"


class BaselineCheck(pytest.Item):
    """With --baseline: the configuration is read, every area, and saved as the environment's newest baseline."""

    def runtest(self) -> None:
        baselines: Baselines = self.config.stash[BASELINES]
        path = baselines.take()
        evidence.note_fact("Baseline saved", str(path))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


class Baselines:
    """The environment's baselines: the one to compare with, the configuration read now (each area once)."""

    def __init__(self, settings: Any, folder: Path, taking: bool) -> None:
        self.settings = settings
        self.folder = folder
        self.taking = taking
        self.path: Path | None = None
        self._before: Baseline | None = None
        self._now: dict[str, dict[str, dict[str, Any]]] = {}
        self._client: KeyfactorClient | None = None
        self.reading = Prerequisite("reading the configuration")
        self.changed: dict[str, str] = {}

    # --- the baseline to compare with ---------------------------------------------------------------
    def use(self, path: Path) -> None:
        found = document.load(path)
        self._check_same_server(found, path)
        self.path, self._before = path, found

    def before(self) -> Baseline:
        if self._before is None:
            newest = document.newest(self.folder, self.settings.name)
            if newest is None:
                pytest.skip(f"no baseline of {self.settings.name} in {self.folder} — take one before the upgrade: "
                            f"pytest --env {self.settings.name} --baseline")
            self.use(newest)
            meta = document.meta_of(newest)
            evidence.note_fact("Baseline", f"{newest.name} (taken {meta.get('taken', '?')}, "
                                           f"Command {meta.get('command_version', '?')})")
        assert self._before is not None
        return self._before

    def _check_same_server(self, found: Baseline, path: Path) -> None:
        here = (self.settings.name, server_of(self.settings.command.url))
        if (found.environment, found.server) != here:
            raise BaselineError(f"{path.name} is a baseline of {found.environment} ({found.server}), this run is "
                                f"{here[0]} ({here[1]}) — name a baseline of {here[0]}, or compare the two offline: "
                                "python -m smoke.baseline diff A.json B.json")

    # --- the configuration now -------------------------------------------------------------------------
    def now(self, key: str) -> dict[str, dict[str, Any]]:
        if key not in self._now:
            with self.reading.attempt():
                self._now[key] = self._read(key)
        return self._now[key]

    def _read(self, key: str) -> dict[str, dict[str, Any]]:
        command = self.settings.command
        bundle = str(command.ca_bundle) if command.ca_bundle else None
        if key == SIGN_IN:
            return {path: {"SignInMethods": site.sign_in_methods(command.url + path + probe, bundle or True,
                                                                  command.timeout_s)}
                    for path, probe in site.applications(self.settings).items()}
        if key == TLS:
            host = urlsplit(command.url).hostname or ""
            return {host: site.site_certificate(command.url, bundle, command.timeout_s)}
        if key == FILES:
            return files.snapshot(self.settings.baseline.files if self.settings.baseline else [])
        area = configuration.AREA_BY_KEY[key]
        items = dict(next(configuration.read(self.client(), (area,)))[1])
        if key == "workflows":
            rest = configuration.rest_steps(items)
            if rest:
                evidence.note_for_a_person(by_hand.BLOCKED_OUTBOUND.format(steps=", ".join(rest)))
        return items

    def client(self) -> KeyfactorClient:
        if self._client is None:
            self._client = connect(self.settings)
        return self._client

    # --- taking and comparing ---------------------------------------------------------------------------
    def take(self) -> Path:
        areas = {}
        for key in TITLES:
            source = configuration.AREA_BY_KEY[key].source_text if key in configuration.AREA_BY_KEY else key
            areas[key] = Area(source, self.now(key))
        taken = self.document(areas)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        licence = self._now.get("server", {}).get("licence", {})
        meta = {"taken": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "command_version": str(licence.get("KeyfactorVersion", "?")), "suite_version": suite_version(),
                "environment_file": str(self.settings.path)}
        path = taken.save(self.folder, stamp, meta)
        evidence.attach_text("Baseline: items per area", "\n".join(
            f"{key}: {len(area.items)} items ({area.source})" for key, area in areas.items()))
        return path

    def document(self, areas: dict[str, Area]) -> Baseline:
        """A baseline of this environment's server holding `areas`."""
        return Baseline(self.settings.name, server_of(self.settings.command.url), areas)

    def compare(self, key: str) -> AreaComparison:
        before = self.before()
        if key not in before.areas:
            pytest.skip(f"the baseline {self.path.name if self.path else ''} has no {key} area — take a new one")
        found = compare_area(key, before.areas[key].items, self.now(key), self.expectations())
        evidence.attach_html(f"{TITLES[key][:1].upper()}{TITLES[key][1:]}: before and after",
                             html_table(found, TITLES[key]))
        if found.changes:
            self.changed[key] = found.summary()
            evidence.note_fact("Carried over, changed areas", "; ".join(self.changed.values()))
        return found

    def failure(self, found: AreaComparison) -> str:
        return failure_line(found, TITLES[found.area])

    def expectations(self) -> list[Expectation]:
        today = dt.date.today()
        vendor = [Expectation(pattern, why, kinds=kinds, before=before, source="the vendor's 10.x notes")
                  for pattern, why, kinds, before in configuration.VENDOR_EXPECTED]
        mine = [Expectation(e.pattern, e.justification, e.expires)
                for e in (self.settings.baseline.expected if self.settings.baseline else [])]
        expired = [e for e in mine if e.expired(today)]
        if expired:
            evidence.note_fact("Expired baseline expectations (counted again)",
                               "; ".join(e.describe() for e in expired))
        return [e for e in vendor + mine if not e.expired(today)]
