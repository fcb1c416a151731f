"""The baseline wing's one-line errors."""

from smoke.ground.errors import SmokeError


class BaselineError(SmokeError):
    """A baseline file that cannot be used: missing, empty, truncated, not a baseline, another environment."""
