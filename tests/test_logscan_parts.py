"""Helper processes of a shared scan (smoke/logscan/parts.py): what they hand back, and how they end when
something goes wrong. The findings of shared scans are pinned in tests/test_logscan_findings.py."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from bench.log_corpora import START, write_dense
from smoke.logscan import LogScanError, Window, parts, scan, search


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parts") / "Command_Portal_Log.txt"
    write_dense(path, 512 * 1024)
    return path


@pytest.fixture(autouse=True)
def helpers_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every helper takes a slice before this process takes its second: the files here are small."""
    monkeypatch.setattr(parts, "HELPERS_FIRST", True)


def job(engine: str = search.ENGINE) -> parts.Job:
    return parts.Job(START - timedelta(days=1), None, ("Error", "Fatal"), [], engine, 64 * 1024)


def helpers(log: Path, engine: str = search.ENGINE, same_as: Path | None = None) -> parts.Helpers:
    with open(log, "rb") as f:
        bounds = parts.Share(3, 0, 4096, job()).bounds(f, 0, log.stat().st_size)
    return parts.Helpers(log, os.stat(same_as or log), bounds, job(engine), 3)


def test_helpers_take_slices_from_the_back_and_count_what_this_process_would(log: Path) -> None:
    with helpers(log) as shared:
        mine = list(shared.front())
        found = list(shared.results())
        taken = sorted(index for helper in shared.helpers for index in helper.claimed)
    assert len(found) == 2 and sum(count for count, _ in found) > 0
    assert mine == shared.slices[: len(mine)] and taken == list(range(len(mine), len(shared.slices)))
    assert len(mine) < len(shared.slices) - 1
    window = Window(START - timedelta(days=1))
    assert scan([log], window, processes=1).entries == scan([log], window, processes=3, split_from=0).entries


def test_a_helper_that_finds_another_file_at_the_path_leaves_the_slices_to_this_process(
    log: Path, tmp_path: Path
) -> None:
    # As when the log is rotated (renamed, a new one created) between this process's open and the helper's.
    other = tmp_path / "other.txt"
    other.write_bytes(log.read_bytes())
    with helpers(log, same_as=other) as shared:
        assert list(shared.front()) == shared.slices
        assert list(shared.results()) == []


def test_a_helper_that_crashes_is_one_line_naming_it_and_its_slice(log: Path) -> None:
    with pytest.raises(LogScanError) as failed, helpers(log, engine="nope") as shared:
        list(shared.front())
        list(shared.results())
    message = str(failed.value)
    assert "\n" not in message and f"{log} failed (exit code 1: ValueError: unknown search engine 'nope'" in message
    assert message.endswith("— scan again; if it recurs, scan with processes=1 and report this line")


def test_helpers_are_stopped_when_this_process_is_interrupted(log: Path) -> None:
    with pytest.raises(KeyboardInterrupt), helpers(log) as shared:
        started = [helper.proc for helper in shared.helpers]
        next(shared.front())
        raise KeyboardInterrupt
    assert len(started) == 2 and all(proc.poll() is not None for proc in started)
