"""What goes on the ticket from one run: its single-file HTML report, its summary, and their names there.

    reports/<env>/<run>.html        attached as <run>.html (or, where .html is refused, inside <run>.zip)
    reports/<env>/<run>/summary.md  attached as <run>-summary.txt (plain text: allowed where .md is not)

`latest.html` is attached under the name of the run it is a copy of, so two runs never share a name.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from smoke.ground.errors import ConfigError

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
ZIP = "application/zip"


@dataclass(frozen=True)
class ReportFiles:
    name: str  # the run: 20250127-093215-CHG0012345
    html: Path | None
    summary: Path | None

    @classmethod
    def of_run(cls, name: str, html: Path, summary: Path) -> ReportFiles:
        return cls(name, html if html.is_file() else None, summary if summary.is_file() else None)

    @classmethod
    def of_path(cls, path: Path) -> ReportFiles:
        """A report named on the command line: reports/<env>/<run>.html, latest.html, or a run folder."""
        if path.is_dir():
            return cls.of_run(path.name, path.parent / f"{path.name}.html", path / "summary.md")
        if not path.is_file():
            raise ConfigError(f"{path}: no such report — name reports/<env>/<run>.html, reports/<env>/latest.html or "
                              "a run folder")
        name = path.stem
        if name == "latest":
            name = _copied_from(path) or name
        summary = path.parent / name / "summary.md"
        if not summary.is_file() and path.stem == "latest":
            summary = path.parent / "latest-summary.md"
        return cls(name, path, summary if summary.is_file() else None)

    @property
    def html_name(self) -> str:
        return f"{self.name}.html"

    @property
    def summary_name(self) -> str:
        return f"{self.name}-summary.txt"

    @property
    def zip_name(self) -> str:
        return f"{self.name}.zip"

    def zipped(self) -> bytes:
        """The HTML report inside a .zip, for instances that refuse .html attachments."""
        assert self.html is not None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(self.html, self.html_name)
        return buffer.getvalue()

    def summary_text(self) -> str | None:
        return self.summary.read_text(encoding="utf-8") if self.summary else None

    @property
    def by_hand(self) -> Path | None:
        """What a person attaches when the suite could not."""
        return self.html or self.summary


def _copied_from(latest: Path) -> str | None:
    """The run whose report latest.html is a copy of."""
    content = latest.read_bytes()
    for candidate in sorted(latest.parent.glob("*.html"), reverse=True):
        if candidate != latest and candidate.stat().st_size == len(content) and candidate.read_bytes() == content:
            return candidate.stem
    return None
