"""`pytest --env NAME --portal-map`: the environment as the checks get it (the embedded sandbox included), then the
portal's map (smoke/portal/mapping.py) printed instead of running checks. One line on failure, exit code 1."""

from __future__ import annotations

import sys
from typing import TextIO

from smoke.ground import evidence
from smoke.ground.errors import SmokeError
from smoke.portal import browser
from smoke.portal.mapping import walk
from smoke.portal.pages import Portal, pages_for
from smoke.run.environment import Settings

OPTION = "--portal-map"
HELP = ("sign in to the portal, read its navigation and print each page's link text → URL and the [portal.pages] "
        "lines to paste; runs no check")


def run(settings: Settings, headed: bool = False, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if settings.portal is None:
        print(f"portal map: {settings.not_configured('portal')} — add the section (environments/example-prod.toml "
              "documents it)", file=err)
        return 1
    session = browser.connect(settings, headed=headed)
    try:
        lines = walk(Portal(session, pages_for(settings)), str(settings.path))
    except SmokeError as exc:
        print(f"portal map: {evidence.redact(str(exc))}", file=err)
        return 1
    finally:
        session.close()
    print(evidence.redact("\n".join(lines)), file=out)
    return 0
