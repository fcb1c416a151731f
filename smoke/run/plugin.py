"""The suite's pytest plugin: the options, choosing the environment, starting the embedded sandbox when the
environment asks for it, waiting for a rebooted server, one line per known failure, skipping what depends on a
server that failed, and the run's report (smoke/report.py) with its summary and final counts line.

Loaded through the `pytest11` entry point, so that `--env path/to/file.toml` is understood before pytest
picks its root folder (a conftest.py is read too late for that).
"""


from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from smoke.ground import evidence, interrupts, settings
from smoke.ground.errors import ApiUnreachable, Blocked, ConfigError, SmokeError
from smoke.run import attach, environment, launcher, options, portal_map, readiness, rootdir
from smoke.run.report import Outcome, RunFiles, RunReport, environment_folder

ROOT = Path(__file__).resolve().parents[2]
SELF_TEST_DIRS = ("tests", "bench")
CHECKS = ROOT / "smoke"
SETTINGS = pytest.StashKey[environment.Settings]()
OPTIONS = pytest.StashKey[options.Options]()
ENV_REPORTS = pytest.StashKey[tuple[Path, str | None]]()
# Loaded with this plugin rather than from conftest.py: pytest reads conftest.py only after the command line when
# that names a path outside the project (--baseline-file /elsewhere/A.json), and --baseline-file must be known.
pytest_plugins = ["smoke.run.baselines", "smoke.run.nodes"]
SANDBOX = pytest.StashKey[launcher.EmbeddedSandbox]()
REPORT = pytest.StashKey[RunReport]()
SERVER_DOWN = pytest.StashKey[SmokeError]()
ATTACH = pytest.StashKey[attach.Plan | None]()
# Checks that reach the Keyfactor server's URL (the IIS site): skipped once it did not answer at all.
SERVER_MARKERS = {"api", "enrollment", "portal", "dashboard", "reports", "orchestrators", "config", "carried_over",
                  "operations"}
# [sandbox] keys handed to `python -m sandbox` as options of the same name.
SANDBOX_OPTIONS = ("uo_platform", "total_count", "configuration", "nodes")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("keyfactor-smoke", "Keyfactor Command smoke tests")
    group.addoption("--env", metavar="NAME|FILE",
                    help="environment: environments/NAME.toml, or a path to an environment file")
    group.addoption("--sandbox-fault", action="append", default=[], metavar="NAME[=VALUE]",
                    help="with --env sandbox: reproduce a documented failure (repeatable; python -m sandbox "
                         "--list-faults lists them)")
    group.addoption("--sandbox-portal", metavar="LAYOUT",
                    help="with --env sandbox: serve the portal's pages under other routes and markup (other, "
                         "other-nonav: python -m sandbox --help)")
    group.addoption("--sandbox-version", metavar="X.Y.Z",
                    help="with --env sandbox: the Command version the sandbox reports, e.g. 10.1.4 to play the "
                         "server before the upgrade (with --baseline)")
    group.addoption("--sandbox-nodes", type=int, metavar="N",
                    help="with --env sandbox: N web servers behind its name, on 127.0.0.1 … 127.0.0.N (the "
                         "environment lists them as [command] nodes)")
    group.addoption("--read-only", action="store_true", help="skip every check that writes to the server")
    group.addoption("--ticket", metavar="CHG…", help="the change ticket: in the report's file name, its executor "
                                                      "and the summary")
    group.addoption("--attach", action="store_true", help="after the report, attach it to --ticket's change ticket "
                                                         "([ticket] in the environment file)")
    group.addoption("--wait-ready", metavar="DURATION", help="first wait up to DURATION (90s, 10m) for the API and "
                                                             "the portal to answer, e.g. after a reboot")
    group.addoption(portal_map.OPTION, action="store_true", help=portal_map.HELP)
    group.addoption("--report-dir", metavar="DIR", default=str(ROOT / "reports"),
                    help="where reports/<env>/ goes (default: the suite's reports/ folder)")
    group.addoption("--keep-reports", metavar="N", default="50",
                    help="keep the newest N runs' reports per environment, 0 for all (default 50; the trend in "
                         "history.jsonl is kept whole)")


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
    if not env or not env.strip():
        found = ", ".join(settings.available()) or "none"
        raise pytest.UsageError(f"no environment chosen: pass --env NAME (found: {found}) or --env path/to/file.toml")
    try:
        config.stash[OPTIONS] = chosen = options.read(config.getoption)
        attach.check_asked(config.getoption("--attach"), chosen.ticket)
        config.stash[SETTINGS] = loaded = _load(config, env)
        config.stash[ATTACH] = attach.plan(loaded, chosen.ticket, config.getoption("--attach"))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not config.option.collectonly and not config.getoption(portal_map.OPTION):
        config.stash[REPORT] = run = _plan_report(config, loaded, chosen)
        config.pluginmanager.register(_Recorder(run), "keyfactor-smoke-recorder")
        interrupts.install()  # SIGTERM, a closed terminal, Ctrl-Break stop the run as Ctrl-C does


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """--portal-map: the environment (and the embedded sandbox) without a test session, as pytest's own --markers."""
    if not config.getoption(portal_map.OPTION) or config.getoption("--help"):
        return None
    config._do_configure()
    found = config.stash.get(SETTINGS, None)
    if found is None:
        raise pytest.UsageError(f"{portal_map.OPTION} needs an environment: pytest --env NAME {portal_map.OPTION}")
    return portal_map.run(found, headed=bool(config.getoption("--headed", False)))


