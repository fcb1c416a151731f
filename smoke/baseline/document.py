"""A baseline: the server's configuration as canonical JSON, one file per baseline.

The content holds only what was read from the server, so that two baselines of an unchanged server are
byte-identical and diffable with any tool; when and by which run it was taken goes into the file name and a
small sidecar (`<name>.meta.json`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smoke.baseline import canonical
from smoke.baseline.errors import BaselineError

FORMAT = "keyfactor-smoke-baseline"
VERSION = 1
_STAMP = re.compile(r"-(\d{8}-\d{6})$")

Item = dict[str, Any]


@dataclass
class Area:
    """One area of the configuration: its items by the identity a person knows them by."""

    source: str  # where it was read, e.g. "GET /Templates, GET /Templates/{id}"
    items: dict[str, Item] = field(default_factory=dict)


@dataclass
class Baseline:
    environment: str
    server: str
    areas: dict[str, Area] = field(default_factory=dict)

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "environment": self.environment,
            "server": self.server,
            "areas": {name: {"source": area.source, "items": area.items} for name, area in self.areas.items()},
        }
        return canonical.dumps(document)

    def save(self, folder: Path, stamp: str, meta: dict[str, str]) -> Path:
        """Writes `<environment>-<stamp>.json` and its sidecar; the newest baseline is the newest stamp."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.environment}-{stamp}.json"
        path.write_bytes(self.to_json())
        path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n",
                                                  encoding="utf-8")
        return path


def load(path: Path) -> Baseline:
    """A baseline file, or one line saying why it cannot be one."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BaselineError(f"baseline {path}: file not found — take one with pytest --env <env> --baseline, or "
                            "name an existing file") from None
    except IsADirectoryError:
        raise BaselineError(f"baseline {path}: is a directory — name a baseline file (<env>-<time>.json)") from None
    except OSError as exc:
        raise BaselineError(f"baseline {path}: cannot be read ({exc}) — check the path and its permissions") from None
    if not data.strip():
        raise BaselineError(f"baseline {path}: the file is empty — take the baseline again")
    try:
        document = canonical.loads(data)
    except UnicodeDecodeError:
        raise BaselineError(f"baseline {path}: not UTF-8 text, so not a baseline of this suite — name a file "
                            "written by pytest --baseline") from None
    except json.JSONDecodeError as exc:
        where = "it ends early (truncated?)" if exc.pos >= len(exc.doc.rstrip()) else f"line {exc.lineno}: {exc.msg}"
        raise BaselineError(f"baseline {path}: not valid JSON, {where} — take the baseline again") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BaselineError(f"baseline {path}: not a baseline of this suite (no \"format\": \"{FORMAT}\") — "
                            "name a file written by pytest --baseline")
    version = document.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise BaselineError(f"baseline {path}: format version {version!r} is newer than this suite understands "
                            f"({VERSION}) — compare it with the suite version that took it, or upgrade the suite")
    try:
        areas = {name: Area(str(area["source"]), _items(area["items"]))
                 for name, area in document["areas"].items()}
        return Baseline(str(document["environment"]), str(document["server"]), areas)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise BaselineError(f"baseline {path}: its content is damaged ({type(exc).__name__}: {exc}) — take the "
                            "baseline again") from None


def _items(items: Any) -> dict[str, Item]:
    if not isinstance(items, dict) or not all(isinstance(v, dict) for v in items.values()):
        raise ValueError("items must map identities to objects")
    return items


def stamp_of(path: Path) -> str:
    found = _STAMP.search(path.stem)
    return found.group(1) if found else ""


def newest(folder: Path, environment: str) -> Path | None:
    """The newest baseline of `environment` in `folder` (by the time in its name), or None."""
    candidates = [p for p in folder.glob(f"{environment}-*.json")
                  if not p.name.endswith(".meta.json") and stamp_of(p)]
    return max(candidates, key=stamp_of, default=None)


def meta_of(path: Path) -> dict[str, str]:
    """The sidecar's facts (taken at, run, suite version), empty when there is none."""
    try:
        found = json.loads(path.with_suffix(".meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
