"""Reading environment files: finding environments/<name>.toml, reading its TOML, and turning a value the
models refuse into one line naming the file, the [section] key and what was expected. The models themselves:
smoke/ground/sections.py and each wing's sections; the whole file: smoke/run/environment.py."""

from __future__ import annotations

import stat
import tomllib
from difflib import get_close_matches
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from smoke.ground.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)

ENVIRONMENTS_DIR = Path(__file__).resolve().parents[2] / "environments"


def available() -> list[str]:
    return sorted(p.stem for p in ENVIRONMENTS_DIR.glob("*.toml"))


def resolve(env: str) -> tuple[str, Path]:
    """`--env NAME` → environments/NAME.toml; `--env path/to/file.toml` → that file."""
    candidate = Path(env)
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        return candidate.stem, candidate
    path = ENVIRONMENTS_DIR / f"{env}.toml"
    if not path.is_file():
        found = ", ".join(available()) or "none"
        raise ConfigError(f"--env {env}: no environments/{env}.toml; environments found: {found}")
    return env, path


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a file ("does not exist", "is a directory"…); None when it can."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return "does not exist"
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    return None if stat.S_ISREG(mode) else "is a pipe or a device, not a file"


def read_toml(path: Path) -> dict[str, Any]:
    problem = file_problem(path)
    if problem and problem != "does not exist":
        raise ConfigError(f"{path}: {problem} — pass --env NAME or --env path/to/file.toml")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found — pass --env NAME or --env path/to/file.toml") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}) — check the path and its permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc} — fix the file's syntax") from None


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate(model: type[ModelT], path: Path, raw: dict[str, Any]) -> ModelT:
    """The raw TOML table as `model`, or one ConfigError line for its first problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe(model, path, exc)) from None


_EXPECTED = {
    "string_type": "expected a string (in quotes)",
    "float_type": "expected a number",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "list_type": "expected a list, e.g. [\"a\", \"b\"]",
    "model_type": "expected a section (a [table])",
    "dict_type": "expected a section (a [table])",
}

_EXAMPLES = {
    ("command", "url"): 'url = "https://keyfactor.corp.example.com"',
}


def describe(model: type[BaseModel], path: Path, exc: ValidationError) -> str:
    """The first problem, as one line: file, [section] key, what was expected."""
    problem = exc.errors()[0]
    loc = [str(part) for part in problem["loc"]]
    section, key = (loc[0], ".".join(loc[1:])) if len(loc) > 1 else ("", loc[0] if loc else "")
    where = f"[{section}] {key}" if section else key
    kind = problem["type"]
    if kind == "extra_forbidden" and not section:
        text = f"[{key}]: unknown section (known sections: {', '.join(_known_keys(model, []))})"
    elif kind == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        hint = get_close_matches(loc[-1], known, n=1)
        suggestion = f" (did you mean {hint[0]}?)" if hint else f" (known: {', '.join(known)})"
        text = f"{where}: unknown key{suggestion}"
    elif kind == "missing":
        example = _EXAMPLES.get((section, key))
        text = f"{where} is required" + (f", e.g. {example}" if example else "")
        if not section:
            text = f"[{key}] section is required"
    else:
        expected = _EXPECTED.get(kind) or problem["msg"].removeprefix("Value error, ")
        text = f"{where} = {_shown(problem.get('input'))}: {expected}"
    more = len(exc.errors()) - 1
    return f"{path}: {text}" + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict) else "{…}"
    return text if len(text) <= 60 else text[:57] + "..."


def _known_keys(top: type[BaseModel], loc: list[str]) -> list[str]:
    model: Any = top
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return [k for k in model.model_fields if k not in ("name", "path")]
