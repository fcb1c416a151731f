"""The run's report for the change ticket: the files under reports/<env>/, the summary, the Allure rendering.

    reports/<env>/<run>.html           the single-file Allure report of one run (<run> = 20250127-093215[-CHG…])
    reports/<env>/<run>/               that run's raw material: allure-results/, junit.xml, summary.md,
                                       outcomes.json (what the next run compares with), allurerc.mjs
    reports/<env>/latest.html, latest-summary.md, latest-junit.xml    copies of the newest run's
    reports/<env>/history.jsonl        Allure's history, one line per rendered run: the report's trend

`python -m smoke.run.report reports/<env>/<run>` renders a run whose report could not be rendered at the time.
Knows nothing of pytest.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from smoke.ground import evidence, interrupts

ROOT = Path(__file__).resolve().parents[2]
ASSETS = Path(__file__).resolve().parent / "report_assets"
CATEGORIES: list[dict[str, object]] = json.loads((ASSETS / "categories.json").read_text(encoding="utf-8"))
HISTORY_LIMIT = 100
OWNER_FILE = "environment.txt"  # in reports/<env>/: the environment file whose reports these are
RENDER_TIMEOUT_S = 300
ALLURE_ENV = "KF_SMOKE_ALLURE"  # the Allure 3 command line, when not the one setup.sh installs in node_modules
GENERATE = ["generate", "allure-results", "-c", "allurerc.mjs"]  # its arguments, in the run's folder

def suite_version() -> str:
    try:
        return metadata.version("keyfactor-smoke")
    except metadata.PackageNotFoundError:
        return "unknown"


def operator() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):
        user = "unknown"
    return f"{user} on {socket.gethostname()}"


@dataclass
class Outcome:
    nodeid: str
    outcome: str  # passed | failed | skipped
    message: str = ""

    @property
    def sentence(self) -> str:
        """test_the_licence_has_not_expired → "the licence has not expired" (the line an auditor ticks)."""
        name = self.nodeid.rsplit("::", 1)[-1]
        return name.removeprefix("test_").replace("_", " ")

    @property
    def category(self) -> str | None:
        if self.outcome != "failed":
            return None
        return categorize(self.message)


def categorize(message: str) -> str:
    """The categories.json bucket of a failure's one line, as Allure files it (first match wins)."""
    for category in CATEGORIES:
        regex = category.get("messageRegex")
        if not regex or re.search(str(regex), message, re.S):
            return str(category["name"])
    return "Product defect"


def environment_folder(reports_dir: Path, env: str, env_file: Path, claim: bool = True) -> tuple[Path, str | None]:
    """reports/<env>/ belongs to one environment file, named in its environment.txt. Another file of the same name
    (in another folder) keeps its reports and history in reports/<env>-<8 hex digits of its path>/, and the note
    returned says so. `claim=False` only looks: it creates no folder."""
    owner = _owner(env_file)
    base = reports_dir.resolve() / env
    claimed = _claim(base, owner, claim)
    if os.path.normcase(claimed) == os.path.normcase(owner):
        return base, None
    own = base.with_name(f"{env}-{hashlib.sha256(os.path.normcase(owner).encode()).hexdigest()[:8]}")
    _claim(own, owner, claim)
    return own, (f"{_shown(base)}/ holds the reports of another environment file of the same name, {claimed}; "
                 f"those of {env_file} are in {_shown(own)}/")


def _owner(env_file: Path) -> str:
    """The file, as the same on every run: relative to the project when inside it (so the project may move)."""
    path = env_file.resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def _claim(folder: Path, owner: str, claim: bool) -> str:
    """The environment file `folder` belongs to; `owner` when it belonged to none yet (then it is `owner`'s, if
    `claim`)."""
    marker = folder / OWNER_FILE
    if claim:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with marker.open("x", encoding="utf-8") as handle:
                handle.write(owner + "\n")
            return owner
        except FileExistsError:
            pass
    try:
        return marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return owner


