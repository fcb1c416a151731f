"""The change ticket: attaching a run's report and summary to a ServiceNow change or a Jira issue, with a note.

    section = environment.ticket                              # the environment file's [ticket] (TicketSection)
    number = check_number(section, "CHG0012345", path)        # one line when the shape is not the system's
    credentials = Credentials.read(section, path)             # from the variables it names; masked from then on
    done = attach(section, credentials, number, ReportFiles.of_path(Path("reports/prod/latest.html")))
    print("\\n".join(done.lines))                              # "ticket: attached … to CHG0012345, with a work note"

`attach` never raises: a failure is one `ticket:` line naming the cause and the fix, and the file to attach by
hand. Plain requests (see smoke/ticket/http.py for timeouts, TLS and retries). The same as a command line:
`python -m smoke.ticket attach REPORT --env NAME --ticket NUMBER`.
"""

from .credentials import Credentials
from .deliver import Attached, attach
from .files import ReportFiles
from .http import TicketError
from .section import TicketSection, check_number

__all__ = ["Attached", "Credentials", "ReportFiles", "TicketError", "TicketSection", "attach", "check_number"]
