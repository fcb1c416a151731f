"""Orchestrator jobs since the upgrade: the job history of the window (GET /OrchestratorJobs/JobHistory, filtered by
the SERVER with `OperationStart -ge "<time>"`, then paged), judged job by job; and the scheduled jobs
(GET /OrchestratorJobs/ScheduledJobs) whose orchestrator is gone or not approved, so that they never ran.

Knows nothing of pytest. Codes from the job history documentation (11.x; the 10.x spec has the same enums):
Result 0 Unknown, 2 Success, 3 Warning, 4 Failure; Status 0 Unknown, 1 Waiting, 2 InProcess, 3 Completed,
4 Acknowledged, 5 CompletedWillRetry. A job (one JobId: a scheduled inventory runs many times) fails when its newest
run in the window failed; one that failed and then succeeded is listed as recovered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smoke.ground.errors import ApiUnexpectedAnswer
from smoke.ground.prerequisites import Prerequisite
from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.formats import parse_net_time, query_time
from smoke.keyfactor.orchestrators import AGENTS, APPROVED, STATUSES
from smoke.logscan import Waiver

JOB_HISTORY = "/OrchestratorJobs/JobHistory"
SCHEDULED_JOBS = "/OrchestratorJobs/ScheduledJobs"
RESULTS = {0: "Unknown", 2: "Success", 3: "Warning", 4: "Failure"}
RUN_STATUSES = {0: "Unknown", 1: "Waiting", 2: "InProcess", 3: "Completed", 4: "Acknowledged",
                5: "CompletedWillRetry"}
FAILURE, WARNING = 4, 3
# An entry older than the window by more than this means the server did not filter as asked.
FILTER_TOLERANCE = dt.timedelta(minutes=1)


def _text(value: Any, default: str = "") -> str:
    return str(value).strip() if value is not None and str(value).strip() else default


@dataclass(frozen=True)
class JobRun:
    history_id: Any
    job_id: str
    job_type: str
    orchestrator: str  # AgentMachine: the orchestrator that ran it
    store: str  # "<ClientMachine> <StorePath>": where it ran
    start: dt.datetime
    result: int | None
    status: int | None
    message: str

    @classmethod
    def from_api(cls, item: Any, zoneless: dt.tzinfo) -> JobRun:
        if not isinstance(item, dict):
            raise ApiUnexpectedAnswer(f"GET {JOB_HISTORY} listed {str(item)[:80]!r}, not a job history entry — "
                                      "check [command] api_path")
        number = item.get("JobHistoryId")
        start = parse_net_time(item.get("OperationStart"), zoneless)
        if start is None:
            raise ApiUnexpectedAnswer(
                f"GET {JOB_HISTORY} listed entry JobHistoryId {number} with OperationStart "
                f"{item.get('OperationStart')!r}, not a time — the job history cannot be judged without the time of "
                "each run; check the server's database (the entry's OperationStart) and report it to Keyfactor")
        result, status = item.get("Result"), item.get("Status")
        return cls(
            history_id=number,
            job_id=_text(item.get("JobId"), f"(history {number})"),
            job_type=_text(item.get("JobType"), "(no job type)"),
            orchestrator=_text(item.get("AgentMachine"), "(no orchestrator)"),
            store=" ".join(p for p in (_text(item.get("ClientMachine")), _text(item.get("StorePath"))) if p),
            start=start,
            result=result if isinstance(result, int) else None,
            status=status if isinstance(status, int) else None,
            message=" ".join(_text(item.get("Message"), "(no message)").split()),
        )

    @property
    def failed(self) -> bool:
        return self.result == FAILURE

    @property
    def subject(self) -> str:
        """What a waiver's pattern is searched in, before the message."""
        return f"{self.job_type} {self.orchestrator} {self.store}".strip()

    def outcome(self) -> str:
        result = RESULTS.get(self.result, f"Result {self.result}") if self.result is not None else "no Result"
        status = RUN_STATUSES.get(self.status, f"Status {self.status}") if self.status is not None else "no Status"
        return f"{result} ({status})"


def history_since(client: KeyfactorClient, since: dt.datetime, zone: dt.tzinfo, page_size: int) -> list[JobRun]:
    """Every run that started in the window; the server filters, the pages bring only the window."""
    query = f'OperationStart -ge "{query_time(since, zone)}"'
    runs = []
    for item in client.pages(JOB_HISTORY, page_size=page_size, query=query):
        run = JobRun.from_api(item, zone)
        if run.start < since - FILTER_TOLERANCE:
            raise ApiUnexpectedAnswer(
                f"GET {JOB_HISTORY} with pq.queryString={query!r} listed a run of {run.start:%Y-%m-%d %H:%M:%S} "
                f"(JobHistoryId {run.history_id}), before the window: the server did not filter by OperationStart as "
                "asked — if it reads query times in its own zone, set [operations] zoneless_times to it")
        runs.append(run)
    return runs


