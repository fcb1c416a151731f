"""`[baseline] files`: files the installer may overwrite (NLog configuration, Logi's _Settings.lgx, the portal's
Banner.png, extension handler scripts, web.config), kept as a content hash and, for text, the lines — passed
through the suite's redaction, so a connection string's password never lands in a baseline."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from smoke.baseline.errors import BaselineError
from smoke.ground import evidence

MAX_TEXT_BYTES = 2_000_000  # larger files are kept as a hash only


def snapshot(entries: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each configured file (or every file below a configured folder), by its path as configured."""
    items: dict[str, dict[str, Any]] = {}
    for entry in entries:
        root = Path(entry)
        try:
            info = root.stat()
        except FileNotFoundError:
            continue  # not there: the comparison names it as missing when it was there before
        except OSError as exc:
            raise BaselineError(f"[baseline] files: {entry} cannot be read ({exc.strerror}) — check the share or "
                                "mount and the account's permissions") from None
        if stat.S_ISDIR(info.st_mode):
            for folder, _, names in sorted(os.walk(root)):
                for name in sorted(names):
                    path = Path(folder, name)
                    items[_shown(entry, path.relative_to(root))] = _file(path)
        elif stat.S_ISREG(info.st_mode):
            items[entry] = _file(root)
        else:
            raise BaselineError(f"[baseline] files: {entry} is not a file or folder — list files or folders")
    return items


def _file(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BaselineError(f"[baseline] files: {path} cannot be read ({exc.strerror}) — check its permissions") \
            from None
    item: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    text = _text(data) if len(data) <= MAX_TEXT_BYTES else None
    if text is not None:
        redacted = evidence.redact(text)
        item["lines"] = redacted.splitlines()
        if redacted != text:  # the hash would betray nothing, but say why lines and hash disagree
            item["redacted"] = True
    return item


def _text(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _shown(entry: str, relative: Path) -> str:
    separator = "\\" if "\\" in entry else "/"
    return entry.rstrip("\\/") + separator + separator.join(relative.parts)
