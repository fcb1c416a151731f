"""What a scan found, as plain data the check (or the command line) turns into a message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .clock import Window
from .errors import BadWaiverError

_TIME = "%Y-%m-%d %H:%M:%S"
SUMMARY_GROUPS = 3


@dataclass(frozen=True)
class Waiver:
    """A known error accepted for now: `pattern` is searched in "<logger> <message>" of each entry.

    Valid through `expires` (inclusive); after that it no longer applies and the result lists it as
    expired, so the report can say so and the errors count again.
    """

    pattern: str
    justification: str
    expires: date | None = None  # also accepted: "2026-12-31", or a datetime (its date is used)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expires", _as_date(self.expires, self.pattern))
        if not self.justification.strip():
            raise BadWaiverError(
                f"logs: waiver {self.pattern!r} has no justification"
                " — say why the error is acceptable in its justification in [[logs.waivers]]"
            )
        try:
            object.__setattr__(self, "regex", re.compile(self.pattern))
        except re.error as exc:
            raise BadWaiverError(
                f"logs: waiver pattern {self.pattern!r} is not a valid regular expression ({exc})"
                " — fix its pattern in [[logs.waivers]]"
            ) from None

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, logger: str, message: str) -> bool:
        return self.regex.search(f"{logger} {message}") is not None

    def describe(self) -> str:
        until = f", expires {self.expires.isoformat()}" if self.expires else ""
        return f"{self.pattern!r} ({self.justification}{until})"


def _as_date(value: object, pattern: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadWaiverError(
            f"logs: waiver {pattern!r} expires {value!r}, which is not a date like 2026-12-31"
            " — fix its expires in [[logs.waivers]]"
        ) from None


@dataclass
class FindingGroup:
    """Entries with the same logger and message signature. `message`, `first` and `excerpt` come from
    the earliest entry (its continuation lines included in the excerpt)."""

    logger: str
    signature: str
    level: str  # the most severe seen
    message: str
    count: int
    first: datetime
    last: datetime
    files: list[Path]
    excerpt: str = ""
    waiver: Waiver | None = None  # set on waived groups
    expired_waiver: Waiver | None = None  # an expired waiver that would have matched

    def to_dict(self) -> dict[str, Any]:
        return {
            "logger": self.logger,
            "level": self.level,
            "signature": self.signature,
            "message": self.message,
            "count": self.count,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "files": [str(path) for path in self.files],
            "excerpt": self.excerpt,
            "waiver": _waiver_dict(self.waiver),
            "expired_waiver": _waiver_dict(self.expired_waiver),
        }


@dataclass
class FileScan:
    """One file: the byte range read (start..end), or why it was skipped."""

    path: Path
    size: int
    start: int = 0
    end: int = 0
    entries: int = 0  # error entries in the window (waived ones included)
    skipped: str | None = None

    @property
    def bytes_read(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "start": self.start,
            "end": self.end,
            "entries": self.entries,
            "skipped": self.skipped,
        }


@dataclass
class ScanResult:
    window: Window
    files: list[FileScan]
    groups: list[FindingGroup]  # not waived: these fail the check
    waived: list[FindingGroup]
    expired_waivers: list[Waiver]
    notes: list[str] = field(default_factory=list)  # things worth saying that are not errors

    @property
    def window_start(self) -> datetime:
        return self.window.start

    @property
    def window_end(self) -> datetime | None:
        return self.window.end

    @property
    def clean(self) -> bool:
        return not self.groups

    @property
    def entries(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def scanned_files(self) -> list[FileScan]:
        return [scan for scan in self.files if scan.skipped is None]

    def summary_line(self) -> str:
        """One line for the check's assertion message."""
        if self.clean:
            line = f"no errors {self.window.describe()} in {_plural(len(self.scanned_files), 'file')}"
        else:
            files = {path for group in self.groups for path in group.files}
            shown = "; ".join(
                f'{short_logger(g.logger)} x{g.count} "{_shorten(g.message, 60)}"' for g in self.groups[:SUMMARY_GROUPS]
            )
            more = len(self.groups) - SUMMARY_GROUPS
            line = (
                f"{_plural(len(self.groups), 'error group')} ({_plural(self.entries, 'entry', 'entries')})"
                f" {self.window.describe()} in {_plural(len(files), 'file')}: {shown}"
                + (f"; +{more} more" if more > 0 else "")
            )
        if self.waived:
            waived = sum(group.count for group in self.waived)
            line += f" ({_plural(len(self.waived), 'waived group')}, {_plural(waived, 'entry', 'entries')})"
        for waiver in self.expired_waivers:
            line += f"; waiver {waiver.pattern!r} expired on {waiver.expires}, evaluating normally"
        return line

    def format_text(self) -> str:
        """The human report the command line prints."""
        out = [f"window: {self.window.describe()}" + (f" ({self.window.source})" if self.window.source else "")]
        read = sum(scan.bytes_read for scan in self.scanned_files)
        size = sum(scan.size for scan in self.files)
        skipped = len(self.files) - len(self.scanned_files)
        out.append(
            f"files: {len(self.scanned_files)} read ({_size(read)} of {_size(size)})"
            + (f", {skipped} skipped" if skipped else "")
        )
        out.extend(f"note: {note}" for note in self.notes)
        out.append(self.summary_line())
        for title, groups in (("", self.groups), ("waived", self.waived)):
            if groups and title:
                out.append(f"{title}:")
            for number, group in enumerate(groups, 1):
                out.append("")
                out.append(
                    f"[{number}] {group.level} x{group.count}  {_stamp(group.first)} .. {_stamp(group.last)}"
                    f"  {group.logger}"
                )
                out.append(f"    files: {', '.join(str(path) for path in group.files)}")
                if group.waiver:
                    out.append(f"    waived by {group.waiver.describe()}")
                if group.expired_waiver:
                    out.append(f"    waiver {group.expired_waiver.pattern!r} expired on {group.expired_waiver.expires}")
                out.extend(f"    | {line}" for line in group.excerpt.splitlines())
        for waiver in self.expired_waivers:
            out.append(f"expired waiver: {waiver.describe()}")
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {
                "start": self.window.start.isoformat(),
                "end": self.window.end.isoformat() if self.window.end else None,
                "source": self.window.source,
            },
            "summary": self.summary_line(),
            "clean": self.clean,
            "files": [scan.to_dict() for scan in self.files],
            "groups": [group.to_dict() for group in self.groups],
            "waived": [group.to_dict() for group in self.waived],
            "expired_waivers": [_waiver_dict(waiver) for waiver in self.expired_waivers],
            "notes": self.notes,
        }


def _stamp(time: datetime) -> str:
    """As NLog writes it: 2022-12-07 01:45:00.1234"""
    return f"{time:{_TIME}}.{time.microsecond // 100:04d}"


def short_logger(logger: str) -> str:
    """Keyfactor.Sql.Management.Upgrade.UpgradePlan -> Keyfactor.Sql...UpgradePlan"""
    parts = logger.split(".")
    return logger if len(parts) <= 3 else f"{parts[0]}.{parts[1]}...{parts[-1]}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _waiver_dict(waiver: Waiver | None) -> dict[str, Any] | None:
    if waiver is None:
        return None
    return {
        "pattern": waiver.pattern,
        "justification": waiver.justification,
        "expires": waiver.expires.isoformat() if waiver.expires else None,
    }