@dataclass
class RunFiles:
    """Where one run's report goes."""

    env_dir: Path
    name: str  # 20250127-093215[-CHG0012345]

    @property
    def run_dir(self) -> Path:
        return self.env_dir / self.name

    @property
    def results(self) -> Path:
        return self.run_dir / "allure-results"

    @property
    def junit(self) -> Path:
        return self.run_dir / "junit.xml"

    @property
    def summary(self) -> Path:
        return self.run_dir / "summary.md"

    @property
    def outcomes(self) -> Path:
        return self.run_dir / "outcomes.json"

    @property
    def html(self) -> Path:
        return self.env_dir / f"{self.name}.html"

    @property
    def history(self) -> Path:
        return self.env_dir / "history.jsonl"

    def latest(self, suffix: str) -> Path:
        return self.env_dir / f"latest{suffix}"

    @classmethod
    def plan(cls, env_dir: Path, started: dt.datetime, ticket: str | None) -> RunFiles:
        base = started.strftime("%Y%m%d-%H%M%S") + (f"-{ticket}" if ticket else "")
        env_dir.mkdir(parents=True, exist_ok=True)
        for n in range(1, 100):  # two runs started in the same second each get their own folder
            found = cls(env_dir, base if n == 1 else f"{base}.{n}")
            try:
                found.run_dir.mkdir()
            except FileExistsError:
                continue
            found.results.mkdir()
            return found
        raise FileExistsError(f"{env_dir / base}: 99 runs in the same second")

    @classmethod
    def of(cls, run_dir: Path) -> RunFiles:
        return cls(run_dir.resolve().parent, run_dir.resolve().name)


@dataclass
class RunReport:
    """Collects the run's outcomes and writes its report at the end. Without `files` (an explicit --alluredir)
    only the raw results are written, into `results`."""

    results: Path
    files: RunFiles | None
    env: str
    ticket: str | None
    started: dt.datetime
    outcomes: list[Outcome] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)  # what to try next, for the summary
    junit: Path | None = None  # where pytest writes the run's JUnit XML (--junitxml, else <run>/junit.xml)
    interrupted: bool = False  # Ctrl-C or a fatal error: the checks not run are not a pass
    stopped_by: str | None = None  # the signal that interrupted the run: SIGINT, SIGTERM…
    notes: list[str] = field(default_factory=list)  # worth saying at the top of the summary
    keep: int = 50  # runs whose reports stay on disk (0: all); history.jsonl keeps the trend of every run

    def add(self, nodeid: str, outcome: str, message: str) -> None:
        line = " ".join(evidence.redact(message).split())
        for found in self.outcomes:
            if found.nodeid == nodeid:  # a teardown error after a pass: the worse outcome stands
                if outcome == "failed":
                    found.outcome, found.message = outcome, line
                return
        self.outcomes.append(Outcome(nodeid, outcome, line))

    def count(self, outcome: str) -> int:
        return sum(1 for found in self.outcomes if found.outcome == outcome)

    def counts_line(self) -> str:
        return f"{self.count('passed')} passed, {self.count('failed')} failed, {self.count('skipped')} skipped"

    @property
    def report_name(self) -> str:
        return f"Keyfactor Command smoke test — {self.env}" + (f" — {self.ticket}" if self.ticket else "")

    def environment(self, values: dict[str, str], finished: dt.datetime) -> dict[str, str]:
        window = f"{self.started:%Y-%m-%d %H:%M:%S} → {finished:%H:%M:%S} (UTC{finished:%z})"
        return {**values, **evidence.facts, "Change ticket": self.ticket or "none", "Suite version": suite_version(),
                "Run by": operator(), "Run window": window}

    def executor(self) -> dict[str, object]:
        name = self.files.name if self.files else f"{self.started:%Y%m%d-%H%M%S}"
        found: dict[str, object] = {
            "name": f"keyfactor-smoke {suite_version()}", "type": "pytest", "reportName": self.report_name,
            "buildName": f"{self.ticket} — {self.env}, run {name}" if self.ticket else f"{self.env}, run {name}",
        }
        if self.files:
            found.update(buildOrder=_lines(self.files.history) + 1, reportUrl=self.files.html.name)
        return found

    def finish(self, values: dict[str, str]) -> str:
        """Writes the run's files; returns the summary (also written as latest-summary.md)."""
        environment = self.environment(values, dt.datetime.now().astimezone())
        evidence.write_environment(str(self.results), environment)
        _write_json(self.results / "executor.json", self.executor())
        _write_json(self.results / "categories.json", CATEGORIES)
        redact_tree(self.results)
        if not self.files:
            return summary(self, environment, None, None)
        files = self.files
        previous = previous_run(files)
        _write_json(files.outcomes, {"run": files.name, "ticket": self.ticket,
                                    "outcomes": [asdict(found) for found in self.outcomes]})
        write_config(files, self.report_name)
        text = summary(self, environment, previous, render_run(files))
        files.summary.write_text(text, encoding="utf-8")
        shutil.copyfile(files.summary, files.latest("-summary.md"))
        if self.junit and self.junit.is_file():
            shutil.copyfile(self.junit, files.latest("-junit.xml"))
        prune(files.env_dir, self.keep)
        return text

    def discard(self) -> None:
        """No check ran: no report, and no empty run folder."""
        if self.files:
            shutil.rmtree(self.files.run_dir, ignore_errors=True)


