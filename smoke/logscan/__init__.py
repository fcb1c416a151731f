"""NLog log scanner for Keyfactor Command: errors in a time window, and whether logging still happens.

The library knows nothing of pytest; the logs check calls it and turns the result into its message:

    clock = LogClock.parse("local")                       # the zone the server writes its logs in
    window = resolve_window([folder], since=None, clock=clock)  # wizard-run start, else the last 24 h
    result = scan([folder], window, waivers=[Waiver("Keyfactor.Foo .*timeout", "known, ticket 123",
                                                    date(2026, 12, 31))], clock=clock)
    assert result.clean, result.summary_line()
    assert clock.now() - newest_entry_time(folder) < timedelta(minutes=15)

Times are naive datetimes in the log clock (the server's wall clock, as NLog writes it). Cost follows
the window, not the file size: see `scan` and `seek`. Every error a user can fix is a LogScanError
whose str() is one line naming the cause and the fix. Also a command line: `python -m smoke.logscan`.
"""

from .clock import LOCAL, LogClock, Window, parse_duration, parse_since
from .errors import BadWaiverError, BadWindowError, LogPathError, LogScanError
from .files import DEFAULT_GLOBS, discover
from .freshness import newest_entry_time, newest_entry_times
from .nlog import Header, parse_header, signature
from .results import FileScan, FindingGroup, ScanResult, Waiver
from .scan import DEFAULT_LEVELS, read_excerpt, scan
from .seek import seek_time
from .window import WizardMarker, WizardRun, default_window, last_wizard_run, resolve_window

__all__ = [
    "DEFAULT_GLOBS",
    "DEFAULT_LEVELS",
    "LOCAL",
    "BadWaiverError",
    "BadWindowError",
    "FileScan",
    "FindingGroup",
    "Header",
    "LogClock",
    "LogPathError",
    "LogScanError",
    "ScanResult",
    "Waiver",
    "Window",
    "WizardMarker",
    "WizardRun",
    "default_window",
    "discover",
    "last_wizard_run",
    "newest_entry_time",
    "newest_entry_times",
    "parse_duration",
    "parse_header",
    "parse_since",
    "read_excerpt",
    "resolve_window",
    "scan",
    "seek_time",
    "signature",
]
