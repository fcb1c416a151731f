"""Where the level tags (`[Error]`, `[Fatal]`) are in a buffer: with stringzilla's SIMD substring search when it
can be imported, else with a compiled `re` (CPython's sre, ~4x slower per byte, same positions). Chosen at
import, no setting: a platform without a stringzilla wheel still scans, only slower. `ENGINE` names the one in
use; the self-tests run both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

try:
    import stringzilla
except ImportError:  # no wheel for this platform
    stringzilla = None

Buffer = bytes | bytearray
Finder = Callable[[Buffer, int, int], list[int]]  # (buffer, lo, hi) -> positions of each tag's "[", ascending

ENGINES = ("stringzilla", "re") if stringzilla is not None else ("re",)
ENGINE = ENGINES[0]


def tag_finder(levels: Sequence[str], engine: str | None = None) -> Finder:
    """A function giving the offset of the `[` of every `[Level]` tag of `levels` in buf[lo:hi], ascending."""
    engine = engine or ENGINE
    tags = [b"[" + level.encode("ascii") + b"]" for level in levels]
    if engine == "stringzilla" and stringzilla is not None:
        return _stringzilla_finder(tags)
    if engine != "re":
        raise ValueError(f"unknown search engine {engine!r} (have {', '.join(ENGINES)})")
    # Every line has a "[", so the test per "[" must be cheap: in CPython's sre a bare lookahead measured
    # ~20% faster than consuming "Error]". The caller checks the whole header anyway.
    pattern = re.compile(rb"\[(?=" + b"|".join(re.escape(tag[1:]) for tag in tags) + rb")")

    def find_re(buf: Buffer, lo: int, hi: int) -> list[int]:
        return [match.start() for match in pattern.finditer(buf, lo, hi)]

    return find_re


def _stringzilla_finder(tags: list[bytes]) -> Finder:
    find = stringzilla.find

    def find_sz(buf: Buffer, lo: int, hi: int) -> list[int]:
        found: list[int] = []
        for tag in tags:  # one pass per tag: each is a SIMD scan of a chunk still in the CPU cache
            at = find(buf, tag, lo, hi)
            while at >= 0:
                found.append(at)
                at = find(buf, tag, at + 1, hi)
        if len(tags) > 1:
            found.sort()
        return found

    return find_sz
