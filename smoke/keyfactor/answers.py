"""The API's answers read as the 10.x document promises them. The checks read every field through here, so that an
answer of another shape — a list for an object, a number for a string — is one line saying what was expected and
what came, never an AttributeError. Absent and null fields are allowed (the document marks nothing required); what
a check needs beyond that it says itself. Knows nothing of pytest."""

from __future__ import annotations

import json
from typing import Any

from smoke.ground.errors import ApiUnexpectedAnswer

# The JSON kinds the 10.x document uses, as a check asks for them.
KINDS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "list": (list,),
}
Fields = dict[str, str]  # field name -> one of KINDS


def describe(value: Any) -> str:
    """What came, briefly: "a number (42)", "a list of 3", "an object with Id, Name"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r}{'…' if len(value) > 40 else ''})"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        keys = ", ".join(list(map(str, value))[:4]) + (", …" if len(value) > 4 else "")
        return f"an object with {keys}" if value else "an empty object"
    return type(value).__name__


def unexpected(where: str, what: str, expected: str, value: Any) -> ApiUnexpectedAnswer:
    return ApiUnexpectedAnswer(f"{where}: {what} is {describe(value)}, not {expected} as the 10.x API documents — "
                               "something other than Keyfactor Command answers there, or its API changed: check "
                               "[command] api_path and what answers at that address")


def is_kind(value: Any, kind: str) -> bool:
    if kind == "integer" and isinstance(value, bool):
        return False  # JSON true is no number, though Python's bool is an int
    return isinstance(value, KINDS[kind])


def expect(value: Any, kind: str, where: str, what: str = "the answer") -> Any:
    """`value` when it is of `kind`, else ApiUnexpectedAnswer naming both."""
    if not is_kind(value, kind):
        raise unexpected(where, what, _article(kind), value)
    return value


def obj(value: Any, where: str, what: str = "the answer") -> dict[str, Any]:
    return dict(expect(value, "object", where, what))


def items(value: Any, where: str, what: str = "the answer") -> list[Any]:
    return list(expect(value, "list", where, what))


def record(value: Any, fields: Fields, where: str, what: str = "the answer") -> dict[str, Any]:
    """An object whose `fields`, where present and not null, are of their kind."""
    found = obj(value, where, what)
    for name, kind in fields.items():
        field(found, name, kind, where, what)
    return found


def records(value: Any, fields: Fields, where: str, what: str = "item") -> list[dict[str, Any]]:
    """A list of such objects, each named by its position ("item 3") when one is not."""
    listed = items(value, where, f"the list of {what}s" if what != "item" else "the answer")
    return [record(item, fields, where, f"{what} {number}") for number, item in enumerate(listed, start=1)]


def field(found: dict[str, Any], name: str, kind: str, where: str, what: str = "the answer") -> Any:
    """found[name] when absent, null or of `kind`; ApiUnexpectedAnswer otherwise."""
    value = found.get(name)
    if value is not None and not is_kind(value, kind):
        raise unexpected(where, name if what == "the answer" else f"{name} of {what}", _article(kind), value)
    return value


def _article(kind: str) -> str:
    return {"integer": "an integer", "object": "an object", "list": "a list"}.get(kind, f"a {kind}")
