"""Fail once, then skip naming the cause: what several checks need (the API, the browser, the database, the log
folders, a Kerberos ticket) is tried by the first check that needs it. If that fails, the check fails with the
cause, and every later check that needs the same thing is skipped with "not run: <what> failed earlier in this
run — <cause>" instead of meeting the same timeout again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from smoke.ground.errors import Blocked, SmokeError

T = TypeVar("T")


class Prerequisite:
    def __init__(self, what: str) -> None:
        self.what = what  # "the Keyfactor API", "connecting to SQL Server", as the skip reason names it
        self.failure: SmokeError | str | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def check(self) -> None:
        """Raises Blocked, naming the first failure, once the prerequisite has failed."""
        if self.failure is not None:
            raise Blocked(f"not run: {self.what} failed earlier in this run — {self.failure}")

    def fail(self, failure: SmokeError | str) -> None:
        """Records the root cause; a later failure does not replace the first."""
        if self.failure is None:
            self.failure = failure

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Checks first; a SmokeError raised inside (other than Blocked) becomes the root cause, then goes on."""
        self.check()
        try:
            yield
        except Blocked:
            raise
        except SmokeError as exc:
            self.fail(exc)
            raise

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Tries once more despite an earlier failure (a cleanup that must not give up); the first cause stays."""
        earlier, self.failure = self.failure, None
        try:
            yield
        finally:
            self.failure = earlier if earlier is not None else self.failure

    def run(self, action: Callable[[], T]) -> T:
        with self.attempt():
            return action()
