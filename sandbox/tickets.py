"""The change-ticket stand-ins: a ServiceNow-like instance and a Jira-like server, each on its own HTTPS port with
the sandbox's certificate. The run's environment file gets a [ticket] section for the ServiceNow one (attaching
stays opt-in: `pytest --env sandbox --ticket CHG0012345 --attach`) and, in a comment, how to use the Jira one; the
credentials travel as variables only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import servicenow
from .faults import ActiveFaults
from .handover import Handover
from .jira import EMAIL, ISSUES, JiraServer
from .servicenow import ServiceNowInstance
from .ticket_desk import Inbox

PASSWORD_ENV = "KF_SANDBOX_TICKET_PASSWORD"
CLIENT_SECRET_ENV = "KF_SANDBOX_TICKET_CLIENT_SECRET"
JIRA_TOKEN_ENV = "KF_SANDBOX_JIRA_TOKEN"  # Basic with the e-mail, as Jira Cloud's API tokens
JIRA_PAT_ENV = "KF_SANDBOX_JIRA_PAT"  # Bearer, as Jira Data Center's personal access tokens
TIMEOUT_S = 10


@dataclass
class Tickets:
    inbox: Inbox
    servicenow: ServiceNowInstance
    jira: JiraServer
    handover: Handover


def start(state_dir: Path, faults: ActiveFaults, *, chain: Path, key: Path, ca_bundle: Path) -> Tickets:
    inbox = Inbox.at(state_dir)
    instance = ServiceNowInstance(faults, inbox)
    jira = JiraServer(faults, inbox)
    for site in (instance.site, jira.site):
        site.start(chain, key)

    def stop() -> None:
        for site in (instance.site, jira.site):
            site.stop()

    handover = Handover(stop=stop)
    changes, issues = ", ".join(servicenow.CHANGES), ", ".join(ISSUES)
    handover.toml += [
        f'# Ticket stand-ins: [ticket] is the ServiceNow one (changes {changes}; auth = "oauth" works too, with',
        f'# client_id = "{servicenow.CLIENT_ID}" and client_secret_env = "{CLIENT_SECRET_ENV}"). The Jira one (issues',
        f'# {issues}): system = "jira", url = "{jira.url}", auth = "bearer", token_env = "{JIRA_PAT_ENV}",',
        f'# or auth = "basic", username = "{EMAIL}", token_env = "{JIRA_TOKEN_ENV}".',
        f"# What they receive is kept under {inbox.folder}",
        "[ticket]",
        'system = "servicenow"',
        f'url = "{instance.url}"',
        'auth = "basic"',
        f'username = "{servicenow.USER}"',
        f'password_env = "{PASSWORD_ENV}"',
        f"ca_bundle = {json.dumps(str(ca_bundle))}",
        f"timeout_s = {TIMEOUT_S}",
    ]
    handover.environ.update({PASSWORD_ENV: instance.password, CLIENT_SECRET_ENV: instance.client_secret,
                             JIRA_TOKEN_ENV: jira.api_token, JIRA_PAT_ENV: jira.access_token})
    active = [name for name in faults.names() if name.startswith("ticket-")]
    if active:
        handover.notes.append(f"ticket stand-ins ({instance.url}, {jira.url}): {', '.join(active)}")
    return Tickets(inbox, instance, jira, handover)
