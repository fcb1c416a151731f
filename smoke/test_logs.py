"""The Keyfactor Command logs show no errors since the upgrade, and logging is still occurring."""

from __future__ import annotations

import datetime as dt

import pytest

from smoke.ground import evidence
from smoke.logscan import Waiver, WizardMarker, newest_entry_times, resolve_window, scan
from smoke.logscan.locations import LogLocations

AREA = "Logs"  # the report's suite and feature
pytestmark = pytest.mark.logs

FIX_ERRORS = "see the excerpts in the report; fix the cause, or waive a known-benign entry in [[logs.waivers]]"
FIX_SILENT = ("logging has stopped: check that the Keyfactor Command Service and the IIS application pools run, that "
              "NLog still writes there (file target, minlevel) and that the disk has space")


@pytest.fixture(scope="module")
def logs(smoke_settings) -> LogLocations:
    if smoke_settings.logs is None:
        pytest.skip(smoke_settings.not_configured("logs"))
    return LogLocations(smoke_settings.logs, smoke_settings.path)


def test_no_errors_were_logged_since_the_upgrade(logs):
    paths, section, clock = logs.paths(), logs.section, logs.clock
    window = resolve_window(paths, section.since, clock=clock,
                            marker=WizardMarker(logger=section.wizard_logger, start=section.wizard_start))
    evidence.note_fact("Log window", f"{window.describe()} ({window.source})")
    waivers = [Waiver(w.pattern, w.justification, w.expires) for w in section.waivers]
    result = scan(paths, window, waivers=waivers, clock=clock)
    evidence.attach_text("Log scan", result.format_text())
    for number, group in enumerate([*result.groups, *result.waived], 1):
        waived = " (waived)" if group.waiver else ""
        evidence.attach_text(f"Log excerpt {number}{waived}: {group.level} x{group.count} {group.logger}, "
                             f"{group.first:%Y-%m-%d %H:%M:%S} .. {group.last:%Y-%m-%d %H:%M:%S}", group.excerpt)
    if result.expired_waivers:
        evidence.note_fact("Expired log waivers (evaluated normally)",
                           "; ".join(waiver.describe() for waiver in result.expired_waivers))
    # The window's origin is in the report (Log window); the line stays short enough for JUnit's message.
    assert result.clean, f"logs: {result.summary_line()} — {FIX_ERRORS}"


def test_every_log_location_is_still_being_written(logs):
    paths, section, clock = logs.paths(), logs.section, logs.clock
    now = clock.now()
    limit = dt.timedelta(minutes=section.freshness_minutes)
    table, silent = [], []
    for path in paths:
        times = newest_entry_times(path)
        table += [f"{time:%Y-%m-%d %H:%M:%S}  {file}" if time else f"{'no entries':19}  {file}"
                  for file, time in sorted(times.items(), key=lambda item: item[1] or dt.datetime.min, reverse=True)]
        newest = max((time for time in times.values() if time), default=None)
        if newest is None:
            silent.append(f"{path} has no log entries ({len(times)} files)")
        elif now - newest > limit:
            silent.append(f"{path}: newest entry {newest:%Y-%m-%d %H:%M:%S}, {_age(now - newest)} ago")
    evidence.attach_text(f"Newest entry per log file (now {now:%Y-%m-%d %H:%M:%S}, {clock.name} time)",
                         "\n".join(table))
    assert not silent, (
        f"logs: no entry in the last {section.freshness_minutes} minutes — {'; '.join(silent)} — {FIX_SILENT} "
        "(or raise [logs] freshness_minutes)"
    )


def _age(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes} min"
