"""Items made comparable: what changes by itself (last seen, counters, next run times) left out, secrets kept only
as "set" / "not set", nested lists keyed by what identifies their entries, lists of plain values sorted — so that
two readings of an unchanged server give the same canonical JSON."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

SET, NOT_SET = "(set)", "(not set)"


def normalise(item: Mapping[str, Any], drop: Collection[str] = (), secrets: Collection[str] = (),
              keyed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`drop` and `secrets` name fields at any depth; `keyed` maps a list field to the key of its entries
    (`{"Steps": "UniqueName"}`): such a list becomes an object, so a change reads `Steps.Approve.Signals…`."""
    return _walk(item, set(drop), set(secrets), dict(keyed or {}))


def _walk(value: Any, drop: set[str], secrets: set[str], keyed: dict[str, str]) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for name, inner in value.items():
            if name in drop:
                continue
            if name in secrets:
                out[name] = SET if _present(inner) else NOT_SET
            elif name in keyed and isinstance(inner, list) and all(isinstance(e, Mapping) for e in inner):
                entries: dict[str, Any] = {}
                for number, entry in enumerate(inner):
                    entries[_unique(entries, _key(entry, keyed[name], number))] = _walk(entry, drop, secrets, keyed)
                out[name] = entries
            else:
                out[name] = _walk(inner, drop, secrets, keyed)
        return out
    if isinstance(value, list):
        walked = [_walk(entry, drop, secrets, keyed) for entry in value]
        if all(isinstance(entry, str | int | float | bool) or entry is None for entry in walked):
            return sorted(walked, key=lambda entry: (str(type(entry)), str(entry)))
        return walked
    return value


def _key(entry: Mapping[str, Any], field: str, number: int) -> str:
    value = entry.get(field)
    return str(value) if value not in (None, "") else f"#{number}"


def _unique(entries: Mapping[str, Any], key: str) -> str:
    """Entries that share a key (two PDF schedules of one report) are all kept: "PDF", "PDF (2)"."""
    number, found = 1, key
    while found in entries:
        number += 1
        found = f"{key} ({number})"
    return found


def _present(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_present(v) for v in value.values())
    return value not in (None, "", [], 0, False)