def _plan_report(config: pytest.Config, found: environment.Settings, chosen: options.Options) -> RunReport:
    """reports/<env>/<run>/ for the raw results and the JUnit XML; an explicit --alluredir keeps only raw results
    there (for a CI that renders Allure itself) and leaves reports/ alone."""
    started = dt.datetime.now().astimezone()
    given = getattr(config.option, "allure_report_dir", None)
    where, note = (None, None) if given else environment_reports(config)
    try:
        files = RunFiles.plan(where, started, chosen.ticket) if where else None
    except OSError as exc:
        raise pytest.UsageError(f"cannot write the report under {where} ({exc.strerror or exc}) — check its "
                                "permissions, or pass --report-dir DIR") from None
    if files:
        config.option.allure_report_dir = str(files.results)
        if not config.option.xmlpath:
            config.option.xmlpath = str(files.junit)
    run = RunReport(Path(config.option.allure_report_dir), files, found.name, chosen.ticket, started,
                    keep=chosen.keep_reports)
    run.notes += [note] if note else []
    run.junit = Path(config.option.xmlpath) if config.option.xmlpath else None
    return run


def environment_reports(config: pytest.Config, claim: bool = True) -> tuple[Path, str | None]:
    """reports/<env>/ of the environment file in use, and the note when another file of the same name has it.
    `claim=False` (a run that writes no report) creates nothing."""
    if ENV_REPORTS in config.stash:
        return config.stash[ENV_REPORTS]
    found, where = config.stash[SETTINGS], config.stash[OPTIONS].report_dir
    try:
        folder = environment_folder(where, found.name, found.path, claim)
    except OSError as exc:
        raise pytest.UsageError(f"cannot write the report under {where / found.name} ({exc.strerror or exc}) — "
                                "check its permissions, or pass --report-dir DIR") from None
    if claim:
        config.stash[ENV_REPORTS] = folder
    return folder


