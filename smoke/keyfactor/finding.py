"""What one revocation answer showed: fine, or what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    ok: bool
    detail: str  # what was found, or the cause
    fix: str = ""