@dataclass
class Rendered:
    ok: bool
    line: str  # what the summary says about the HTML report


def write_config(files: RunFiles, report_name: str) -> Path:
    """The run's allurerc.mjs, with paths relative to the run folder (so that the folder can move)."""
    config = {
        "name": report_name,
        "output": "allure-report",
        "historyPath": "../history.jsonl",
        "historyLimit": HISTORY_LIMIT,
        "plugins": {"allure2": {"options": {"singleFile": True, "reportName": report_name}}},
    }
    template = (ASSETS / "allurerc.mjs").read_text(encoding="utf-8")
    path = files.run_dir / "allurerc.mjs"
    path.write_text(template.replace("/*CONFIG*/", json.dumps(config, indent=2, ensure_ascii=False)),
                    encoding="utf-8")
    return path


def render_command() -> list[str] | None:
    """The command that renders a run's report in its folder: the Allure library from a small script of ours when
    setup.sh installed it (a shorter start than the command line's), else the Allure command line."""
    configured = os.environ.get(ALLURE_ENV)
    if configured:
        return [configured, *GENERATE] if Path(configured).is_file() else None
    node = shutil.which("node")
    if node and (ROOT / "node_modules" / "@allurereport" / "core" / "package.json").is_file():
        return [node, str(ASSETS / "render.mjs")]
    found = shutil.which("allure", path=str(ROOT / "node_modules" / ".bin"))
    return [found, *GENERATE] if found else None


def render_later(files: RunFiles) -> str:
    return f"python -m smoke.run.report {_shown(files.run_dir)}"


def render_run(files: RunFiles) -> Rendered:
    """Renders the run's single-file HTML report (appending to the history); never raises."""
    command = render_command()
    if not command:
        return Rendered(False, "HTML report not rendered: the Allure command line is not installed (./setup.sh "
                               f"installs it with npm) — render it later with: {render_later(files)}")
    output = files.run_dir / "allure-report"
    shutil.rmtree(output, ignore_errors=True)
    env = {**os.environ, "ALLURE_NO_ANALYTICS": "true", "NO_COLOR": "1"}
    try:
        done = subprocess.run(command, cwd=files.run_dir, env=env, capture_output=True, text=True,
                              timeout=RENDER_TIMEOUT_S, **interrupts.own_process_group())
    except (OSError, subprocess.TimeoutExpired) as exc:
        program = command[-1] if command[-1].endswith(".mjs") else command[0]
        return Rendered(False, f"HTML report not rendered: {program} did not finish ({type(exc).__name__}) — "
                               f"render it later with: {render_later(files)}")
    index = output / "index.html"
    if done.returncode != 0 or not index.is_file():
        said = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return Rendered(False, f"HTML report not rendered: allure generate failed ({evidence.redact(said[0])[:200]})"
                               f" — render it later with: {render_later(files)}")
    index.replace(files.html)
    shutil.rmtree(output, ignore_errors=True)
    newest = max(p.parent.name for p in files.env_dir.glob("*/allurerc.mjs"))
    if files.name != newest:  # rendered later: latest.html stays the newest run's
        return Rendered(True, f"Report: {_shown(files.html)}")
    shutil.copyfile(files.html, files.latest(".html"))
    return Rendered(True, f"Report: {_shown(files.html)} (also {files.latest('.html').name})")


def redact_tree(folder: Path) -> None:
    """A last pass over the raw results: captured logs and messages pass through the same redaction."""
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webm", ".zip", ".gz"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        cleaned = evidence.redact(text)
        if cleaned != text:
            path.write_text(cleaned, encoding="utf-8")


def prune(env_dir: Path, keep: int) -> list[str]:
    """Removes all but the newest `keep` runs (their folder and HTML report); returns the run names removed."""
    runs = sorted(p.parent.name for p in env_dir.glob("*/outcomes.json"))
    if keep <= 0 or len(runs) <= keep:
        return []
    removed = runs[:-keep]
    for name in removed:
        shutil.rmtree(env_dir / name, ignore_errors=True)
        (env_dir / f"{name}.html").unlink(missing_ok=True)
    return removed


