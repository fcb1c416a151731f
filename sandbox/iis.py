"""The IIS applications of the site beside the API and the portal, and the sign-in methods each one offers.

IIS sets authentication per application (Windows Authentication with its providers, Basic); a visitor without
credentials sees them in the application's 401 challenge. An installer that resets an application's settings
changes them: the fault iis-ntlm-only leaves /KeyfactorAgents, where orchestrators sign in, offering NTLM alone.
"""

from __future__ import annotations

from .faults import ActiveFaults
from .web import Request, Response, Router, html_response

AGENTS = "/KeyfactorAgents"  # where orchestrators check in (their API is not part of the sandbox)
CLASSIC_API = "/CMSAPI"  # the Classic API of 10.x (/CMSApi/Certificates/3/Revoke …)

FORBIDDEN = """<!DOCTYPE html>
<html><head><title>403 - Forbidden: Access is denied.</title></head>
<body><div id="header"><h1>Server Error</h1></div><div id="content"><div class="content-container"><fieldset>
<h2>403 - Forbidden: Access is denied.</h2>
<h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3>
</fieldset></div></div></body></html>"""


def sign_in_methods(faults: ActiveFaults) -> dict[str, tuple[str, ...]]:
    """The applications whose sign-in methods differ from the site's, with theirs."""
    return {AGENTS: ("NTLM",)} if faults.on("iis-ntlm-only") else {}


def mount(router: Router) -> None:
    """The applications answer a visitor with their challenge; signed in, their root has nothing to browse."""
    for application in (AGENTS, CLASSIC_API):
        router.add("GET", application + "(?:/.*)?", _nothing_to_browse)


def _nothing_to_browse(request: Request) -> Response:
    return html_response(403, FORBIDDEN)
