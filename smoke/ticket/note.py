"""The work note (ServiceNow) or comment (Jira) that goes with the attachments: the report's title, the verdict
and counts, the failed checks, the names of the files attached. Read from the run's summary (smoke/run/report.py
writes it: "# <title>", "Verdict: …", "## Failed" with one "- " line per check)."""

from __future__ import annotations

MOST_FAILED = 20  # the rest is in the report


def compose(summary: str | None, attached: list[str], markup: str) -> str:
    """`markup`: "plain" (ServiceNow work notes, Jira Cloud) or "wiki" (Jira Data Center)."""
    lines = _digest(summary)
    if markup == "wiki":  # the summary's text as written: [command], *, _ and - mean nothing inside {noformat}
        body = ["{noformat}", *lines, "{noformat}", "Attached: " + ", ".join(f"[^{name}]" for name in attached)]
    else:
        body = [*lines, "Attached: " + ", ".join(attached)]
    return "\n".join(body)


def _digest(summary: str | None) -> list[str]:
    if not summary:
        return ["Keyfactor Command smoke test: the verdict is in the attached report"]
    text = summary.splitlines()
    title = next((line[2:] for line in text if line.startswith("# ")), "Keyfactor Command smoke test")
    verdict = next((line for line in text if line.startswith("Verdict: ")), "Verdict: see the attached report")
    failed = _section(text, "## Failed")
    checks = [line for line in failed if line.startswith("- ") and not line.startswith("- Hint: ")]
    lines = [title, verdict]
    if checks:
        lines.append("Failed checks:")
        lines += checks[:MOST_FAILED]
        if len(checks) > MOST_FAILED:
            lines.append(f"- … and {len(checks) - MOST_FAILED} more (see the report)")
    return lines


def _section(lines: list[str], heading: str) -> list[str]:
    if heading not in lines:
        return []
    found = []
    for line in lines[lines.index(heading) + 1:]:
        if line.startswith("#"):
            break
        found.append(line)
    return found
