"""The [baseline] section of an environment file: what else to keep in a baseline, and the changes to expect."""

from __future__ import annotations

from pydantic import field_validator

from smoke.ground.sections import Section, Waiver


class ExpectedChange(Waiver):
    """[[baseline.expected]]: `pattern` is searched in "<area>/<item>: <field>" (e.g. "^templates/.*/WebServer: ");
    `justification` is the change ticket or the vendor's note; after `expires` the change counts again."""


class BaselineSection(Section):
    """smoke/test_carried_over.py"""

    # IIS applications beyond /KeyfactorAPI, the portal, /KeyfactorAgents and /CMSAPI whose sign-in methods to keep.
    applications: list[str] = []
    # Files or folders (a share or mounted path, like [logs] paths) kept as a hash and, for text, their lines.
    files: list[str] = []
    expected: list[ExpectedChange] = []

    @field_validator("applications")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/") or " " in path:
                raise ValueError(f"{path!r}: expected an IIS application path such as \"/KeyfactorProxy\"")
        return ["/" + path.strip("/") for path in paths]

    @field_validator("files")
    @classmethod
    def _files(cls, paths: list[str]) -> list[str]:
        if any(not path.strip() for path in paths):
            raise ValueError("an empty path — list files or folders, e.g. ['/mnt/kf01/Keyfactor/nlog.config']")
        return paths
