"""What the two ticket stand-ins (servicenow.py, jira.py) share: their own HTTPS server on loopback, the faults
every ticket system shows the same way, and the inbox that keeps what they received.

The inbox is `$KF_SANDBOX_TICKET_INBOX` when set (so that a test, or a person trying it, can read it after the
sandbox stopped), else `<state>/ticket-inbox`: one folder per system and ticket, each received file stored as its
bytes (`<n>-<file name>`), and `received.jsonl` with one line per attachment or note, in order.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .faults import ActiveFaults
from .web import Authenticator, Request, Response, Router, SandboxHTTPServer, serve, tls_context

INBOX_ENV = "KF_SANDBOX_TICKET_INBOX"
HOST = "localhost"


@dataclass
class Received:
    ticket: str
    kind: str  # attachment | note
    file_name: str = ""
    content_type: str = ""
    data: bytes = b""
    text: str = ""


@dataclass
class Inbox:
    folder: Path
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def at(cls, state_dir: Path) -> Inbox:
        return cls(Path(os.environ.get(INBOX_ENV) or state_dir / "ticket-inbox"))

    def keep(self, system: str, found: Received) -> None:
        with self.lock:
            self.received.append(found)
            folder = self.folder / system / found.ticket
            folder.mkdir(parents=True, exist_ok=True)
            line: dict[str, object] = {"kind": found.kind}
            if found.kind == "attachment":
                stored = folder / f"{len(self.received)}-{_safe(found.file_name)}"
                stored.write_bytes(found.data)
                line.update(file_name=found.file_name, content_type=found.content_type, size=len(found.data),
                            stored=stored.name)
            else:
                line["text"] = found.text
            with (folder / "received.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")

    def of(self, ticket: str, kind: str) -> list[Received]:
        with self.lock:
            return [found for found in self.received if found.ticket == ticket and found.kind == kind]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "file"


def presented(request: Request) -> tuple[str, str] | None:
    """What the Authorization header carries: ("bearer", token), (user, password) for Basic, or None."""
    scheme, _, value = (request.header("authorization") or "").partition(" ")
    if scheme.lower() == "bearer":
        return "bearer", value.strip()
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class TicketFaults:
    """ticket-slow and ticket-5xx-once, the same for both systems: a front hook before anything else answers."""

    def __init__(self, faults: ActiveFaults, upload: re.Pattern[str]) -> None:
        self.faults = faults
        self.upload = upload
        self.uploads = 0
        self.lock = threading.Lock()

    def front(self, request: Request) -> Response | None:
        if self.faults.on("ticket-slow"):
            time.sleep(self.faults.seconds("ticket-slow") or 0)
        if request.method == "POST" and self.upload.fullmatch(request.path) and self.faults.on("ticket-5xx-once"):
            with self.lock:
                self.uploads += 1
                first = self.uploads == 1
            if first:
                return Response(503, b"<html><body><h1>503 Service Unavailable</h1><p>The instance is temporarily "
                                     b"unavailable.</p></body></html>", "text/html; charset=utf-8")
        return None


@dataclass
class StandIn:
    """One stand-in's HTTPS server; its routes check credentials themselves, as each system does."""

    router: Router
    port: int = 0
    server: SandboxHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self, chain: Path, key: Path) -> None:
        nobody = Authenticator(False, {}, HOST)  # every route is open here; the systems authenticate in their routes
        self.server = SandboxHTTPServer(("127.0.0.1", 0), self.router, nobody, tls_context(str(chain), str(key)))
        self.port = int(self.server.server_address[1])
        serve(self.server)

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