def previous_run(files: RunFiles) -> tuple[str, dict[str, Outcome]] | None:
    """The outcomes of the newest earlier run of the same environment."""
    earlier = sorted((p for p in files.env_dir.glob("*/outcomes.json") if p.parent.name < files.name),
                     key=lambda p: p.parent.name)
    for path in reversed(earlier):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data["run"], {o["nodeid"]: Outcome(**o) for o in data["outcomes"]}
        except (ValueError, KeyError, TypeError, OSError):
            continue
    return None


def summary(run: RunReport, environment: dict[str, str], previous: tuple[str, dict[str, Outcome]] | None,
            rendered: Rendered | None) -> str:
    """The one-screen summary for the change ticket (Markdown that reads as plain text)."""
    failed = [o for o in run.outcomes if o.outcome == "failed"]
    skipped = [o for o in run.outcomes if o.outcome == "skipped"]
    verdict = "INTERRUPTED" if run.interrupted else "FAILED" if failed else "PASSED"
    if run.interrupted and run.stopped_by:
        verdict += f" ({run.stopped_by})"
    lines = [f"# {run.report_name}", "", f"Verdict: {verdict} — {run.counts_line()}", "",
             f"- Server: {environment.get('Server', '?')} (environment {run.env})"]
    lines += [f"- Note: {note}" for note in run.notes]
    lines += [f"- {name}: {value}" for name, value in evidence.facts.items()]
    if run.ticket:
        lines.append(f"- Change ticket: {run.ticket}")
    shown = ("Sandbox faults", "Run window", "Run by", "Suite version")
    lines += [f"- {name}: {environment[name]}" for name in shown if name in environment]
    if failed:
        lines += ["", "## Failed"]
        lines += [f"- {o.sentence} ({_module(o.nodeid)}) — {o.category}: {o.message}" for o in failed]
        lines += [f"- Hint: {hint}" for hint in run.hints]
    if skipped:
        lines += ["", "## Skipped"]
        reasons: dict[str, int] = {}
        for found in skipped:
            reasons[found.message] = reasons.get(found.message, 0) + 1
        lines += [f"- {n} checks: {reason}" if n > 1 else f"- {reason}" for reason, n in reasons.items()]
    if evidence.for_a_person:
        lines += ["", "## For a person (the suite cannot check these from outside)"]
        lines += [f"- [ ] {line}" for line in evidence.for_a_person]
    if previous:
        lines += ["", f"## Since the previous run ({previous[0]})"]
        lines += changes(previous[1], run.outcomes) or ["- no check changed its outcome"]
    lines.append("")
    if run.files:
        lines.append(rendered.line if rendered else f"Raw results: {_shown(run.files.results)}")
        lines.append(f"Summary: {_shown(run.files.latest('-summary.md'))}; JUnit XML: "
                     f"{_shown(run.files.latest('-junit.xml'))}; raw results: {_shown(run.files.results)}")
    else:
        lines.append(f"Raw Allure results (--alluredir): {_shown(run.results)}")
    return evidence.redact("\n".join(lines)) + "\n"


def changes(before: dict[str, Outcome], now: list[Outcome]) -> list[str]:
    fixed = [o.sentence for o in now if o.outcome == "passed" and _was(before, o, "failed")]
    regressed = [o.sentence for o in now if o.outcome == "failed" and _was(before, o, "passed")]
    new = [o.sentence for o in now if o.nodeid not in before]
    lines = [f"- fixed: {name}" for name in fixed] + [f"- regressed: {name}" for name in regressed]
    if new:
        lines.append(f"- not in the previous run: {len(new)} check{'s' * (len(new) > 1)}")
    return lines


def _was(before: dict[str, Outcome], now: Outcome, outcome: str) -> bool:
    found = before.get(now.nodeid)
    return found is not None and found.outcome == outcome


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _lines(path: Path) -> int:
    try:
        with path.open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """python -m smoke.run.report reports/<env>/<run>: renders that run's HTML report now."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not (Path(args[0]) / "allurerc.mjs").is_file():
        print("usage: python -m smoke.run.report reports/<env>/<run>  (a run folder holding allurerc.mjs)")
        return 2
    files = RunFiles.of(Path(args[0]))
    if files.html.is_file():  # rendering again would add the run to the history twice
        print(f"Report: {_shown(files.html)} (already rendered)")
        return 0
    rendered = render_run(files)
    print(rendered.line)
    return 0 if rendered.ok else 1


if __name__ == "__main__":
    sys.exit(main())
