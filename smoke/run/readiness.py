"""`--wait-ready`: after a reboot, poll the API and the portal with backoff until both answer, or fail once.

"Answers" means any HTTP answer below 500: a 401 challenge is a server that is up (authentication is the checks'
business), a 502/503 is IIS or a proxy whose application pool is still starting. Knows nothing of pytest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import requests

from smoke.ground import durations
from smoke.ground.errors import ApiUnreachable, ConfigError
from smoke.ground.tls import TruststoreAdapter
from smoke.keyfactor.client import KEYFACTOR_HEADERS

FIRST_DELAY_S = 0.2
MAX_DELAY_S = 1.0  # the poll interval never grows beyond this: the verdict follows the server within ~1 s
MAX_PROBE_S = 5.0
MAX_WAIT = timedelta(hours=24)  # a reboot, not a maintenance weekend


class ServerNotReady(ApiUnreachable):
    """The API or the portal did not answer within --wait-ready."""


@dataclass
class Readiness:
    waited_s: float
    attempts: int
    answers: dict[str, str] = field(default_factory=dict)  # url -> how it answered

    def describe(self, asked: str) -> str:
        if self.attempts <= 1:
            return f"answered at once (--wait-ready {asked})"
        return f"{self.waited_s:.1f} s, {self.attempts} attempts (--wait-ready {asked})"


def parse_duration(text: str) -> float:
    """`--wait-ready`: `90s`, `10m`, `1h`, `1m30s` or plain seconds (`90`), at most MAX_WAIT → seconds."""
    try:
        return durations.parse_duration(text, "--wait-ready", MAX_WAIT, bare_seconds=True).total_seconds()
    except durations.DurationError as exc:
        raise ConfigError(f"{exc} — e.g. --wait-ready 10m") from None


def wait_until_ready(urls: list[str], within_s: float, asked: str, ca_bundle: str | None, timeout_s: float,
                     clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep) -> Readiness:
    """Polls every URL until each has answered once; raises ServerNotReady (one line) when time runs out."""
    session = requests.Session()
    session.headers.update(KEYFACTOR_HEADERS)
    if ca_bundle is None:
        session.mount("https://", TruststoreAdapter())
    started = clock()
    deadline = started + within_s
    waiting = {url: "not yet asked" for url in urls}
    answers: dict[str, str] = {}
    attempts = 0
    delay = FIRST_DELAY_S
    with session:
        while True:
            attempts += 1
            for url in list(waiting):
                probe_s = max(0.5, min(timeout_s, MAX_PROBE_S, deadline - clock()))
                ready, how = _probe(session, url, ca_bundle or True, probe_s)
                if ready:
                    answers[url] = how
                    del waiting[url]
                else:
                    waiting[url] = how
            now = clock()
            if not waiting:
                return Readiness(now - started, attempts, answers)
            if now + delay > deadline:
                raise ServerNotReady(_not_ready(asked, waiting, answers, attempts))
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)


def _probe(session: requests.Session, url: str, verify: str | bool, timeout_s: float) -> tuple[bool, str]:
    try:
        response = session.get(url, timeout=timeout_s, verify=verify, allow_redirects=False)
    except requests.exceptions.SSLError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            # Something serves TLS there: the checks will say why its certificate is not trusted.
            return True, "answered with an untrusted TLS certificate"
        return False, "TLS handshake failed"
    except requests.exceptions.Timeout:
        return False, f"no answer within {timeout_s:g}s"
    except requests.exceptions.RequestException as exc:
        text = str(exc)
        if "Connection refused" in text or "ConnectionRefused" in text or "actively refused" in text:
            return False, "connection refused"
        if "Name or service not known" in text or "getaddrinfo failed" in text or "NameResolution" in text:
            return False, "host name does not resolve"
        return False, "no answer (connection failed)"
    response.close()
    if response.status_code >= 500:
        return False, f"answered {response.status_code}"
    return True, f"answered {response.status_code}"


def _not_ready(asked: str, waiting: dict[str, str], answers: dict[str, str], attempts: int) -> str:
    still = "; ".join(f"{url} {how}" for url, how in waiting.items())
    fine = "; ".join(f"{url} {how}" for url, how in answers.items())
    also = f" (while {fine})" if fine else ""
    return (f"server not ready after {asked} ({attempts} attempts): {still}{also} — check that IIS and the "
            "Keyfactor services have started (iisreset /status, the app pools), or wait longer with --wait-ready")
