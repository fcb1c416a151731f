"""A ServiceNow-like instance, as strict as the documented REST APIs it stands in for:

- Table API: `GET /api/now/table/change_request?sysparm_query=number=CHG…&sysparm_fields=…&sysparm_limit=…` answers
  `{"result": [...]}` — an empty list for a number it does not hold (or may not show); `PATCH
  /api/now/table/change_request/{sys_id}` with a JSON body, where `work_notes` adds a journal entry.
- Attachment API: `POST /api/now/attachment/file?table_name=…&table_sys_id=…&file_name=…` with the raw file as the
  body and its Content-Type; `201 Created`, a Location header and the attachment's record. The extension must be on
  the allow-list (glide.attachment.extensions) when one is set: otherwise 403.
- Basic authentication, and OAuth's password grant (`POST /oauth_token.do`, form-encoded) whose Bearer token the
  APIs then accept. Errors in ServiceNow's envelope: `{"error": {"message", "detail"}, "status": "failure"}`.

Faults: ticket-not-found (the change table holds no record), ticket-auth-fails (every credential refused),
ticket-html-refused (an allow-list without html), ticket-slow and ticket-5xx-once (ticket_desk.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from .faults import ActiveFaults
from .ticket_desk import Inbox, Received, StandIn, TicketFaults, presented
from .web import Request, Response, Router, json_response

USER = "svc-smoke"
CLIENT_ID = "kf-smoke-sandbox"
CHANGES = ("CHG0012345", "CHG0012346")
TABLE = "change_request"
# An administrator's allow-list that forgot .html (ticket-html-refused); without the fault there is none (any file).
ALLOW_LIST_WITHOUT_HTML = ("pdf", "txt", "zip", "png", "jpg", "docx", "xlsx", "csv", "msg")
UPLOAD = re.compile(r"/api/now/attachment/file", re.I)


def _failure(status: int, message: str, detail: str | None = None) -> Response:
    return json_response(status, {"error": {"message": message, "detail": detail}, "status": "failure"})


@dataclass
class ServiceNowInstance:
    faults: ActiveFaults
    inbox: Inbox
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    issued: list[str] = field(default_factory=list)  # OAuth access and refresh tokens handed out
    changes: dict[str, dict[str, str]] = field(default_factory=dict)  # sys_id -> record
    site: StandIn = field(default_factory=lambda: StandIn(Router()))

    def __post_init__(self) -> None:
        if not self.faults.on("ticket-not-found"):
            for number in CHANGES:
                sys_id = secrets.token_hex(16)
                self.changes[sys_id] = {"sys_id": sys_id, "number": number, "state": "-1",
                                        "short_description": "Keyfactor Command 10.2 upgrade", "work_notes": ""}
        self.allowed = ALLOW_LIST_WITHOUT_HTML if self.faults.on("ticket-html-refused") else None
        router = self.site.router
        router.front.append(TicketFaults(self.faults, UPLOAD).front)
        router.add("POST", r"/oauth_token\.do", self.token, authenticated=False)
        router.add("GET", rf"/api/now/table/{TABLE}", self.query, authenticated=False)
        router.add("PATCH", rf"/api/now/table/{TABLE}/(?P<sys_id>[0-9a-f]{{32}})", self.update, authenticated=False)
        router.add("POST", UPLOAD.pattern, self.attach, authenticated=False)

    @property
    def url(self) -> str:
        return self.site.url

    def sys_id(self, number: str) -> str | None:
        return next((sys_id for sys_id, record in self.changes.items() if record["number"] == number), None)

    def number(self, sys_id: str) -> str:
        return self.changes[sys_id]["number"]

    # --- authentication ---------------------------------------------------------------------------
    def _signed_in(self, request: Request) -> bool:
        found = presented(request)
        if found is None or self.faults.on("ticket-auth-fails"):
            return False
        if found[0] == "bearer":
            return found[1] in self.issued
        return found == (USER, self.password)

    def _refused(self) -> Response:
        response = _failure(401, "User Not Authenticated", "Required to provide Auth information")
        response.headers.append(("WWW-Authenticate", 'BASIC realm="Service-now"'))
        return response

    def token(self, request: Request) -> Response:
        """The OAuth password grant."""
        if "application/x-www-form-urlencoded" not in (request.header("content-type") or ""):
            return json_response(400, {"error_description": "invalid content type", "error": "invalid_request"})
        form = {key: values[-1] for key, values in parse_qs(request.body.decode("utf-8")).items()}
        if form.get("grant_type") != "password":
            return json_response(400, {"error_description": "unsupported grant type",
                                       "error": "unsupported_grant_type"})
        valid = (form.get("client_id") == CLIENT_ID and form.get("client_secret") == self.client_secret
                 and form.get("username") == USER and form.get("password") == self.password)
        if not valid or self.faults.on("ticket-auth-fails"):
            return json_response(401, {"error_description": "access_denied", "error": "server_error"})
        access, refresh = secrets.token_urlsafe(64), secrets.token_urlsafe(64)
        self.issued += [access, refresh]
        return json_response(200, {"access_token": access, "refresh_token": refresh, "scope": "useraccount",
                                   "token_type": "Bearer", "expires_in": 1799})

    # --- Table API ---------------------------------------------------------------------------------
    def query(self, request: Request) -> Response:
        if not self._signed_in(request):
            return self._refused()
        conditions = [c.partition("=") for c in (request.param("sysparm_query") or "").split("^") if c]
        # As ServiceNow does by default, a condition on a field the table lacks is ignored.
        found = [record for record in self.changes.values()
                 if all(record.get(name) == value for name, _, value in conditions if name in record)]
        limit = request.param("sysparm_limit")
        if limit and limit.isdigit():
            found = found[: int(limit)]
        fields = [f for f in (request.param("sysparm_fields") or "").split(",") if f]
        result = [{k: v for k, v in record.items() if not fields or k in fields} for record in found]
        return json_response(200, {"result": result}, [("X-Total-Count", str(len(result)))])

    def update(self, request: Request, sys_id: str) -> Response:
        if not self._signed_in(request):
            return self._refused()
        if "application/json" not in (request.header("content-type") or ""):
            return _failure(415, "Unsupported Media Type", "Content-Type must be application/json")
        record = self.changes.get(sys_id)
        if record is None:
            return _failure(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
        try:
            body = request.json()
        except ValueError:
            return _failure(400, "Exception while reading request", "The payload is not valid JSON.")
        if not isinstance(body, dict):
            return _failure(400, "Exception while reading request", "The payload is not a JSON object.")
        note = body.get("work_notes")
        if note:
            self.inbox.keep("servicenow", Received(record["number"], "note", text=str(note)))
        return json_response(200, {"result": record})  # a journal field reads back empty

    # --- Attachment API ----------------------------------------------------------------------------
    def attach(self, request: Request) -> Response:
        if not self._signed_in(request):
            return self._refused()
        missing = [name for name in ("table_name", "table_sys_id", "file_name") if not request.param(name)]
        if missing:
            return _failure(400, f"Missing parameter: {missing[0]}")
        content_type = request.header("content-type")
        if not content_type:
            return _failure(400, "Missing header: Content-Type")
        table, sys_id = request.param("table_name"), request.param("table_sys_id") or ""
        name = request.param("file_name") or ""
        if table != TABLE or sys_id not in self.changes:
            return _failure(400, "Invalid table name or table_sys_id", f"{table} {sys_id}")
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        if self.allowed is not None and extension not in self.allowed:
            return _failure(403, "Attachment not allowed", f"the file extension .{extension} is not allowed "
                                                           "(glide.attachment.extensions)")
        self.inbox.keep("servicenow", Received(self.number(sys_id), "attachment", name, content_type, request.body))
        attachment = secrets.token_hex(16)
        location = f"{self.url}/api/now/attachment/{attachment}"
        return json_response(201, {"result": {
            "sys_id": attachment, "file_name": name, "content_type": content_type,
            "size_bytes": str(len(request.body)), "table_name": table, "table_sys_id": sys_id,
            "hash": hashlib.sha256(request.body).hexdigest(), "download_link": f"{location}/file",
        }}, [("Location", location)])
