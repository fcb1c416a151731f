"""Orchestrator jobs: GET /OrchestratorJobs/JobHistory and GET /OrchestratorJobs/ScheduledJobs (`pq.`), with thousands
of runs before the upgrade and after it.

Shaped by the 10.x spec (JobHistoryResponse, Job) and the job history documentation (11.x, the same enums):
- query fields AgentId, Agent, JobId, Result, Status, JobType, Message, OperationStart, ScheduleType, TargetPath
  (and JobHistoryId, the default sort); `OperationStart -ge "2026-12-01T08:00:00"` compares times, so the suite
  can ask for its window and page only through that;
- Result 0 Unknown, 2 Success, 3 Warning, 4 Failure; Status 3 Completed, 4 Acknowledged (the rest unused here);
- times as Json.NET writes them, UTC, some with `Z` and some without a zone.

The timeline: the upgrade's wizard run a little before start (sandbox/logs.py WIZARD_AT), the services back a few
minutes later; before that, weeks of history ending in failures while the server was down for the upgrade, so only
a listing that starts at the upgrade is clean. After the services came back: a warning now and then, and one job
that failed once right after the restart and then succeeded. Size: KF_SANDBOX_JOB_HISTORY runs in all (default
8,000), KF_SANDBOX_JOBS_IN_WINDOW of them after the upgrade (default 2,000); bench/ uses 200,000 and 2,000.

Faults: jobs-failing (every inventory of orch02 since the upgrade fails), jobs-orphaned (inventory still scheduled
on orch03, which was removed during the upgrade: it ran until then, never since).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .api import KeyfactorApi
from .faults import ActiveFaults
from .inventory import APPROVED, EXPECTED, Agent, json_net_time
from .listing import Listing

TOTAL_ENV, IN_WINDOW_ENV = "KF_SANDBOX_JOB_HISTORY", "KF_SANDBOX_JOBS_IN_WINDOW"
DEFAULT_TOTAL, DEFAULT_IN_WINDOW = 8000, 2000
HISTORY_DAYS = 30
SUCCESS, WARNING, FAILURE = 2, 3, 4
COMPLETED, ACKNOWLEDGED = 3, 4
FAILING_ORCHESTRATOR = EXPECTED[1]  # orch02: its inventories fail under jobs-failing
REMOVED_ORCHESTRATOR = "orch03.corp.example.com"  # jobs-orphaned: removed during the upgrade, jobs left behind
DOWN_MESSAGE = ("Unable to submit the job result to https://keyfactor.corp.example.com/KeyfactorAgents: "
                "503 Service Unavailable")
RESTART_MESSAGE = "Unable to connect to the remote server web01.corp.example.com:5986 (WinRM): the WinRM service is " \
                  "restarting"
WARNING_MESSAGE = "Inventory completed with warnings: 1 certificate could not be read (no private key access)"
_SCHEDULE_TYPES = {"Interval": "I_", "Daily": "D_", "Weekly": "W_", "Monthly": "M_", "ExactlyOnce": "O_"}


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    orchestrator: str
    client_machine: str
    target: str
    job_type: str
    schedule: dict[str, Any] | None
    requested: dt.datetime

    def response(self) -> dict[str, Any]:
        """Models.OrchestratorJobs.Job."""
        return {"Id": self.id, "ClientMachine": self.orchestrator, "Target": self.target, "Schedule": self.schedule,
                "Requested": json_net_time(self.requested), "JobType": self.job_type}


@dataclass
class Run:
    history_id: int
    job: ScheduledJob
    start: dt.datetime  # naive UTC
    seconds: float
    result: int
    message: str
    zone: bool

    def response(self) -> dict[str, Any]:
        """KeyfactorApi.Models.CertificateStores.JobHistoryResponse."""
        return {
            "JobHistoryId": self.history_id,
            "AgentMachine": self.job.orchestrator,
            "JobId": self.job.id,
            "Schedule": self.job.schedule,
            "JobType": self.job.job_type,
            "OperationStart": json_net_time(self.start, zone=self.zone),
            "OperationEnd": json_net_time(self.start + dt.timedelta(seconds=self.seconds), zone=self.zone),
            "Message": self.message,
            "Result": self.result,
            "Status": ACKNOWLEDGED if self.result == FAILURE else COMPLETED,
            "StorePath": self.job.target,
            "ClientMachine": self.job.client_machine,
        }


def _count(name: str, default: int) -> int:
    text = os.environ.get(name, "")
    try:
        return int(text) if text else default
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected a whole number of job runs") from None


def scheduled_jobs(agents: Sequence[Agent], now: dt.datetime, orphaned: bool,
                   inventories: Sequence[tuple[str, str, str, str, dict[str, Any]]] = ()) -> list[ScheduledJob]:
    """The named stores' inventories (sandbox/configuration/stores.py), one inventory per branch web server on the
    approved bulk orchestrators, and under jobs-orphaned two left on the removed orch03."""
    requested = now - dt.timedelta(days=90)
    jobs = [ScheduledJob(job_id, orchestrator, machine, path, "Inventory", schedule, requested)
            for job_id, orchestrator, machine, path, schedule in inventories]
    branch = [a for a in agents if a.status == APPROVED and a.client_machine.startswith("uo-")][:200]
    for n, agent in enumerate(branch):
        jobs.append(ScheduledJob(str(uuid.UUID(int=0x10B5_1000_0000_4000_8000_000000000000 + n)),
                                 agent.client_machine, f"web{n + 1:03d}.{agent.client_machine.split('.', 1)[1]}",
                                 "IIS Personal", "Inventory", {"Interval": {"Minutes": 720}}, requested))
    if orphaned:
        for n, store in enumerate(("web31.corp.example.com", "web32.corp.example.com")):
            jobs.append(ScheduledJob(str(uuid.UUID(int=0x10B5_2000_0000_4000_8000_000000000000 + n)),
                                     REMOVED_ORCHESTRATOR, store, "IIS Personal", "Inventory",
                                     {"Interval": {"Minutes": 720}}, requested))
    return sorted(jobs, key=lambda j: j.id)  # the listing's default order


@dataclass
class JobHistory:
    faults: ActiveFaults
    agents: Sequence[Agent]
    upgraded: dt.datetime  # naive UTC: the wizard run's start
    back: dt.datetime  # naive UTC: the services were back after the upgrade
    now: dt.datetime  # naive UTC
    inventories: Sequence[tuple[str, str, str, str, dict[str, Any]]] = ()  # the named stores' scheduled inventories

    def __post_init__(self) -> None:
        self.scheduled = scheduled_jobs(self.agents, self.now, self.faults.on("jobs-orphaned"), self.inventories)
        self.runs = self._history(_count(TOTAL_ENV, DEFAULT_TOTAL), _count(IN_WINDOW_ENV, DEFAULT_IN_WINDOW))

    def _history(self, total: int, in_window: int) -> list[Run]:
        rng = random.Random(14)
        in_window = min(in_window, total)
        live = [j for j in self.scheduled if j.orchestrator != REMOVED_ORCHESTRATOR]
        down_from = self.upgraded - dt.timedelta(hours=2, minutes=40)  # the services stopped for the upgrade
        earliest = self.now - dt.timedelta(days=HISTORY_DAYS)
        before = total - in_window
        starts = sorted(earliest + (down_from - earliest) * rng.random() for _ in range(before))
        runs = [self._run(rng, self.scheduled[i % len(self.scheduled)], start, before=True)
                for i, start in enumerate(starts)]
        # While the server was down for the upgrade every job that tried failed to report back.
        for n, job in enumerate(self.scheduled[:40]):
            runs.append(Run(0, job, down_from + dt.timedelta(minutes=2 + 3 * n), 4.0, FAILURE, DOWN_MESSAGE, True))
        span = (self.now - self.back).total_seconds()
        for i in range(in_window):
            start = self.back + dt.timedelta(seconds=span * (i + rng.random()) / max(in_window, 1))
            runs.append(self._run(rng, live[i % len(live)], start, before=False))
        self._first_after_restart_failed(runs)
        runs.sort(key=lambda r: r.start)
        for number, run in enumerate(runs, start=100_001):
            run.history_id = number
        return runs

    def _run(self, rng: random.Random, job: ScheduledJob, start: dt.datetime, before: bool) -> Run:
        result, message = SUCCESS, ""
        if rng.random() < 0.01:
            result, message = WARNING, WARNING_MESSAGE
        if not before and job.orchestrator == FAILING_ORCHESTRATOR and self.faults.on("jobs-failing"):
            result, message = FAILURE, f"Inventory failed: access to the path '{job.target}' is denied."
        return Run(0, job, start, rng.uniform(0.4, 20.0), result, message, zone=rng.random() < 0.5)

    def _first_after_restart_failed(self, runs: list[Run]) -> None:
        """web01's inventory failed right after the restart (WinRM still coming up) and succeeded on its next run."""
        web01 = next(j for j in self.scheduled if j.client_machine == "web01.corp.example.com")
        runs.append(Run(0, web01, self.back + dt.timedelta(seconds=20), 21.0, FAILURE, RESTART_MESSAGE, True))
        runs.append(Run(0, web01, self.back + dt.timedelta(minutes=3), 2.5, SUCCESS, "", True))

    def mount(self, api: KeyfactorApi) -> None:
        agent_ids = {a.client_machine: a.agent_id for a in self.agents}

        def schedule_type(schedule: dict[str, Any] | None) -> str | None:
            return next((code for key, code in _SCHEDULE_TYPES.items() if schedule and key in schedule), None)

        api.get("/OrchestratorJobs/JobHistory", Listing("pq.", lambda: self.runs, lambda run: run.response(), {
            "jobhistoryid": lambda r: r.history_id,
            "agentid": lambda r: agent_ids.get(r.job.orchestrator),
            "agent": lambda r: r.job.orchestrator,
            "jobid": lambda r: r.job.id,
            "result": lambda r: r.result,
            "status": lambda r: ACKNOWLEDGED if r.result == FAILURE else COMPLETED,
            "jobtype": lambda r: r.job.job_type,
            "message": lambda r: r.message,
            "operationstart": lambda r: r.start,
            "scheduletype": lambda r: schedule_type(r.job.schedule),
            "targetpath": lambda r: r.job.target,
        }, "JobHistoryId").answer)
        api.get("/OrchestratorJobs/ScheduledJobs", Listing("pq.", lambda: self.scheduled, ScheduledJob.response, {
            "id": lambda j: j.id,
            "clientmachine": lambda j: j.orchestrator,
            "target": lambda j: j.target,
            "jobtype": lambda j: j.job_type,
        }, "Id").answer)
