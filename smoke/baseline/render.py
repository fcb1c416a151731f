"""A comparison as people read it: one line per area for the summary, the failing check's one line, the text that
`python -m smoke.baseline diff` prints, and a before/after HTML table for the report."""

from __future__ import annotations

import html

from smoke.baseline.compare import ADDED, AreaComparison, Comparison, shown


def failure_line(area: AreaComparison, title: str, limit: int = 3) -> str:
    """`<title>: <counts> since the baseline — <the first few changes>; … (+N more in the report's table)`."""
    unexpected = area.unexpected
    shown_changes = "; ".join(change.line() for change in unexpected[:limit])
    more = f"; +{len(unexpected) - limit} more in the report's table" if len(unexpected) > limit else ""
    return f"{title}: {area.summary().partition(': ')[2]} since the baseline — {shown_changes}{more}"


def text(comparison: Comparison, before_name: str, after_name: str) -> str:
    lines = [f"--- {before_name}", f"+++ {after_name}"]
    for area in comparison.areas.values():
        lines.append(area.summary())
        lines += [f"  {'+' if c.kind == ADDED else '-' if c.kind == 'missing' else '~'} {c.line()}"
                  for c in area.changes]
    lines += [f"{name}: only in one of the two baselines, not compared" for name in comparison.not_compared]
    lines += [f"expired expectation (no longer applied): {e.describe()}" for e in comparison.expired]
    verdict = "identical" if comparison.identical else "different"
    lines.append(f"baselines are {verdict}")
    return "\n".join(lines) + "\n"


def html_table(area: AreaComparison, title: str) -> str:
    """The area's changes as a self-contained HTML page (an Allure attachment)."""
    rows = "".join(
        f"<tr class='{c.kind}{' expected' if c.expected else ''}'><td>{_e(c.item)}</td><td>{c.kind}</td>"
        f"<td>{_e(c.path)}</td><td><code>{_e(shown(c.before, 400))}</code></td>"
        f"<td><code>{_e(shown(c.after, 400))}</code></td><td>{_e(c.expected)}</td></tr>"
        for c in area.changes)
    body = (f"<table><thead><tr><th>item</th><th>change</th><th>field</th><th>before</th><th>after</th>"
            f"<th>expected because</th></tr></thead><tbody>{rows}</tbody></table>" if rows
            else f"<p>Unchanged: {area.after_count} items, the same as before.</p>")
    style = ("body{font-family:sans-serif;font-size:13px}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:3px 6px;vertical-align:top;text-align:left}tr.missing td,tr.changed td{background:#fde8e8}"
             "tr.added td{background:#e8f4fd}tr.expected td{background:#f2f2f2}code{white-space:pre-wrap}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{style}</style>"
            f"</head><body><h3>{_e(title)}</h3><p>{_e(area.summary())}</p>{body}</body></html>")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
