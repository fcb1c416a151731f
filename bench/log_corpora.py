"""The two NLog corpora the log-scan bench measures, and the self-test pins at a small size.

Both are deterministic for a given size and seed, start with a BOM and use CRLF:
  repetitive  every 400th entry an Error (every 40,000th a Fatal) from three messages that repeat,
              each with a 6-line stack trace; every 1,000th entry an Info quoting "[Error]"
  dense       an Error entry every ~100 lines, every message distinct (request ids, user names, GUIDs,
              numbers, URLs, paths, thumbprints, undecodable bytes), stack traces of 2-9 lines, Fatal
              entries, correlation ids, Info lines quoting "[Error] - ", and the odd timestamp form
              (7 fractional digits, a comma, none, a "T", an impossible date)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

START = datetime(2026, 11, 20)

LOGGERS = [
    ("CSS.CMS.Core.Timer.Jobs.CASyncJob", "Synchronizing CA {n} (corp-ca{n}.example.com\\Issuing CA {n})"),
    ("Keyfactor.Web.API.Controllers.CertificatesController", "GET /KeyfactorAPI/Certificates?pq.pageReturned={n} 200"),
    ("CSS.CMS.Data.Repositories.CertificateRepository", "Loaded {n} certificates for collection {n} in {n} ms"),
    ("Keyfactor.Orchestrators.Services.AgentService", "Agent 3f2a1c9e-{n:04d}-4d2b-9c1e-0a1b2c3d4e5f checked in"),
    ("CSS.CMS.Workflow.Engine.WorkflowInstance", "Step {n} of workflow {n} completed"),
]
LEVELS = ["Trace", "Debug", "Debug", "Info", "Info", "Info", "Info", "Warn"]
ERRORS = [
    (
        "Keyfactor.Sql.Management.Upgrade.UpgradePlan",
        "Failed to run upgrade module Module{m}.sql: Execution Timeout Expired.",
    ),
    ("CSS.CMS.Core.Timer.Jobs.CASyncJob", "Unable to connect to CA 'corp-ca{n}.example.com\\Issuing CA' (0x800706BA)"),
    (
        "Keyfactor.Web.API.Controllers.EnrollmentController",
        "Enrollment failed for request {n}: The RPC server is unavailable.",
    ),
]
TRACE = "".join(f"   at CSS.CMS.Data.Layer{i}.Invoke(Int32 id)\r\n" for i in range(6))
ERROR_EVERY = 400  # entries
FATAL_EVERY = 40_000  # a multiple of ERROR_EVERY
QUOTED_EVERY = 1_000  # an Info entry that quotes "[Error]" in its message: found by grep, not an error
QUOTED = "Step {n} completed; the previous attempt logged [Error] - retried"


class Corpus(NamedTuple):
    errors: int  # Error and Fatal entries (real ones, not quotes)
    first: datetime  # the time of the first entry
    at_99: datetime  # a time after which less than 1% of the bytes lie
    last: datetime  # the time of the last entry


def write_repetitive(path: Path, size: int, seed: int = 7, start: datetime = START) -> Corpus:
    """Entries every 2-40 ms until `size` bytes, three error messages repeating."""
    rnd = random.Random(seed)
    steps = [rnd.randrange(2_000, 40_000) for _ in range(9973)]  # microseconds between entries

    def entry(index: int, stamp: str) -> tuple[str, bool]:
        if index % ERROR_EVERY == 0:
            logger, message = ERRORS[index % len(ERRORS)]
            level = "Fatal" if index % FATAL_EVERY == 0 else "Error"
            text = message.format(n=index % 97, m=index % 5)
            return f"{stamp} {logger} [{level}] - {text}\r\n{TRACE}", True
        if index % QUOTED_EVERY == 7:
            return f"{stamp} CSS.CMS.Workflow.Engine.WorkflowInstance [Info] - {QUOTED.format(n=index)}\r\n", False
        logger, message = LOGGERS[index % len(LOGGERS)]
        return f"{stamp} {logger} [{LEVELS[index % len(LEVELS)]}] - {message.format(n=index % 1000)}\r\n", False

    return _write(path, size, start, lambda index: steps[index % len(steps)], entry)


USERS = [
    "alice", "bob", "carol.smith", "dave_ops", "erin", "frank.miller", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "svc-keyfactor",
]  # fmt: skip
HOSTS = ["corp-ca1.example.com", "ca2.corp.example.com", "issuing-ca.example.org", "10.20.30.40"]
REASONS = ["The RPC server is unavailable.", "Access is denied.", "The request was aborted: timeout.", "Bad data."]
DENSE_ERRORS = [
    (
        "Keyfactor.Web.API.Controllers.EnrollmentController",
        "Enrollment failed for request {req} by CORP\\{user}: {reason} (0x{hex8})",
    ),
    ("CSS.CMS.Core.Timer.Jobs.CASyncJob", "Unable to connect to CA '{host}\\Issuing CA {n}' after {small} attempts"),
    (
        "Keyfactor.Orchestrators.Services.AgentService",
        "Agent {guid} job {guid2} failed: store /opt/keyfactor/stores/{user}/{n}.jks not found",
    ),
    (
        "Keyfactor.Web.API.Middleware.ExceptionHandler",
        "Unhandled exception for GET https://kf.example.com/KeyfactorAPI/Certificates/{n}?user={user} request {req}",
    ),
    (
        "Keyfactor.Sql.Management.Upgrade.UpgradePlan",
        "Failed to run upgrade module Module{small}.sql after {n} ms: C:\\Program Files\\Keyfactor\\{user}\\{n}.sql",
    ),
    ("CSS.CMS.Security.Authentication", 'Login failed for user {user}{small} from {ip}: "{reason}"'),
    ("Keyfactor.Certificates.Inventory", "Certificate {thumb} serial {serial} of {user} expired at {when}"),
    ("CSS.CMS.Data.Repositories.RequestRepository", "Request {req} of {user} refused by \\\\fs01\\policies\\{n}"),
]
DENSE_INFO = [
    ("Keyfactor.Web.API.Controllers.CertificatesController", "GET /KeyfactorAPI/Certificates/{n} by {user} {small} ms"),
    ("CSS.CMS.Data.Repositories.CertificateRepository", "Loaded {n} certificates for {user} (request {req})"),
    ("Keyfactor.Orchestrators.Services.AgentService", "Agent {guid} checked in from {ip}"),
    ("CSS.CMS.Workflow.Engine.WorkflowInstance", "Step {small} of workflow {n} for {user} completed"),
    ("CSS.CMS.Core.Timer.Jobs.CASyncJob", "Synchronized {n} records from '{host}\\Issuing CA {small}'"),
]  # fmt: skip
DENSE_ERROR_EVERY = 97  # lines, roughly: an error's stack trace adds its own lines
DENSE_FATAL_EVERY = 50  # errors
DENSE_QUOTED_EVERY = 211  # entries
ODD_STAMP_EVERY = 1009  # entries


def write_dense(path: Path, size: int, seed: int = 11, start: datetime = START) -> Corpus:
    """Entries every 0.2-4 ms until `size` bytes; an Error about every 100 lines, no two messages alike."""
    rnd = random.Random(seed)
    since_error = 0

    def values(index: int) -> _Values:
        return _Values(rnd, index, start)

    def entry(index: int, stamp: str) -> tuple[str, bool]:
        nonlocal since_error
        real = True  # an impossible date makes the line a continuation, whatever its level tag says
        if index % ODD_STAMP_EVERY == 0:
            stamp, real = _odd(stamp, index // ODD_STAMP_EVERY)
        since_error += 1
        if since_error >= DENSE_ERROR_EVERY:
            since_error = 0
            logger, message = DENSE_ERRORS[rnd.randrange(len(DENSE_ERRORS))]
            level = "Fatal" if rnd.randrange(DENSE_FATAL_EVERY) == 0 else "Error"
            text = message.format_map(values(index))
            if rnd.randrange(13) == 0:
                text += " \udcff\udcfe from a legacy client"  # undecodable bytes, written back by surrogateescape
            correlation = f"{rnd.getrandbits(32):08x}-4d2b-9c1e-0a1b-{index:012x} " if index % 5 == 0 else ""
            frame = f"   at Keyfactor.{logger.rsplit('.', 1)[-1]}.Frame{{}}(Int32 id) in C:\\src\\{{}}.cs:{index % 500}"
            frames = "".join(frame.format(k, k) + "\r\n" for k in range(2 + rnd.randrange(8)))
            return f"{stamp} {correlation}{logger} [{level}] - {text}\r\n{frames}", real
        if index % DENSE_QUOTED_EVERY == 3:
            text = f"Retry {index} of request {rnd.getrandbits(24):x} passed; the first try logged [Error] - Timeout"
            return f"{stamp} CSS.CMS.Workflow.Engine.WorkflowInstance [Info] - {text}\r\n", False
        logger, message = DENSE_INFO[index % len(DENSE_INFO)]
        level = LEVELS[rnd.randrange(len(LEVELS))]
        return f"{stamp} {logger} [{level}] - {message.format_map(values(index))}\r\n", False

    rnd_steps = random.Random(seed + 1)
    steps = [rnd_steps.randrange(200, 4_000) for _ in range(9973)]
    return _write(path, size, start, lambda index: steps[index % len(steps)], entry)


_MAKE: dict[str, Callable[[random.Random, int, datetime], str]] = {
    "n": lambda rnd, index, start: str(rnd.randrange(1, 10**7)),
    "small": lambda rnd, index, start: str(rnd.randrange(1, 40)),
    "req": lambda rnd, index, start: f"{index:x}{rnd.getrandbits(20):05x}",
    "user": lambda rnd, index, start: USERS[rnd.randrange(len(USERS))],
    "reason": lambda rnd, index, start: REASONS[rnd.randrange(len(REASONS))],
    "hex8": lambda rnd, index, start: f"{rnd.getrandbits(32):08X}",
    "host": lambda rnd, index, start: HOSTS[rnd.randrange(len(HOSTS))],
    "guid": lambda rnd, index, start: (
        f"{rnd.getrandbits(32):08x}-{rnd.getrandbits(16):04x}-4{index % 4096:03x}-9c1e-{index:012x}"
    ),
    "guid2": lambda rnd, index, start: f"{rnd.getrandbits(32):08x}-1111-2222-3333-{index:012x}",
    "ip": lambda rnd, index, start: f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}",
    "thumb": lambda rnd, index, start: f"{rnd.getrandbits(160):040X}",
    "serial": lambda rnd, index, start: f"{rnd.getrandbits(64):016x}",
    "when": lambda rnd, index, start: f"{start + timedelta(seconds=index):%Y-%m-%d %H:%M:%S}",
}


class _Values(dict[str, str]):
    """The variable parts of a message, each made only when its template names it."""

    def __init__(self, rnd: random.Random, index: int, start: datetime) -> None:
        super().__init__()
        self.rnd, self.index, self.start = rnd, index, start

    def __missing__(self, key: str) -> str:
        value = self[key] = _MAKE[key](self.rnd, self.index, self.start)
        return value


def _odd(stamp: str, which: int) -> tuple[str, bool]:
    """The timestamp forms NLog layouts also produce, and a date that does not exist (not an entry)."""
    date, clock = stamp.split(" ")
    whole, fraction = clock.split(".")
    forms = [
        f"{date} {whole}.{fraction}123",  # 7 fractional digits
        f"{date} {whole},{fraction[:3]}",  # a comma, 3 digits
        f"{date} {whole}",  # none
        f"{date}T{whole}.{fraction}",
        f"{date[:5]}02-30 {whole}.{fraction}",  # no such day: the line is a continuation, not an entry
    ]
    return forms[which % len(forms)], which % len(forms) != len(forms) - 1


def _write(
    path: Path, size: int, start: datetime, step: Callable[[int], int], entry: Callable[[int, str], tuple[str, bool]]
) -> Corpus:
    elapsed, second, prefix = 0, -1, ""
    errors, written, at_99 = 0, 0, None
    with path.open("wb") as out:
        out.write(b"\xef\xbb\xbf")
        index = 0
        while written < size:
            batch: list[str] = []
            for _ in range(5000):
                index += 1
                elapsed += step(index)
                if elapsed // 1_000_000 != second:  # strftime once a second, not once a line
                    second = elapsed // 1_000_000
                    prefix = f"{start + timedelta(seconds=second):%Y-%m-%d %H:%M:%S}"
                text, error = entry(index, f"{prefix}.{elapsed % 1_000_000 // 100:04d}")
                batch.append(text)
                errors += error
            data = "".join(batch).encode("utf-8", errors="surrogateescape")
            if at_99 is None and written + len(data) >= size * 0.99:
                at_99 = start + timedelta(microseconds=elapsed)  # end of this batch: the window is < 1%
            out.write(data)
            written += len(data)
    assert at_99 is not None
    return Corpus(errors, start + timedelta(microseconds=step(1)), at_99, start + timedelta(microseconds=elapsed))
