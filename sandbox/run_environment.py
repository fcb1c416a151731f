"""The run's environment file: the sections of the environment that started the sandbox (environments/sandbox.toml
unless told otherwise), with what only exists at run time written over them.

One source for both ways of running: `pytest --env sandbox` starts the sandbox with its own file, and a newcomer's
`python -m sandbox` uses environments/sandbox.toml; either way the file written here runs every check that file
configures, so `pytest --env <written file>` skips nothing as "not configured". The [sandbox] section stays
behind: the written file points at a running sandbox, it does not start one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).resolve().parents[1] / "environments" / "sandbox.toml"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def complete(run_time: str, environment: Path | None) -> str:
    """`run_time` (TOML text, comments first) over `environment`'s sections, as TOML text."""
    if environment is None:
        return run_time
    with environment.open("rb") as handle:
        base = tomllib.load(handle)
    base.pop("sandbox", None)
    comments = [line for line in run_time.splitlines() if line.startswith("#")]
    comments.append(f"# Sections from {environment}, with this run's values written over them.")
    return "\n".join(comments) + "\n" + dumps(merge(base, tomllib.loads(run_time)))


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        both_tables = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = merge(merged[key], value) if both_tables else value
    return merged


def dumps(table: dict[str, Any]) -> str:
    """TOML for what environment files hold: tables, strings, numbers, booleans, dates, lists (of inline tables)."""
    lines: list[str] = []
    _table(lines, [], table)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    if path:
        lines += ["", "[" + ".".join(_key(part) for part in path) + "]"]
    lines += [f"{_key(key)} = {_value(value)}" for key, value in table.items() if not isinstance(value, dict)]
    for key, value in table.items():
        if isinstance(value, dict):
            _table(lines, [*path, key], value)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes, without JSON's surrogate pairs, and DEL escaped as TOML wants."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(key)} = {_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")
