"""Two baselines compared area by area: items matched by identity, never by position or database id; each change
named field by field (`template WebServer: TemplatePolicy.AllowWildcards true → false`). Items that differ are
found by their canonical JSON first, so the structural diff (DeepDiff) only runs on the few that changed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smoke.baseline import canonical
from smoke.baseline.document import Baseline, Item
from smoke.baseline.expected import Expectation

CHANGED, MISSING, ADDED = "changed", "missing", "added"


@dataclass(frozen=True)
class Change:
    area: str
    item: str  # the identity a person knows it by
    kind: str  # changed | missing | added
    path: str = ""  # the field, dotted: "TemplatePolicy.AllowWildcards"; "" for a whole item
    before: Any = None
    after: Any = None
    expected: str = ""  # why this change is expected, when it is

    @property
    def address(self) -> str:
        return f"{self.area}/{self.item}: {self.path}"

    def line(self) -> str:
        if self.kind == MISSING:
            text = f"{self.item}: missing (it was there before)"
        elif self.kind == ADDED:
            text = f"{self.item}: added"
        else:
            text = f"{self.item}: {self.path} {shown(self.before)} → {shown(self.after)}"
        return text + (f" (expected: {self.expected})" if self.expected else "")


@dataclass
class AreaComparison:
    area: str
    changes: list[Change] = field(default_factory=list)
    before_count: int = 0
    after_count: int = 0

    @property
    def unexpected(self) -> list[Change]:
        """What fails the area's check: a missing or changed item that no expectation covers."""
        return [c for c in self.changes if c.kind != ADDED and not c.expected]

    @property
    def unchanged(self) -> bool:
        return not self.changes

    def summary(self) -> str:
        counts = [f"{sum(c.kind == kind for c in self.changes)} {kind}" for kind in (CHANGED, MISSING, ADDED)
                  if any(c.kind == kind for c in self.changes)]
        expected = sum(bool(c.expected) for c in self.changes)
        if not counts:
            return f"{self.area}: unchanged ({self.after_count} items)"
        return f"{self.area}: " + ", ".join(counts) + (f" ({expected} expected)" if expected else "")


@dataclass
class Comparison:
    areas: dict[str, AreaComparison]
    expired: list[Expectation] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)  # areas only one of the two baselines holds

    @property
    def identical(self) -> bool:
        return all(area.unchanged for area in self.areas.values()) and not self.not_compared


def compare(before: Baseline, after: Baseline, expectations: Iterable[Expectation] = (),
            today: dt.date | None = None) -> Comparison:
    today = today or dt.date.today()
    expectations = list(expectations)
    active = [e for e in expectations if not e.expired(today)]
    areas = {}
    for name in sorted(set(before.areas) & set(after.areas)):
        areas[name] = compare_area(name, before.areas[name].items, after.areas[name].items, active)
    one_sided = sorted(set(before.areas) ^ set(after.areas))
    return Comparison(areas, [e for e in expectations if e.expired(today)], one_sided)


def compare_area(name: str, before: dict[str, Item], after: dict[str, Item],
                 expectations: list[Expectation] = ()) -> AreaComparison:  # type: ignore[assignment]
    found = AreaComparison(name, before_count=len(before), after_count=len(after))
    for identity in sorted(before.keys() - after.keys()):
        found.changes.append(Change(name, identity, MISSING, before=before[identity]))
    for identity in sorted(before.keys() & after.keys()):
        old, new = before[identity], after[identity]
        if canonical.compact(old) != canonical.compact(new):
            found.changes += [Change(name, identity, CHANGED, path, was, now)
                              for path, was, now in field_changes(old, new)]
    for identity in sorted(after.keys() - before.keys()):
        found.changes.append(Change(name, identity, ADDED, after=after[identity]))
    found.changes = [_with_expectation(change, expectations) for change in found.changes]
    return found


def field_changes(before: Item, after: Item) -> list[tuple[str, Any, Any]]:
    """(dotted path, before, after) for each leaf that differs; a field present on one side only is ABSENT on the
    other."""
    from deepdiff import DeepDiff  # only when something changed: it takes a tenth of a second to import

    diff = DeepDiff(before, after, verbose_level=2, threshold_to_diff_deeper=0)
    found = []
    for levels in diff.tree.values():
        for level in levels:
            parts = level.path(output_format="list")
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
            found.append((path, _present(level.t1), _present(level.t2)))
    return sorted(found, key=lambda change: change[0])


class _Absent:
    """A field or list entry that one side does not have (unlike a field that holds null)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


def _present(value: Any) -> Any:
    return ABSENT if type(value).__name__ == "NotPresent" else value


def _with_expectation(change: Change, expectations: list[Expectation]) -> Change:
    for expectation in expectations:
        if expectation.matches(change.kind, change.address, change.before):
            return Change(change.area, change.item, change.kind, change.path, change.before, change.after,
                          f"{expectation.justification} — {expectation.source}")
    return change


def shown(value: Any, limit: int = 80) -> str:
    """A value as the comparison shows it: JSON (true, null, "text"), cut to `limit` characters."""
    text = "(absent)" if value is ABSENT else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
