"""Changes an upgrade makes on purpose: the vendor's documented ones (given by the keyfactor wing) and the user's
own `[[baseline.expected]]` entries. Each matches a change's address, `<area>/<item>: <path>`; an entry past its
expiry date no longer applies, and the report says so — the same rules as log waivers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from smoke.baseline.errors import BaselineError


@dataclass(frozen=True)
class Expectation:
    pattern: str  # a regular expression searched in "<area>/<item>: <path>"
    justification: str
    expires: dt.date | None = None
    kinds: tuple[str, ...] = ("changed", "missing", "added")
    before: str | None = None  # when set, also searched in the value before the change
    source: str = "[[baseline.expected]]"
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    before_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.justification.strip():
            raise BaselineError(f"baseline: expected change {self.pattern!r} has no justification — say why the "
                                "change is expected in its justification in [[baseline.expected]]")
        try:
            object.__setattr__(self, "regex", re.compile(self.pattern))
            object.__setattr__(self, "before_regex", re.compile(self.before) if self.before else None)
        except re.error as exc:
            raise BaselineError(f"baseline: expected change {self.pattern!r} is not a valid regular expression "
                                f"({exc}) — fix its pattern in [[baseline.expected]]") from None

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, kind: str, address: str, before: object) -> bool:
        if kind not in self.kinds or not self.regex.search(address):
            return False
        return self.before_regex is None or bool(self.before_regex.search(str(before)))

    def describe(self) -> str:
        until = f", expires {self.expires.isoformat()}" if self.expires else ""
        return f"{self.pattern!r} ({self.justification}{until})"
