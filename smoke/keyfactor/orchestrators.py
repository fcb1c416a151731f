"""The orchestrator heartbeat: every orchestrator from GET /Agents (all pages), judged against [orchestrators].

Knows nothing of pytest. The API's field names and codes live here (keyfactor-api-notes §1.8).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from smoke.ground import evidence
from smoke.ground.errors import ConfigError
from smoke.ground.prerequisites import Prerequisite
from smoke.keyfactor import answers
from smoke.keyfactor.client import KeyfactorClient
from smoke.keyfactor.formats import parse_net_time, time_zone, version_at_least, version_parts
from smoke.keyfactor.sections import OrchestratorsSection

AGENTS = "/Agents"
# AgentResponse.AgentPlatform (11.x documentation; 10.x uses the same enum in its spec).
PLATFORMS = {0: "Unknown", 1: ".NET", 2: "Java", 3: "Mac", 4: "Android", 5: "Native", 6: "Bash",
             7: "Universal Orchestrator"}
DOTNET, UNIVERSAL = 1, "Universal Orchestrator"
# A Universal Orchestrator is AgentPlatform 7 in the 11.x documentation but 1 (".NET (Windows and Universal
# Orchestrators)") in the 24.4 documentation and a 25.4 recording; 10.x does not say. On 1 it is told from a
# Windows Orchestrator by what the server does say: its Version (the Windows Orchestrator ended at 8.7, Universal
# Orchestrators start at 9) or its Capabilities (a UO extension's store jobs: "CertStores.<type>.<job>").
FIRST_UNIVERSAL_MAJOR = 9
UNIVERSAL_CAPABILITY = "CertStores."
# AgentResponse.Status: 1 New, 2 Approved, 3 Disapproved; 4 is in the enum but undocumented.
STATUSES = {1: "New", 2: "Approved", 3: "Disapproved"}
APPROVED, DISAPPROVED = 2, 3
# The AgentResponse fields read here, by their kind in the 10.x document.
AGENT_FIELDS: answers.Fields = {
    "AgentId": "string", "ClientMachine": "string", "AgentPlatform": "integer", "Version": "string",
    "Status": "integer", "LastSeen": "string", "LastErrorCode": "integer", "LastErrorMessage": "string",
    "Capabilities": "list",
}
# A LastSeen this far in the future is not clock jitter: the zone of zone-less times is probably wrong.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Orchestrator:
    agent_id: str
    client_machine: str
    platform: str
    version: str
    status: int
    last_seen: dt.datetime | None
    last_seen_raw: Any
    error_code: int | None
    error_message: str | None

    @classmethod
    def from_api(cls, item: dict[str, Any], zoneless: dt.tzinfo) -> Orchestrator:
        status, code = item.get("Status"), item.get("LastErrorCode")
        return cls(
            agent_id=str(item.get("AgentId") or ""),
            client_machine=str(item.get("ClientMachine") or f"(no ClientMachine, AgentId {item.get('AgentId')})"),
            platform=platform_name(item),
            version=str(item.get("Version") or ""),
            status=status if isinstance(status, int) else 0,
            last_seen=parse_net_time(item.get("LastSeen"), zoneless),
            last_seen_raw=item.get("LastSeen"),
            error_code=code if isinstance(code, int) and code != 0 else None,
            error_message=(item.get("LastErrorMessage") or "").strip() or None,
        )

    @property
    def approved(self) -> bool:
        return self.status == APPROVED

    @property
    def status_name(self) -> str:
        return STATUSES.get(self.status, f"status {self.status} (undocumented)")

    @property
    def has_error(self) -> bool:
        return self.error_code is not None or self.error_message is not None

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        return None if self.last_seen is None else now - self.last_seen

    def seen(self, now: dt.datetime) -> str:
        if self.last_seen is None:
            return "never seen" if not self.last_seen_raw else f"last seen unreadable ({self.last_seen_raw!r})"
        age = now - self.last_seen
        return f"last seen {format_age(-age)} in the future" if age < dt.timedelta(0) else \
            f"last seen {format_age(age)} ago"

    def error(self) -> str:
        if not self.has_error:
            return "no error"
        code = f"error {self.error_code}" if self.error_code is not None else "error"
        return f"{code}: {self.error_message}" if self.error_message else code

    def describe(self, now: dt.datetime) -> str:
        """ClientMachine (platform, version, last seen as an age, status, last error): one offender."""
        version = self.version or "version unknown"
        return f"{self.client_machine} ({self.platform} {version}, {self.seen(now)}, {self.status_name}, " \
               f"{self.error()})"


def platform_name(item: dict[str, Any]) -> str:
    """The platform of an AgentResponse, a Universal Orchestrator recognised whichever number it is reported as."""
    code = item.get("AgentPlatform")
    if not isinstance(code, int) or isinstance(code, bool):
        return "Unknown"
    if code == DOTNET and _universal(str(item.get("Version") or ""), item.get("Capabilities")):
        return UNIVERSAL
    return PLATFORMS.get(code, f"platform {code}")


def _universal(version: str, capabilities: Any) -> bool:
    parts = version_parts(version)
    if parts and parts[0] >= FIRST_UNIVERSAL_MAJOR:
        return True
    return isinstance(capabilities, list) and any(
        isinstance(c, str) and c.startswith(UNIVERSAL_CAPABILITY) for c in capabilities)


def format_age(age: dt.timedelta) -> str:
    seconds = int(age.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes} min" if minutes else f"{seconds} s"


def fetch(client: KeyfactorClient, settings: OrchestratorsSection) -> list[Orchestrator]:
    """Every orchestrator the server knows, all pages (client.pages: by X-Total-Count, else until a short page)."""
    zoneless = time_zone(settings.zoneless_times)
    found = []
    for number, item in enumerate(client.pages(AGENTS, page_size=settings.page_size), start=1):
        answers.record(item, AGENT_FIELDS, f"GET {AGENTS}", f"orchestrator {number}")
        found.append(Orchestrator.from_api(item, zoneless))
    return found


@dataclass(frozen=True)
class Heartbeat:
    """The orchestrators that count (not ignored), judged against [orchestrators] at one moment."""

    orchestrators: Sequence[Orchestrator]
    settings: OrchestratorsSection
    now: dt.datetime

    @classmethod
    def of(cls, orchestrators: Iterable[Orchestrator], settings: OrchestratorsSection,
           now: dt.datetime | None = None) -> Heartbeat:
        patterns = [p.casefold() for p in settings.ignore]
        kept = [o for o in orchestrators if not any(fnmatchcase(o.client_machine.casefold(), p) for p in patterns)]
        return cls(kept, settings, now or dt.datetime.now(dt.UTC))

    @property
    def limit(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.settings.max_last_seen_minutes)

    def fresh(self, orchestrator: Orchestrator) -> bool:
        age = orchestrator.age(self.now)
        return age is not None and -FUTURE_TOLERANCE <= age <= self.limit

    def approved(self) -> list[Orchestrator]:
        return [o for o in self.orchestrators if o.approved]

    def stale(self) -> list[Orchestrator]:
        """Approved orchestrators not seen within max_last_seen_minutes (or seen implausibly far in the future)."""
        return [o for o in self.approved() if not self.fresh(o)]

    def in_the_future(self) -> bool:
        return any((o.age(self.now) or dt.timedelta(0)) < -FUTURE_TOLERANCE for o in self.approved())

    def expected_problems(self) -> list[str]:
        """One line per expected orchestrator that is missing, not approved, or not fresh."""
        by_name: dict[str, list[Orchestrator]] = {}
        for orchestrator in self.orchestrators:
            by_name.setdefault(orchestrator.client_machine.casefold(), []).append(orchestrator)
        problems = []
        for name in self.settings.expected:
            registered = by_name.get(name.casefold(), [])
            if any(o.approved and self.fresh(o) for o in registered):
                continue
            if not registered:
                near = difflib.get_close_matches(name.casefold(), list(by_name), n=1, cutoff=0.8)
                hint = f"; did you mean {by_name[near[0]][0].client_machine}?" if near else ""
                problems.append(f"{name} (not registered{hint})")
            else:
                problems += [o.describe(self.now) for o in registered]
        return problems

    def with_errors(self) -> list[Orchestrator]:
        """Orchestrators in service (not disapproved) whose last job or check-in reported an error."""
        return [o for o in self.orchestrators if o.status != DISAPPROVED and o.has_error]

    def below_minimum(self) -> list[tuple[Orchestrator, str]]:
        """Approved orchestrators older than their platform's minimum version, with that minimum."""
        minimums = self.minimums()
        found = []
        for orchestrator in self.approved():
            minimum = minimums.get(orchestrator.platform.casefold())
            if minimum and not _meets(orchestrator.version, minimum):
                found.append((orchestrator, minimum))
        return found

    def minimums(self) -> dict[str, str]:
        known = {name.casefold(): name for name in PLATFORMS.values()}
        minimums = {}
        for platform, version in self.settings.minimum_versions.items():
            if platform.casefold() not in known:
                raise ConfigError(f"[orchestrators.minimum_versions] \"{platform}\" is not an orchestrator platform "
                                  f"— use one of: {', '.join(repr(p) for p in PLATFORMS.values())}")
            minimums[platform.casefold()] = version
        return minimums