def _load(config: pytest.Config, env: str) -> environment.Settings:
    name, path = settings.resolve(env)
    raw = settings.read_toml(path)
    faults = config.getoption("--sandbox-fault")
    layout = config.getoption("--sandbox-portal")
    version = config.getoption("--sandbox-version")
    nodes = config.getoption("--sandbox-nodes")
    if "sandbox" not in raw:
        for given, option in ((faults, "--sandbox-fault"), (layout, "--sandbox-portal"),
                              (version, "--sandbox-version"), (nodes, "--sandbox-nodes")):
            if given:
                raise ConfigError(f"{option} needs the embedded sandbox, but {path} has no [sandbox] section "
                                  "— use --env sandbox")
        return environment.load(env)
    if config.option.collectonly:
        return environment.load(env, {"command": {"url": "https://localhost"}})
    # The sandbox writes this file's sections, with the run's values over them, into its run file.
    section = raw["sandbox"]
    options = {key: section[key] for key in SANDBOX_OPTIONS if key in section}
    if layout:
        options["portal"] = layout
    if version:
        options["version"] = version
    if nodes is not None:
        options["nodes"] = nodes
    if not config.getoption(portal_map.OPTION):  # a map is not a run: it writes nothing under reports/
        # What the server keeps from one start to the next, beside the environment's reports and baselines.
        options["home"] = launcher.home_for(Path(config.getoption("--report-dir")), name).resolve()
    sandbox = launcher.start([*section.get("faults", []), *faults], agents=section.get("agents"), environment=path,
                             options=options)
    config.stash[SANDBOX] = sandbox
    os.environ.update(sandbox.ready["environ"])
    for secret in sandbox.ready["environ"].values():
        evidence.register_secret(secret)
    return environment.load(env, settings.read_toml(sandbox.env_file))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if REPORT in session.config.stash:
        interrupts.finishing()  # the cleanups and the summary: a signal from now on is said, not raised
    sandbox, plan = session.config.stash.get(SANDBOX, None), session.config.stash.get(ATTACH, None)
    if sandbox and not (plan and plan.attaching):  # nothing reaches it after the checks: it stops during the report
        sandbox.begin_stop()


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(REPORT, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if run and reporter:
        reporter.write_line(run.counts_line())  # the run's last line, with every count even when zero
    sandbox = config.stash.get(SANDBOX, None)
    if sandbox:
        sandbox.stop()
    if run:
        interrupts.uninstall()


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


# --- the report ------------------------------------------------------------------------------------------

class _Recorder:
    """Feeds every check's outcome, as one redacted line, to the run's report."""

    def __init__(self, run: RunReport) -> None:
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.passed and report.when != "call":
            return
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.run.add(report.nodeid, "skipped", reason.removeprefix("Skipped: "))
        else:
            self.run.add(report.nodeid, "failed" if report.failed else "passed", _one_line(report))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    config = terminalreporter.config
    run, found = config.stash.get(REPORT, None), config.stash.get(SETTINGS, None)
    if not run or not found:
        return
    run.interrupted = exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
    run.stopped_by = interrupts.stopped_by()
    if not run.outcomes and not run.interrupted:
        run.discard()
        return
    values = {"Environment": found.name, "Server": found.command.url, "Authentication method": found.auth.method}
    sandbox = config.stash.get(SANDBOX, None)
    if sandbox:
        values["Sandbox faults"] = ", ".join(sandbox.ready["faults"]) or "none"
        values.update({f"Sandbox note {i + 1}": note for i, note in enumerate(sandbox.ready["notes"])})
    if SERVER_DOWN in config.stash and config.stash[OPTIONS].wait_s is None:
        run.hints.append("the server did not answer: if it is still starting after a reboot, rerun with "
                         "--wait-ready 10m")
    terminalreporter.write_sep("=", "summary for the change ticket")
    try:
        summary = run.finish(values)
    except OSError as exc:  # the verdict stands; the report is what could not be written
        summary = f"report not written: {exc.strerror} ({exc.filename}) — check the space and permissions there"
    for line in summary.rstrip().splitlines():
        terminalreporter.write_line(line)
    for line in attach.after_run(config.stash.get(ATTACH, None), run):
        terminalreporter.write_line(line)


def _one_line(report: pytest.TestReport) -> str:
    if report.passed:
        return ""
    text = report.longreprtext.strip()
    lines = [line for line in text.splitlines() if line.startswith("E ")]
    return (lines[-1][1:].strip() if lines else text.splitlines()[-1] if text else "failed").removeprefix("Failed: ")


# --- waiting for the server after a reboot ------------------------------------------------------------------

class ReadinessCheck(pytest.Item):
    """The first check with --wait-ready: the API and the portal answer within the time given."""

    def runtest(self) -> None:
        found = self.config.stash[SETTINGS]
        asked, within_s = self.config.getoption("--wait-ready"), self.config.stash[OPTIONS].wait_s
        urls = [found.api_url + "/Status/Endpoints", found.portal_url + "/"]
        bundle = str(found.command.ca_bundle) if found.command.ca_bundle else None
        assert within_s is not None
        waited = readiness.wait_until_ready(urls, within_s, asked, bundle, found.command.timeout_s)
        evidence.note_fact("Waited for the server", waited.describe(asked))
        evidence.attach_text("Readiness", "\n".join(f"{url}: {how}" for url, how in waited.answers.items()))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if OPTIONS in config.stash and config.stash[OPTIONS].wait_s is not None and SETTINGS in config.stash and items:
        name = "test_the_api_and_the_portal_answer_within_the_wait"
        path = Path(readiness.__file__)
        check = ReadinessCheck.from_parent(session, name=name, path=path, nodeid=f"smoke/run/readiness.py::{name}")
        items.insert(0, check)
    for item in items:
        _label_area(item)


def _label_area(item: pytest.Item) -> None:
    """The report reads like the checklist: each check under its area ("Portal", "Certificate issuance"), not under
    its module's name. The area is the check module's AREA."""
    if not item.path.is_relative_to(CHECKS):
        return
    module = getattr(item, "module", None)
    area = getattr(module, "AREA", None) or ("Readiness" if isinstance(item, ReadinessCheck) else None)
    if area:
        for label_type, value in (("parentSuite", "Keyfactor Command"), ("suite", area), ("feature", area)):
            item.add_marker(pytest.mark.allure_label(value, label_type=label_type))


# --- one line per known failure, and fail fast ----------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    if item.path.is_relative_to(CHECKS):
        sentence = Outcome(item.nodeid, "").sentence
        evidence.title(sentence[:1].upper() + sentence[1:])
    # Skip and fail are raised after the except blocks: raised inside them, pytest would print the original
    # exception too ("During handling of the above exception…"), and the one line would become a page.
    try:
        return (yield)
    except Blocked as exc:
        skipped, failed = str(exc), None
    except SmokeError as exc:
        _note_root_cause(item, exc)
        skipped, failed = None, evidence.redact(str(exc))
    except AssertionError as exc:
        if not item.path.is_relative_to(CHECKS):
            raise
        # A check's assertion message is the one line for the ticket; pytest's introspection is for developers.
        skipped, failed = None, evidence.redact(str(exc).split("\nassert ")[0].strip() or "check failed")
    if skipped is not None:
        pytest.skip(skipped)
    pytest.fail(failed or "check failed", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):  # type: ignore[no-untyped-def]
    if item.get_closest_marker("writes") and item.config.getoption("--read-only"):
        pytest.skip("--read-only: this check writes to the server")
    down = item.config.stash.get(SERVER_DOWN, None)
    if down and {mark.name for mark in item.iter_markers()} & SERVER_MARKERS:
        cause = str(down).split(" — ")[0]  # the cause; the failed check gives the fix
        pytest.skip(f"not run: the Keyfactor server failed earlier in this run — {cause}")
    try:
        return (yield)
    except Blocked as exc:
        pytest.skip(str(exc))
    except SmokeError as exc:
        _note_root_cause(item, exc)
        raise


def _note_root_cause(item: pytest.Item, exc: SmokeError) -> None:
    if isinstance(exc, ApiUnreachable) and SERVER_DOWN not in item.config.stash:
        item.config.stash[SERVER_DOWN] = exc


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    found: pytest.TestReport = yield
    error = call.excinfo.value if call.excinfo else None
    if isinstance(error, SmokeError) and found.failed:
        found.longrepr = evidence.redact(str(error))  # one line, also where a fixture raised it
    elif found.longrepr is not None:
        found.longrepr = _redacted(found.longrepr)
    found.sections = [(title, evidence.redact(content)) for title, content in found.sections]
    return found


def _redacted(longrepr):  # type: ignore[no-untyped-def]
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        return (*longrepr[:2], evidence.redact(longrepr[2]))
    text = str(longrepr)
    cleaned = evidence.redact(text)
    return longrepr if cleaned == text else cleaned
