"""A ServiceNow change request, as the documented REST APIs reach it: the Table API finds the change's sys_id by
its number, the Attachment API's /file endpoint takes the raw file with its Content-Type, and a PATCH of the
record adds a work note. OAuth is the password grant of /oauth_token.do; its token lives in memory only."""

from __future__ import annotations

import requests

from smoke.ground import evidence
from smoke.ticket.credentials import Credentials
from smoke.ticket.http import BearerAuth, TicketError, TicketHttp, error_text
from smoke.ticket.section import TicketSection

TABLE = "change_request"


class UploadRefused(TicketError):
    """The instance refused the file itself (403): an attachment extension it does not allow, or a missing role."""


class ServiceNow:
    noun = "work note"
    markup = "plain"  # work_notes is a journal field: plain text

    def __init__(self, section: TicketSection, credentials: Credentials, http: TicketHttp) -> None:
        self.section, self.credentials, self.http = section, credentials, http
        self.user = section.username or ""
        self.signed_in = section.auth == "basic"
        if section.auth == "basic":
            http.session.auth = requests.auth.HTTPBasicAuth(self.user, credentials.secret)

    def locate(self, number: str) -> str:
        """The change's sys_id."""
        self._sign_in()
        response = self.http.call("GET", f"/api/now/table/{TABLE}", f"looking up {number}", params={
            "sysparm_query": f"number={number}", "sysparm_fields": "sys_id", "sysparm_limit": "1"})
        self._check(response, f"looking up {number} in {TABLE}", 200)
        try:
            found = response.json()["result"]
            sys_id = str(found[0]["sys_id"]) if found else None
        except (ValueError, KeyError, TypeError, IndexError):
            raise TicketError(f"looking up {number}: {self.http.where} answered without the Table API's JSON "
                              f"({response.headers.get('Content-Type', 'no Content-Type')}) — check that [ticket] url "
                              "is the instance itself") from None
        if sys_id is None:
            raise TicketError(f"{number} not found in {TABLE} — check the number and that {self.user} can read it")
        return sys_id

    def upload(self, target: str, name: str, content_type: str, data: bytes) -> None:
        response = self.http.call("POST", "/api/now/attachment/file", f"uploading {name}", data=data,
                                  params={"table_name": TABLE, "table_sys_id": target, "file_name": name},
                                  headers={"Content-Type": content_type})
        if response.status_code == 403:
            raise UploadRefused(f"upload of {name} refused (403: {error_text(response)})")
        self._check(response, f"uploading {name}", 201)

    def annotate(self, target: str, number: str, text: str) -> None:
        response = self.http.call("PATCH", f"/api/now/table/{TABLE}/{target}", f"adding the work note to {number}",
                                  json={"work_notes": text})
        if response.status_code == 403:
            raise TicketError(f"adding the work note to {number} refused (403) — {self.user} may not write work notes "
                              f"on {TABLE}")
        self._check(response, f"adding the work note to {number}", 200)

    def _sign_in(self) -> None:
        if self.signed_in:
            return
        section = self.section
        response = self.http.call("POST", "/oauth_token.do", "getting an OAuth token", data={
            "grant_type": "password", "client_id": section.client_id, "client_secret": self.credentials.client_secret,
            "username": self.user, "password": self.credentials.secret})
        if response.status_code in (400, 401):
            raise TicketError(f"OAuth: {self.http.where} refused client {section.client_id} for {self.user} "
                              f"({response.status_code}: {error_text(response)}) — check [ticket] client_id, the "
                              f"secrets in {section.client_secret_env} and {section.password_env}, and that the "
                              "OAuth application allows the password grant")
        self._check(response, "getting an OAuth token", 200)
        try:
            answer = response.json()
            token = str(answer["access_token"])
        except (ValueError, KeyError, TypeError):
            raise TicketError(f"OAuth: {self.http.where}/oauth_token.do answered without an access_token — check "
                              "[ticket] url") from None
        evidence.register_secret(token)
        evidence.register_secret(answer.get("refresh_token"))
        self.http.session.auth = BearerAuth(token)
        self.signed_in = True

    def _check(self, response: requests.Response, what: str, expected: int) -> None:
        if response.status_code == 401:
            if self.section.auth == "oauth":
                raise TicketError(f"{what}: {self.http.where} refused the OAuth token of {self.user} (401) — check "
                                  "the OAuth application's scope and that the account may use the REST API")
            raise TicketError(f"{self.http.where} refused {self.user} (401) — check the password in "
                              f"{self.section.password_env} ([ticket] password_env) and that the account may use the "
                              "REST API")
        if response.status_code != expected:
            raise TicketError(f"{what}: {self.http.where} answered {response.status_code} ({error_text(response)})")

