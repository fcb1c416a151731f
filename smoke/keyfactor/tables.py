"""Plain-text tables for the report: the evidence a person reads next to a check's one line."""

from __future__ import annotations

from collections.abc import Sequence


def plain_table(header: Sequence[str], rows: Sequence[Sequence[object]], empty: str = "(none)") -> str:
    """Columns padded to their widest cell; the last column is left unpadded (it is often a long message)."""
    if not rows:
        return empty
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
                     for row in cells)
