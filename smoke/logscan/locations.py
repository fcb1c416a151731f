"""The log folders an environment names, looked at once per run: a missing or unreadable one fails the first
check that reads the logs, and the others are skipped naming that cause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smoke.ground.errors import ConfigError
from smoke.ground.prerequisites import Prerequisite
from smoke.logscan.clock import LogClock
from smoke.logscan.files import discover


class LogLocations:
    def __init__(self, section: Any, environment_file: Path) -> None:
        self.section = section  # the environment's [logs]
        self.environment_file = environment_file
        self.prerequisite = Prerequisite("reading the log folders")
        self.checked = False

    def paths(self) -> list[str]:
        with self.prerequisite.attempt():
            if not self.checked:
                if not self.section.paths:
                    raise ConfigError(f"[logs] paths is empty in {self.environment_file} — list the Keyfactor log "
                                      "folders, e.g. paths = ['\\\\kf01\\c$\\Keyfactor\\logs'] on Windows "
                                      'or a CIFS mount such as ["/mnt/kf-logs"] on Linux')
                discover(self.section.paths)
                self.checked = True
        return list(self.section.paths)

    @property
    def clock(self) -> LogClock:
        return LogClock.parse(self.section.timezone)
