"""NLog log scanner for Keyfactor Command: errors in a time window, and whether logging still happens.

The library knows nothing of pytest; the logs check calls it and turns the result into its message:

    clock = LogClock.parse(settings_timezone)                  # "local", "UTC", "+02:00", "Europe/Berlin"
    window = resolve_window(paths, since=None, clock=clock)    # last wizard run's start, else 24 h back
    waivers = [Waiver(r"UpgradePlan .*Timeout", "CHG-1234: known, fixed by ...", date(2026, 12, 31))]
    result = scan(paths, window, waivers=waivers, clock=clock)
    assert result.clean, result.summary_line()

    newest = newest_entry_time(folder)                         # None: no entry at all
    assert newest is not None and clock.now() - newest < timedelta(minutes=15)

Times are naive datetimes in the log clock (the server's wall clock, as NLog writes it). The cost of a
scan follows the window, not the file size (see `scan` and `seek`). Every error a user can fix is a
LogScanError (a SmokeError) whose str() is one line naming the cause and the fix. The same as a
command line: `python -m smoke.logscan PATH... [--since WHEN] [--until WHEN] [--timezone TZ] [--json]`.
"""

from .clock import LOCAL, LogClock, Window, checked_since, parse_since
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
    "parse_header",
    "checked_since",
    "parse_since",
    "read_excerpt",
    "resolve_window",
    "scan",
    "seek_time",
    "signature",
]
