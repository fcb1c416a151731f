"""What the configuration's parts share: stable GUIDs, Keyfactor schedules, the forests, and the secrets the
sandbox hands out (fresh at every start, so that a baseline that leaked one could not match the next)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..inventory import PARTNER_FOREST
from ..templates import FOREST

LAB_FOREST = "lab.example.org"
FORESTS = (FOREST, PARTNER_FOREST, LAB_FOREST)
DOMAINS = {FOREST: "CORP", PARTNER_FOREST: "PARTNER", LAB_FOREST: "LAB"}
EXTENSION_LIBRARY = "C:\\Program Files\\Keyfactor\\Keyfactor Platform\\ExtensionLibrary\\"
MOVED_SCRIPT = "C:\\Scripts\\notify.ps1"  # alert-handler-moved: a copy someone left outside the library

_NAMESPACE = uuid.UUID("2f4c6a1e-9b3d-4e7f-8a21-5c0d9e8b7a63")


def guid(*parts: object) -> str:
    """The same GUID for the same item at every start (uuid5 of its kind and name)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def _at(hour: int, minute: int = 0) -> str:
    return f"2023-01-01T{hour:02d}:{minute:02d}:00Z"


def every(minutes: int) -> dict[str, Any]:
    return {"Interval": {"Minutes": minutes}}


def daily(hour: int, minute: int = 0) -> dict[str, Any]:
    return {"Daily": {"Time": _at(hour, minute)}}


def weekly(days: list[int], hour: int) -> dict[str, Any]:
    return {"Weekly": {"Days": days, "Time": _at(hour)}}


def monthly(day: int, hour: int) -> dict[str, Any]:
    return {"Monthly": {"Day": day, "Time": _at(hour)}}


@dataclass
class Secrets:
    """Every secret value the configuration answers with; self-tests look for them where they must not be."""

    values: list[str] = field(default_factory=list)

    def new(self) -> str:
        value = secrets.token_urlsafe(18)
        self.values.append(value)
        return value
