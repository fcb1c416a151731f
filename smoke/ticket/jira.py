"""A Jira issue (Data Center or Cloud), as REST API v2 documents it: attachments are a multipart POST with the
field `file` and the header `X-Atlassian-Token: no-check` (without it Jira's XSRF check refuses the call), comments
a POST of {"body": …} — wiki markup on Data Center; Cloud's v2 endpoint takes plain text. Basic (Cloud: e-mail and
API token) or Bearer (Data Center personal access token)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import requests

from smoke.ticket.credentials import Credentials
from smoke.ticket.http import BearerAuth, TicketError, TicketHttp, error_text
from smoke.ticket.section import TicketSection

CLOUD_DOMAIN = ".atlassian.net"


class Jira:
    noun = "comment"

    def __init__(self, section: TicketSection, credentials: Credentials, http: TicketHttp) -> None:
        self.section, self.http = section, http
        self.account = section.account
        if section.auth == "bearer":
            http.session.auth = BearerAuth(credentials.secret)
        else:
            http.session.auth = requests.auth.HTTPBasicAuth(section.username or "", credentials.secret)
        cloud = (urlsplit(section.url).hostname or "").endswith(CLOUD_DOMAIN)
        self.markup = "plain" if cloud else "wiki"

    def locate(self, number: str) -> str:
        response = self.http.call("GET", f"/rest/api/2/issue/{quote(number)}", f"looking up {number}",
                                  params={"fields": "summary"})
        if response.status_code == 404:
            raise TicketError(f"{number} not found — check the key and that {self.account} can browse it")
        self._check(response, f"looking up {number}", 200)
        return number

    def upload(self, target: str, name: str, content_type: str, data: bytes) -> None:
        response = self.http.call("POST", f"/rest/api/2/issue/{quote(target)}/attachments", f"uploading {name}",
                                  files={"file": (name, data, content_type)}, headers={"X-Atlassian-Token": "no-check"})
        if response.status_code == 403:
            raise TicketError(f"upload of {name} refused (403: {error_text(response)}) — {self.account} needs the "
                              f"Create Attachments permission in {target}'s project, and attachments must be enabled")
        if response.status_code == 413:
            raise TicketError(f"upload of {name} refused (413): larger than the instance's attachment size limit")
        self._check(response, f"uploading {name}", 200)

    def annotate(self, target: str, number: str, text: str) -> None:
        response = self.http.call("POST", f"/rest/api/2/issue/{quote(target)}/comment",
                                  f"adding the comment to {number}", json={"body": text})
        self._check(response, f"adding the comment to {number}", 201)

    def _check(self, response: requests.Response, what: str, expected: int) -> None:
        if response.status_code == 401:
            if self.section.auth == "bearer":
                raise TicketError(f"{self.http.where} refused the personal access token in {self.section.token_env} "
                                  "(401) — check that it is valid, not expired, and the account's")
            variable = self.section.token_env or self.section.password_env
            raise TicketError(f"{self.http.where} refused {self.account} (401) — check the API token (Cloud) or "
                              f"password in {variable} ([ticket] {self.section.secret_key})")
        if response.status_code != expected:
            raise TicketError(f"{what}: {self.http.where} answered {response.status_code} ({error_text(response)})")
