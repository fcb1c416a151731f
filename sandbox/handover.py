"""What a started part of the sandbox hands the run: environment-file lines, variables, notes, how to stop it.

The parts (the log folder, the SQL endpoint…) are started by app.py and never see the app: each returns a
Handover, and the app gathers them into the handshake and the environment file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Handover:
    toml: list[str] = field(default_factory=list)  # lines for the run's environment file: never a secret
    environ: dict[str, str] = field(default_factory=dict)  # variables for the suite's process: secrets go here
    notes: list[str] = field(default_factory=list)  # what the sandbox says about this part when it starts
    stop: Callable[[], None] | None = None
