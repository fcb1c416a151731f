"""The vendor's OpenAPI document (API v1, 10.x era), for validating what the sandbox answers."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator

# A copy of shared/keyfactor-openapi/openapi.yaml (Apache-2.0; provenance in keyfactor-openapi.SOURCE.md), kept
# in the repository so that the self-tests run on a fresh clone.
SPEC = Path(os.environ.get("KEYFACTOR_OPENAPI", Path(__file__).resolve().parent / "data" / "keyfactor-openapi.yaml"))


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    with SPEC.open() as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's operation for a concrete path such as /Certificates/12 (matched against its templates; a path
    the spec names as it is, such as /Reports/Custom, before a template that would match it, /Reports/{id})."""
    paths = spec()["paths"]
    exact = next((p for p in paths if p.lower() == path.lower() and method.lower() in paths[p]), None)
    if exact:
        return exact, paths[exact][method.lower()]
    for template, item in paths.items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path, re.IGNORECASE) and method.lower() in item:
            return template, item[method.lower()]
    raise LookupError(f"{method} {path} is not in the OpenAPI document")


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Schema violations of `body` as the answer to `method path` with `status` (empty when it conforms)."""
    _, op = operation(method, path)
    response = op["responses"].get(str(status))
    if response is None:
        return [f"status {status} is not documented for {method} {path} (documented: {sorted(op['responses'])})"]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return [] if body in (None, b"", "") else [f"{method} {path} {status} documents no JSON body"]
    return schema_errors(content["schema"], body)


def required_headers(method: str, path: str) -> set[str]:
    _, op = operation(method, path)
    return {p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header" and p.get("required")}


def component_errors(name: str, value: Any) -> list[str]:
    """Schema violations of `value` against the spec's component schema `name` (one the paths may not use)."""
    return schema_errors({"$ref": f"#/components/schemas/{name}"}, value)


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """Violations of `value` against an OpenAPI 3.0 schema, which may refer to the spec's components."""
    validator = OAS30Validator({**schema, "components": spec()["components"]})
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(value)]
