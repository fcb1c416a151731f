"""Text as the portal checks show it: one line, however the browser or the page wrote it."""

from __future__ import annotations


def one_line(text: str) -> str:
    return " ".join(text.split())
