"""Helper processes of a shared scan (smoke/logscan/parts.py): how they end when something goes wrong.
The findings of a shared scan are pinned in tests/test_logscan_findings.py."""

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


def job(engine: str = search.ENGINE) -> parts.Job:
    return parts.Job(START - timedelta(days=1), None, ("Error", "Fatal"), [], engine, 64 * 1024)


def thirds(path: Path) -> list[int]:
    size = path.stat().st_size
    with open(path, "rb") as f:
        return parts.Share(3, 0, 4096, job()).bounds(f, 0, size)


def test_helpers_find_in_their_slices_what_this_process_would(log: Path) -> None:
    bounds = thirds(log)
    with parts.Helpers(log, os.stat(log), bounds, job()) as helpers:
        found = list(helpers.results())
    assert [(lo, hi) for lo, hi, _ in found] == list(zip(bounds[1:-1], bounds[2:], strict=True))
    entries = [part[0] for _, _, part in found if part is not None]
    assert len(entries) == 2 and all(entries)
    whole = scan([log], Window(START - timedelta(days=1)), processes=1).entries
    alone = scan([log], Window(START - timedelta(days=1)), processes=3, split_from=0).entries
    assert whole == alone > sum(entries)


def test_a_helper_that_finds_another_file_at_the_path_leaves_its_slice_to_this_process(
    log: Path, tmp_path: Path
) -> None:
    # As when the log is rotated (renamed, a new one created) between this process's open and the helper's.
    other = tmp_path / "other.txt"
    other.write_bytes(log.read_bytes())
    with parts.Helpers(log, os.stat(other), thirds(log), job()) as helpers:
        assert [part for _, _, part in helpers.results()] == [None, None]


def test_a_helper_that_crashes_is_one_line_naming_it_and_its_slice(log: Path) -> None:
    with pytest.raises(LogScanError) as failed, parts.Helpers(log, os.stat(log), thirds(log), job("nope")) as helpers:
        list(helpers.results())
    message = str(failed.value)
    assert "\n" not in message and f"of {log} failed (exit code 1: ValueError: unknown search engine 'nope'" in message
    assert message.endswith("— scan again; if it recurs, scan with processes=1 and report this line")


def test_helpers_are_stopped_when_this_process_is_interrupted(log: Path) -> None:
    with pytest.raises(KeyboardInterrupt), parts.Helpers(log, os.stat(log), thirds(log), job()) as helpers:
        started = [proc for proc, _ in helpers.procs]
        raise KeyboardInterrupt
    assert len(started) == 2 and all(proc.poll() is not None for proc in started)
