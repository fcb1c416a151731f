"""Finding and starting a browser for the portal checks: which executable ([portal] browser), its flags, and what
it is handed — the Kerberos ticket cache, and on Linux [command] ca_bundle in a private NSS database."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smoke.ground import tls
from smoke.ground.errors import SmokeError
from smoke.portal.text import one_line

CHROMIUM_FLAGS = [
    "--disable-gpu",
    "--disable-background-networking",  # otherwise Chromium keeps dialling out to Google's services
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
]


VIEWPORT = {"width": 1366, "height": 900}


def node_flags(site: str, address: str) -> list[str]:
    """One node behind the load balancer under the site's name (what `curl --resolve` does): the site's name maps
    to the node's address, and no proxy, which would resolve the name itself."""
    target = f"[{address}]" if ":" in address and not address.startswith("[") else address  # an IPv6 literal
    return [f"--host-resolver-rules=MAP {site} {target}", "--no-proxy-server"]


# With the site's name mapped to an address, Chromium would build the Kerberos service name from the canonical
# name of that address (HTTP/10.20.0.12, seen at the KDC); its profile's Local State turns that lookup off so the
# service name is the URL's host. The command-line switch for it is no longer read by current Chromium.
NODE_LOCAL_STATE = {"disable_negotiate_cname_lookup": True}


INSTALL_HINT = ("install one: `playwright install chromium` (or your OS package: chromium / Google Chrome / "
                "Microsoft Edge) and set [portal] browser = \"chromium\", \"chrome\", \"msedge\" or the browser's path")


class BrowserUnavailable(SmokeError):
    """No browser could be started; the API checks are not affected."""


def locate(browser: str) -> Callable[[Any], dict[str, Any]]:
    """How to launch [portal] browser: Playwright launch arguments (resolved once Playwright runs)."""
    if browser in ("chrome", "msedge", "chrome-beta", "msedge-beta", "msedge-dev"):
        return lambda playwright: {"channel": browser, "_description": f"{browser} (installed channel)"}
    if browser != "chromium":
        path = Path(browser).expanduser()
        if not path.is_file():
            raise BrowserUnavailable(f"Browser: [portal] browser = \"{browser}\" does not exist — {INSTALL_HINT}")
        return lambda playwright: {"executable_path": str(path), "_description": str(path)}

    def chromium(playwright: Any) -> dict[str, Any]:
        own = Path(playwright.chromium.executable_path)
        if own.is_file():
            # channel "chromium" = the full build in new headless mode (no separate headless-shell download needed)
            return {"channel": "chromium", "_description": f"Playwright's Chromium ({own})"}
        system = system_chromium()
        if system is None:
            raise BrowserUnavailable("Browser: no Chromium-based browser found (Playwright's Chromium is not "
                                     f"installed and no system Chromium, Chrome or Edge was found) — {INSTALL_HINT}")
        return {"executable_path": system, "_description": system}

    return chromium


def system_chromium() -> str | None:
    """A Chromium-based browser installed on this machine, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge",
                 "microsoft-edge-stable", "chrome", "msedge"):
        found = shutil.which(name)
        if found:
            return found
    candidates: list[Path] = []
    if sys.platform == "win32":
        for base in filter(None, (os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)"),
                                  os.environ.get("LOCALAPPDATA"))):
            candidates += [Path(base, "Google", "Chrome", "Application", "chrome.exe"),
                           Path(base, "Microsoft", "Edge", "Application", "msedge.exe"),
                           Path(base, "Chromium", "Application", "chrome.exe")]
    elif sys.platform == "darwin":
        candidates += [Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
                       Path("/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"),
                       Path("/Applications/Chromium.app/Contents/MacOS/Chromium")]
    return next((str(c) for c in candidates if c.is_file()), None)


def launch_problem(browser: str, text: str) -> str:
    first = one_line(text.split("\n")[0].removeprefix("BrowserType.launch_persistent_context: "))[:200]
    if "is not found at" in text or "distribution" in text.lower():
        return f"Browser: [portal] browser = \"{browser}\" is not installed on this machine ({first}) — {INSTALL_HINT}"
    if "Missing X server" in text or "$DISPLAY" in text:
        return ("Browser: a visible (--headed) browser needs a display and none is available — run headless "
                "(drop --headed, [portal] headless = true)")
    if "missing dependencies" in text.lower() or "error while loading shared libraries" in text:
        return (f"Browser: {browser} cannot start: system libraries are missing ({first}) — run "
                "`playwright install-deps chromium` (Linux) or install the OS package of the browser")
    if "Executable doesn't exist" in text:
        return f"Browser: Playwright's Chromium is not installed ({first}) — {INSTALL_HINT}"
    return f"Browser: {browser} did not start: {first} — {INSTALL_HINT}"


def file_ticket_cache(directory: Path) -> dict[str, str]:
    """The environment that points the browser at our Kerberos tickets. A MEMORY: cache (from a keytab) lives
    only in this process, so its tickets are copied into a private file cache the browser can read."""
    cache = os.environ.get("KRB5CCNAME", "")
    if not cache.upper().startswith("MEMORY:"):
        return {}
    try:
        import gssapi  # type: ignore[import-not-found]

        target = directory / "krb5cc"
        creds = gssapi.Credentials(usage="initiate")
        gssapi.raw.store_cred_into({b"ccache": f"FILE:{target}".encode()}, creds, usage="initiate", overwrite=True)
    except Exception as exc:  # GSSError, ImportError: say which cache could not be handed over
        raise BrowserUnavailable(f"Kerberos: the tickets in {cache} could not be copied to a file the browser "
                                 f"can read ({one_line(str(exc))[:120]}) — run kinit instead of using [auth] "
                                 "keytab") from None
    return {"KRB5CCNAME": f"FILE:{target}"}


def trust_ca_bundle(directory: Path, ca_bundle: Path) -> dict[str, str]:
    """On Linux Chromium trusts extra CAs from $HOME/.pki/nssdb: a private HOME whose NSS database trusts the
    bundle's certificates for TLS servers. Elsewhere the OS trust store decides (nothing to do here)."""
    problem = tls.bundle_problem(ca_bundle)
    if problem:
        raise BrowserUnavailable(problem)
    if not sys.platform.startswith("linux"):
        return {}
    from smoke.portal import nssdb

    home = directory / "home"
    try:
        nssdb.trust_for_tls(home / ".pki" / "nssdb", ca_bundle)
    except nssdb.NssError as exc:
        raise BrowserUnavailable(f"TLS: could not give the browser [command] ca_bundle {ca_bundle}: {exc} — "
                                 "install libnss3 (Chromium needs it anyway)") from None
    return {"HOME": str(home)}