class WindowHistory:
    """The window's job history, read once per run: the first check that needs it pays for it, and when it fails
    (an unreadable entry, a server that ignores the filter) the other job check is skipped naming that cause."""

    def __init__(self, since: dt.datetime, zone: dt.tzinfo, page_size: int) -> None:
        self.since, self.zone, self.page_size = since, zone, page_size
        self.runs: list[JobRun] | None = None
        self.prerequisite = Prerequisite("reading the orchestrator job history of the window")

    def get(self, client: KeyfactorClient) -> list[JobRun]:
        with self.prerequisite.attempt():
            if self.runs is None:
                self.runs = history_since(client, self.since, self.zone, self.page_size)
        return self.runs


@dataclass
class FailingGroup:
    """Failing jobs of one job type on one orchestrator."""

    job_type: str
    orchestrator: str
    jobs: set[str] = field(default_factory=set)
    runs: int = 0  # failed runs in the window
    newest: JobRun | None = None
    waiver: Waiver | None = None

    def add(self, run: JobRun) -> None:
        self.runs += 1
        if self.newest is None or run.start > self.newest.start:
            self.newest = run

    def line(self) -> str:
        assert self.newest is not None
        jobs = f"{len(self.jobs)} job{'s' if len(self.jobs) != 1 else ''}"
        return (f"{self.job_type} on {self.orchestrator}: {jobs} failing ({self.runs} failed runs, the newest "
                f"{self.newest.start.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC: {self.newest.message})")


@dataclass
class JobReview:
    runs: int
    failing: list[FailingGroup]
    waived: list[FailingGroup]
    recovered: list[JobRun]  # a failed run of a job whose newest run succeeded
    warnings: int
    expired_waivers: list[Waiver]


def review(runs: Sequence[JobRun], waivers: Sequence[Waiver], today: dt.date) -> JobReview:
    newest: dict[str, JobRun] = {}
    for run in runs:
        if run.job_id not in newest or run.start >= newest[run.job_id].start:
            newest[run.job_id] = run
    groups: dict[tuple[str, str], FailingGroup] = {}
    recovered: dict[str, JobRun] = {}
    for run in runs:
        if not run.failed:
            continue
        if not newest[run.job_id].failed:
            recovered.setdefault(run.job_id, run)
            continue
        group = groups.setdefault((run.job_type, run.orchestrator), FailingGroup(run.job_type, run.orchestrator))
        group.jobs.add(run.job_id)
        group.add(run)
    active = [w for w in waivers if not w.expired(today)]
    failing: list[FailingGroup] = []
    waived: list[FailingGroup] = []
    for group in sorted(groups.values(), key=lambda g: (-g.runs, g.job_type, g.orchestrator)):
        assert group.newest is not None
        group.waiver = next((w for w in active if w.matches(group.newest.subject, group.newest.message)), None)
        (waived if group.waiver else failing).append(group)
    return JobReview(len(runs), failing, waived, list(recovered.values()),
                     sum(run.result == WARNING for run in runs), [w for w in waivers if w.expired(today)])


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    orchestrator: str  # ClientMachine: the orchestrator it is scheduled on
    target: str
    job_type: str

    @classmethod
    def from_api(cls, item: Any) -> ScheduledJob:
        if not isinstance(item, dict):
            raise ApiUnexpectedAnswer(f"GET {SCHEDULED_JOBS} listed {str(item)[:80]!r}, not a scheduled job")
        return cls(_text(item.get("Id"), "?"), _text(item.get("ClientMachine"), "(no orchestrator)"),
                   _text(item.get("Target")), _text(item.get("JobType"), "(no job type)"))


def scheduled(client: KeyfactorClient, page_size: int) -> list[ScheduledJob]:
    return [ScheduledJob.from_api(item) for item in client.pages(SCHEDULED_JOBS, page_size=page_size)]


def orchestrator_statuses(client: KeyfactorClient, page_size: int) -> dict[str, int | None]:
    """ClientMachine (case-folded) -> Status of every registered orchestrator (GET /Agents, all pages)."""
    found: dict[str, int | None] = {}
    for item in client.pages(AGENTS, page_size=page_size):
        if isinstance(item, dict) and item.get("ClientMachine"):
            status = item.get("Status")
            found[str(item["ClientMachine"]).casefold()] = status if isinstance(status, int) else None
    return found


def stranded(jobs: Iterable[ScheduledJob], statuses: dict[str, int | None],
             ran: set[str]) -> list[tuple[ScheduledJob, str]]:
    """Scheduled jobs that did not run in the window because their orchestrator is gone or not approved."""
    found = []
    for job in jobs:
        if job.id in ran:
            continue
        key = job.orchestrator.casefold()
        if key not in statuses:
            found.append((job, "its orchestrator is no longer registered"))
        elif statuses[key] != APPROVED:
            status = statuses[key]
            name = STATUSES.get(status, f"status {status}") if status is not None else "no status"
            found.append((job, f"its orchestrator is {name}, not Approved"))
    return found
