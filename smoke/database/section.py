"""The [database] section of an environment file: where the connection string comes from, and timeouts."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from smoke.ground import evidence
from smoke.ground.errors import ConfigError
from smoke.ground.sections import Section, as_seconds

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DatabaseSection(Section):
    """smoke/test_database.py"""

    # The NAME of the environment variable holding the ODBC connection string (it holds a password).
    connection_string_env: str
    database: str | None = None  # the Keyfactor database; default: DATABASE= of the connection string
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 15.0  # login and each query

    @model_validator(mode="before")
    @classmethod
    def _a_name_not_a_string(cls, values: Any) -> Any:
        # Checked on the whole section so that the error shows "{…}", never a pasted connection string.
        name = values.get("connection_string_env") if isinstance(values, dict) else None
        if isinstance(name, str) and not _ENV_NAME.fullmatch(name):
            raise ValueError("[database] connection_string_env must be the NAME of the environment variable that "
                             "holds the ODBC connection string (e.g. \"KF_SMOKE_SQL\"), not the string itself — "
                             "move the connection string into that variable")
        return values

    @field_validator("timeout_s", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return as_seconds(value)

    def connection_string(self) -> str:
        """The connection string, from the environment variable (never from a file); registered as a secret."""
        given = os.environ.get(self.connection_string_env)
        value = (given or "").strip()
        if not value:
            state = "is not set" if given is None else "is set but empty"
            raise ConfigError(f"[database] connection_string_env: environment variable {self.connection_string_env} "
                              f"{state} — set it to the ODBC connection string of the Keyfactor database "
                              "(README: \"The logs and database checks\"); it is never read from a file")
        evidence.register_secret(value)
        return value
