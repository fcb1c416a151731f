"""Evidence for the report, and the one place that redacts it.

Everything that reaches reports/ or the console passes through `redact`: known secret values
(registered when they are read), Authorization headers, Kerberos tokens, PFX blobs and passwords,
connection-string passwords.
"""

from __future__ import annotations

import json
import re
from typing import Any

_secrets: set[str] = set()
facts: dict[str, str] = {}  # what the run learned about the server, for the report's environment table
for_a_person: list[str] = []  # what the suite cannot see from outside and a person must check, one line each

_PATTERNS = [
    (re.compile(r"(?i)\b(Authorization|Proxy-Authorization)(\"?\s*[:=]\s*\"?)(\w+)\s+[A-Za-z0-9+/=._~-]+"),
     r"\1\2\3 <redacted>"),
    (re.compile(r"(?i)\b(WWW-Authenticate\"?\s*[:=]\s*\"?Negotiate)\s+[A-Za-z0-9+/=]{16,}"), r"\1 <redacted>"),
    (re.compile(r"(?i)(\"(?:Pkcs12Blob|Password|ExplicitPassword|SecretValue)\"\s*:\s*)\"[^\"]*\""),
     r'\1"<redacted>"'),
    (re.compile(r"(?i)\b(PWD|Password)\s*=\s*(\{[^}]*\}|[^;]*)"), r"\1=<redacted>"),
    (re.compile(r"-----BEGIN (?:[A-Z ]*)PRIVATE KEY-----.*?-----END (?:[A-Z ]*)PRIVATE KEY-----", re.S),
     "<private key redacted>"),
]


def register_secret(value: str | None) -> None:
    """Remembers a secret value so that it is masked wherever it would appear."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    shown = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization", "cookie", "set-cookie"):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            shown[name] = f"{scheme} <redacted>".strip()
        elif lowered == "www-authenticate" and len(value) > 40:
            shown[name] = value.split(" ", 1)[0] + " <redacted token>"
        else:
            shown[name] = redact(value)
    return shown


def _allure() -> Any:
    try:
        import allure
    except ImportError:
        return None
    return allure


def title(text: str) -> None:
    """The check's title in the report: the sentence an auditor ticks."""
    allure = _allure()
    if allure:
        allure.dynamic.title(text)


def attach_text(name: str, text: str) -> None:
    allure = _allure()
    if allure:
        allure.attach(redact(text), name=name, attachment_type=allure.attachment_type.TEXT)


def attach_json(name: str, value: Any) -> None:
    allure = _allure()
    if allure:
        text = redact(json.dumps(value, indent=2, default=str))
        allure.attach(text, name=name, attachment_type=allure.attachment_type.JSON)


def attach_html(name: str, page: str) -> None:
    allure = _allure()
    if allure:
        allure.attach(redact(page), name=name, attachment_type=allure.attachment_type.HTML)


def attach_png(name: str, png: bytes) -> None:
    allure = _allure()
    if allure:
        allure.attach(png, name=name, attachment_type=allure.attachment_type.PNG)


def note_fact(name: str, value: object) -> None:
    facts[name] = redact(str(value))


def write_environment(results_dir: str, values: dict[str, str]) -> None:
    """Allure's environment.properties: the report's environment table."""
    import os

    os.makedirs(results_dir, exist_ok=True)
    lines = [f"{_escape(k)}={redact(str(v))}" for k, v in {**values, **facts}.items()]
    with open(os.path.join(results_dir, "environment.properties"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _escape(key: str) -> str:
    return key.replace(" ", "\\ ").replace("=", "\\=").replace(":", "\\:")


def note_for_a_person(line: str) -> None:
    """A step the suite cannot check from outside (the server's registry, the CA's policy module …), for the
    summary's "For a person" section."""
    if line not in for_a_person:
        for_a_person.append(line)
