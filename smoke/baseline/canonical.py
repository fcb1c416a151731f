"""Canonical JSON for baselines: keys sorted, two-space indent, UTF-8, so that the same configuration gives the same
bytes. orjson writes and reads it when it imports (a dependency: see pyproject); the standard library's json module
otherwise, with the same layout (floats aside, which a configuration rarely holds): a baseline of the large sandbox
is 54 MB, which the json module's indenting encoder writes in seconds and with several times its size in memory."""

from __future__ import annotations

import json
from typing import Any

from smoke.ground.collector import no_cycle_collection

try:
    import orjson
except ImportError:  # a platform without an orjson wheel
    orjson = None  # type: ignore[assignment]

ENCODER = "orjson" if orjson is not None else "json"


def dumps(value: Any) -> bytes:
    """The file form, ending in a newline."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:  # an integer beyond 64 bits: the json module writes it
            pass
    return dumps_without_orjson(value)


def dumps_without_orjson(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def compact(value: Any) -> bytes:
    """One line, keys sorted: equal for equal values of equal types (unlike ==, where true == 1)."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> Any:
    """The parsed document; json.JSONDecodeError (with its position) when it is not JSON."""
    with no_cycle_collection():  # parsed JSON holds no cycles
        return _loads(data)


def _loads(data: bytes) -> Any:
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the json module says where, in the terms its callers know
    return json.loads(data.decode("utf-8"))