@functools.lru_cache(maxsize=1024)
def _meets(version: str, minimum: str) -> bool:
    """Thousands of orchestrators share a handful of versions: compare each pair once."""
    return bool(version_parts(version)) and version_at_least(version, minimum)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 orchestrator", "3 orchestrators"."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def offender_list(lines: Sequence[str], shown: int = 20) -> str:
    """Offenders for a one-line message: all of them, or the first `shown` and how many more are attached."""
    listed = "; ".join(lines[:shown])
    more = len(lines) - shown
    return listed + (f"; and {more} more (all listed in the attached table)" if more > 0 else "")


def table(orchestrators: Sequence[Orchestrator], now: dt.datetime) -> str:
    """A plain-text table of orchestrators for the report."""
    header = ("ClientMachine", "Platform", "Version", "Last seen", "Status", "Last error", "AgentId")
    rows = [header] + [(o.client_machine, o.platform, o.version or "?", o.seen(now), o.status_name, o.error(),
                        o.agent_id) for o in orchestrators]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
                     for row in rows)


class AgentListing:
    """GET /Agents, all pages, once per run: the first check that needs it pays for it, and when it fails the
    other orchestrator checks are skipped naming that cause."""

    def __init__(self, section: OrchestratorsSection) -> None:
        self.section = section
        self.heartbeat: Heartbeat | None = None
        self.prerequisite = Prerequisite("listing the orchestrators")

    def get(self, client: KeyfactorClient) -> Heartbeat:
        with self.prerequisite.attempt():
            if self.heartbeat is None:
                listed = fetch(client, self.section)
                self.heartbeat = Heartbeat.of(listed, self.section)
                evidence.note_fact("Orchestrators listed", len(listed))
                evidence.attach_text("Orchestrators (GET /Agents, all pages)", table(listed, self.heartbeat.now))
        return self.heartbeat
