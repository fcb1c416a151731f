"""A Jira-like server (Data Center, REST API v2), as strict as the documentation of the calls it stands in for:

- `GET /rest/api/2/issue/{key}`: the issue, or 404 "Issue does not exist or you do not have permission to see it."
- `POST /rest/api/2/issue/{key}/attachments`: multipart/form-data, one or more parts named `file`; without the header
  `X-Atlassian-Token: no-check` the XSRF check refuses it (403 "XSRF check failed"). Answers 200 and the list of
  attachments created.
- `POST /rest/api/2/issue/{key}/comment` with `{"body": "…"}`: 201 and the comment.
- Basic (the account's e-mail and an API token, as Cloud) and Bearer (a personal access token, as Data Center).

Faults: ticket-not-found (no issue exists), ticket-auth-fails (every credential refused), ticket-slow and
ticket-5xx-once (ticket_desk.py). ticket-html-refused concerns ServiceNow's allow-list only: Jira has none.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import secrets
from dataclasses import dataclass, field
from email.message import Message

from .faults import ActiveFaults
from .ticket_desk import Inbox, Received, StandIn, TicketFaults, presented
from .web import Request, Response, Router, json_response

EMAIL = "svc-smoke@example.com"
ISSUES = ("OPS-123", "OPS-124")
UPLOAD = re.compile(r"/rest/api/2/issue/[^/]+/attachments", re.I)
XSRF_TOKENS = ("no-check", "nocheck")  # the documented value, and the older spelling Jira still accepts


def _errors(status: int, *messages: str) -> Response:
    return json_response(status, {"errorMessages": list(messages), "errors": {}})


@dataclass
class JiraServer:
    faults: ActiveFaults
    inbox: Inbox
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # Basic, with EMAIL
    access_token: str = field(default_factory=lambda: secrets.token_urlsafe(33))  # Bearer (personal access token)
    site: StandIn = field(default_factory=lambda: StandIn(Router()))

    def __post_init__(self) -> None:
        self.issues = {} if self.faults.on("ticket-not-found") else {key: 10000 + n for n, key in enumerate(ISSUES)}
        self.ids = itertools.count(10100)
        router = self.site.router
        router.front.append(TicketFaults(self.faults, UPLOAD).front)
        router.add("GET", r"/rest/api/2/issue/(?P<key>[^/]+)", self.issue, authenticated=False)
        router.add("POST", r"/rest/api/2/issue/(?P<key>[^/]+)/attachments", self.attach, authenticated=False)
        router.add("POST", r"/rest/api/2/issue/(?P<key>[^/]+)/comment", self.comment, authenticated=False)

    @property
    def url(self) -> str:
        return self.site.url

    def _signed_in(self, request: Request) -> bool:
        found = presented(request)
        if found is None or self.faults.on("ticket-auth-fails"):
            return False
        if found[0] == "bearer":
            return found[1] == self.access_token
        return found == (EMAIL, self.api_token)

    def _gate(self, request: Request, key: str) -> Response | None:
        if not self._signed_in(request):
            response = _errors(401, "You are not authenticated. Authentication required to perform this operation.")
            response.headers.append(("WWW-Authenticate", 'Basic realm="protected-area"'))
            return response
        if key.upper() not in self.issues:
            return _errors(404, "Issue does not exist or you do not have permission to see it.")
        return None

    def _self(self, what: str) -> str:
        return f"{self.url}/rest/api/2/{what}"

    def issue(self, request: Request, key: str) -> Response:
        refused = self._gate(request, key)
        if refused:
            return refused
        key = key.upper()
        return json_response(200, {"id": str(self.issues[key]), "key": key, "self": self._self(f"issue/{key}"),
                                   "fields": {"summary": "Keyfactor Command 10.2 upgrade"}})

    def attach(self, request: Request, key: str) -> Response:
        refused = self._gate(request, key)
        if refused:
            return refused
        if (request.header("x-atlassian-token") or "").lower() not in XSRF_TOKENS:
            return Response(403, b"XSRF check failed", "text/plain; charset=utf-8")
        parts = [part for part in multipart(request) if part[0] == "file"]
        if not parts:
            return _errors(400, "No attachment was found in the request: the multipart field must be named 'file'.")
        created = []
        for _, name, content_type, data in parts:
            self.inbox.keep("jira", Received(key.upper(), "attachment", name, content_type, data))
            number = next(self.ids)
            created.append({"self": self._self(f"attachment/{number}"), "id": str(number), "filename": name,
                            "author": {"emailAddress": EMAIL}, "created": _now(), "size": len(data),
                            "mimeType": content_type, "content": f"{self.url}/secure/attachment/{number}/{name}"})
        return json_response(200, created)

    def comment(self, request: Request, key: str) -> Response:
        refused = self._gate(request, key)
        if refused:
            return refused
        try:
            body = request.json()
        except ValueError:
            return _errors(400, "Unexpected character: the request body is not JSON.")
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return json_response(400, {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}})
        self.inbox.keep("jira", Received(key.upper(), "note", text=text))
        number = next(self.ids)
        return json_response(201, {"self": self._self(f"issue/{key.upper()}/comment/{number}"), "id": str(number),
                                   "author": {"emailAddress": EMAIL}, "body": text, "created": _now(),
                                   "updated": _now()})


def multipart(request: Request) -> list[tuple[str, str, str, bytes]]:
    """(field name, file name, content type, bytes) of each part of a multipart/form-data body, bytes as sent."""
    header = Message()
    header["content-type"] = request.header("content-type") or ""
    boundary = header.get_param("boundary") if header.get_content_type() == "multipart/form-data" else None
    if not isinstance(boundary, str):
        return []
    found = []
    for chunk in (b"\r\n" + request.body).split(b"\r\n--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        part = Message()
        for line in head.decode("utf-8", "replace").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            part[name.strip()] = value.strip()
        disposition = part.get_params(header="content-disposition") or []
        params = {k.lower(): v for k, v in disposition if isinstance(v, str)}
        found.append((params.get("name", ""), params.get("filename", ""),
                      part.get("content-type", "application/octet-stream"), data))
    return found


def _now() -> str:
    return dt.datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S.000%z")
