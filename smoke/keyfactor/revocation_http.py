"""Fetching a CRL or asking an OCSP responder over HTTP(S): one attempt, no retry, `[command] timeout_s` for the whole
answer, proxies from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), TLS verified for https locations (the
[command] ca_bundle, else the OS trust store). No credentials are ever sent: these are public locations.

Knows nothing of pytest. Every way of not getting an answer is an `Unanswered` with one line naming the cause.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from smoke.keyfactor.client import TruststoreAdapter

MAX_BYTES = 64 * 1024 * 1024  # the largest CRL we read
MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class Unanswered(Exception):
    """No usable HTTP answer; str() is the one-line cause."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Http:
    timeout_s: float
    ca_bundle: str | None = None

    def get(self, url: str) -> Answer:
        return self._call("GET", url, None, {})

    def post(self, url: str, body: bytes, content_type: str) -> Answer:
        return self._call("POST", url, body, {"Content-Type": content_type})

    def _session(self) -> requests.Session:
        session = requests.Session()  # one per call: the calls run in parallel threads
        session.max_redirects = MAX_REDIRECTS
        if self.ca_bundle is None:
            session.mount("https://", TruststoreAdapter())
        return session

    def _call(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        deadline = time.monotonic() + self.timeout_s
        where = urlsplit(url).netloc or url
        try:
            with self._session() as session, session.request(
                method, url, data=body, headers=headers, timeout=self.timeout_s, stream=True,
                verify=self.ca_bundle or True,
            ) as response:
                content = bytearray()
                for chunk in response.iter_content(CHUNK):
                    content += chunk
                    if len(content) > MAX_BYTES:
                        raise Unanswered(f"{where} sent more than {MAX_BYTES // 2**20} MB")
                    if time.monotonic() > deadline:
                        raise Unanswered(f"{where} did not finish its answer within {self.timeout_s:g}s")
                return Answer(response.status_code, response.headers.get("Content-Type", ""), bytes(content))
        except requests.exceptions.Timeout:
            raise Unanswered(f"no answer from {where} within {self.timeout_s:g}s") from None
        except requests.exceptions.SSLError as exc:
            trust = "not trusted — set [command] ca_bundle to its CA" if "CERTIFICATE_VERIFY_FAILED" in str(exc) \
                else "refused"
            raise Unanswered(f"TLS with {where}: its certificate is {trust}") from None
        except requests.exceptions.ConnectionError as exc:
            text = str(exc)
            if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
                raise Unanswered(f"the host name of {url} does not resolve") from None
            if "timed out" in text.lower():  # a read timeout while the body was still coming
                raise Unanswered(f"no answer from {where} within {self.timeout_s:g}s") from None
            if "refused" in text.lower():
                raise Unanswered(f"connection refused by {where}") from None
            raise Unanswered(f"no connection to {where} ({type(exc).__name__})") from None
        except requests.exceptions.RequestException as exc:
            raise Unanswered(f"{method} {url} failed ({type(exc).__name__}: {str(exc)[:120]})") from None
