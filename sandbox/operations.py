"""The server's work after the upgrade, as the sandbox shows it: the CA test (ca_test.py), orchestrator job history
and scheduled jobs (job_history.py), workflow instances (workflow_instances.py), the audit trail (audit.py) and the
CRLs and OCSP responder of its CAs (revocation.py).

One timeline for all of them, the one of the log folder (logs.py): the upgrade's wizard run a little before start,
the services back some minutes later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import logs, revocation, workflow_instances
from .api import KeyfactorApi
from .audit import AuditLog
from .ca_test import CaTest
from .enrollment import EnrollmentService
from .handover import Handover
from .inventory import Inventory
from .job_history import JobHistory
from .pki import SandboxPKI


@dataclass
class Operations:
    """What self-tests read (and, for bad data, change) in a running sandbox."""

    jobs: JobHistory
    workflows: list[workflow_instances.WorkflowInstance]
    audit: AuditLog
    handover: Handover


def mount(api: KeyfactorApi, pki: SandboxPKI, inventory: Inventory, enrollment: EnrollmentService,
          state_dir: Path, inventories: Sequence[tuple[str, str, str, str, dict[str, Any]]] = (),
          revocation_port: int = revocation.PREFERRED_PORT) -> Operations:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    upgraded, back = now - logs.WIZARD_AT, now - logs.SERVICES_RESTARTED
    CaTest(inventory.authorities, api.faults).mount(api)
    jobs = JobHistory(api.faults, inventory.agents, upgraded, back, now, inventories)
    jobs.mount(api)
    workflows = workflow_instances.instances(upgraded, back, now, api.faults)
    workflow_instances.mount(api, workflows)
    audit = AuditLog(api.faults, upgraded, back, now)
    audit.mount(api)
    return Operations(jobs, workflows, audit, revocation.start(api, pki, enrollment, state_dir, revocation_port))
