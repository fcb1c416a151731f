"""The scan's findings on both bench corpora, pinned: small deterministic copies of the repetitive and the dense
corpus (bench/log_corpora.py) are written again, scanned over their whole span and over a window cut through
them, and every finding — counts, levels, signatures, messages, first/last times, files, excerpts, waivers, byte
ranges — must equal tests/data/logscan-findings.json, recorded with the scanner as it was before it was made
faster. Regenerate it only when a change of findings is intended:

    .venv/bin/python -m tests.test_logscan_findings --write
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.log_corpora import START, write_dense, write_repetitive
from smoke.logscan import ScanResult, Waiver, Window, parts, scan, search, signature

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "data" / "logscan-findings.json"
TODAY = date(2026, 12, 1)
WAIVERS = [
    Waiver(r"UpgradePlan .*Module1\d", "CHG-1: known, fixed by the next upgrade", date(2026, 12, 31)),
    Waiver(r"AgentService .*not found", "CHG-2: stores being moved", date(2026, 11, 30)),  # expired
    Waiver(r"Enrollment failed .*Access is denied", "CHG-3: permissions being granted"),
]


def corpora(folder: Path) -> dict[str, tuple[Path, Window, Window]]:
    """Each corpus's folder, a window over all of it, and one that cuts through it (entries, files)."""
    repetitive = folder / "repetitive"
    repetitive.mkdir()
    rep = write_repetitive(repetitive / "Command_Portal_Log.txt", 2 * 1024 * 1024)
    dense = folder / "dense"
    (dense / "archives").mkdir(parents=True)
    old = write_dense(dense / "archives" / "Command_Portal_Log.1.txt", 768 * 1024, seed=3)
    new = write_dense(dense / "Command_Portal_Log.txt", 768 * 1024, seed=5, start=old.last + timedelta(seconds=1))
    return {
        "repetitive": (
            repetitive,
            Window(rep.first - timedelta(seconds=1)),
            Window(START + (rep.last - START) * 0.37, START + (rep.last - START) * 0.71),
        ),
        "dense": (
            dense,
            Window(old.first - timedelta(seconds=1)),
            Window(START + (old.last - START) * 0.5, new.first + (new.last - new.first) * 0.5),
        ),
    }


def findings(result: ScanResult, root: Path) -> dict[str, Any]:
    """The result as JSON data, file paths relative to the corpus folder."""

    def relative(path: str) -> str:
        return Path(path).relative_to(root).as_posix()

    data = result.to_dict()
    for scanned in data["files"]:
        scanned["path"] = relative(scanned["path"])
    for group in data["groups"] + data["waived"]:
        group["files"] = [relative(path) for path in group["files"]]
    return data


def all_findings(folder: Path, **options: Any) -> dict[str, Any]:
    found = {}
    for name, (root, full, cut) in corpora(folder).items():
        for span, window in (("full", full), ("cut", cut)):
            found[f"{name} {span}"] = findings(scan([root], window, waivers=WAIVERS, today=TODAY, **options), root)
    return found


@pytest.fixture(
    params=[
        pytest.param(name, marks=pytest.mark.skipif(name not in search.ENGINES, reason="stringzilla not installed"))
        for name in ("stringzilla", "re")
    ]
)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The search engine the scan uses: stringzilla, and the pure-Python one chosen where it cannot be imported."""
    monkeypatch.setattr(search, "ENGINE", request.param)
    return request.param


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.usefixtures("engine")
def test_the_findings_on_both_corpora_are_the_recorded_ones(tmp_path: Path, golden: dict[str, Any]) -> None:
    found = all_findings(tmp_path)
    assert found.keys() == golden.keys()
    for key in golden:
        assert found[key] == golden[key], key


def test_the_golden_findings_cover_what_the_corpora_are_for(golden: dict[str, Any]) -> None:
    dense = golden["dense full"]
    messages = [group["message"] for group in dense["groups"]]
    assert len(messages) > 100 and len(set(messages)) == len(messages)
    assert {group["level"] for group in dense["groups"]} == {"Error", "Fatal"}
    assert any("\ufffd" in message for message in messages)  # undecodable bytes, replaced
    assert dense["waived"] and dense["expired_waivers"] and any(g["expired_waiver"] for g in dense["groups"])
    rotated = {"Command_Portal_Log.txt", "archives/Command_Portal_Log.1.txt"}
    assert {scanned["path"] for scanned in dense["files"]} == rotated
    cut = golden["dense cut"]
    assert 0 < sum(g["count"] for g in cut["groups"]) < sum(g["count"] for g in dense["groups"])
    assert golden["repetitive full"]["groups"] and golden["repetitive cut"]["groups"]


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("options", [{"chunk_size": 7_777}, {"seek": False}], ids=["small chunks", "no seek"])
def test_the_findings_do_not_depend_on_chunks_or_seeking(
    tmp_path: Path, golden: dict[str, Any], options: dict[str, Any]
) -> None:
    found = all_findings(tmp_path, **options)
    for key in golden:
        for part in ("groups", "waived", "summary"):
            assert found[key][part] == golden[key][part], (key, part)


def test_the_findings_do_not_depend_on_how_often_the_raw_counts_are_merged(
    tmp_path: Path, golden: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Per entry only raw (logger, message) counts are kept; they are merged into the groups every RAW_LIMIT
    # distinct messages. Merging every few entries must find the same: first/last times, levels, messages, ties.
    monkeypatch.setattr(sys.modules["smoke.logscan.scan"]._Groups, "RAW_LIMIT", 3)
    assert all_findings(tmp_path) == golden


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize(("processes", "slices"), [(2, 2), (2, 7), (3, 32), (5, 64)])
def test_the_findings_do_not_depend_on_sharing_the_files_with_helper_processes(
    tmp_path: Path, golden: dict[str, Any], monkeypatch: pytest.MonkeyPatch, processes: int, slices: int
) -> None:
    # split_from=0: every range is shared, also the cut windows' and the rotated archive's. The slices are cut at
    # entry starts found from wherever the even split falls (inside stack traces too), after the BOM, in CRLF;
    # the helpers take theirs from the back before this process takes its second (HELPERS_FIRST), so each helper
    # gets its slices out of order.
    monkeypatch.setattr(parts, "SLICES", slices)
    monkeypatch.setattr(parts, "HELPERS_FIRST", True)
    assert all_findings(tmp_path, processes=processes, split_from=0) == golden


def test_a_shared_range_is_cut_at_entry_starts_wherever_the_even_split_falls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Command_Portal_Log.txt"
    write_dense(path, 768 * 1024, seed=3)
    data = path.read_bytes()
    entry_starts = {m.end() for m in re.finditer(rb"\n(?=\d{4}-\d\d-\d\d)", data)}
    after_a_stack_trace = 0
    share = parts.Share(2, 0, 4096, parts.Job(START, None, ("Error",), [], search.ENGINE, 4096))
    with open(path, "rb") as f:
        for slices in range(2, 40):
            monkeypatch.setattr(parts, "SLICES", slices)
            for lo, hi in (0, len(data)), (1000, len(data) - 1000), (len(data) // 3, len(data) // 2):
                bounds = share.bounds(f, lo, hi)
                assert bounds[0] == lo and bounds[-1] == hi and bounds == sorted(set(bounds))
                assert len(bounds) == slices + 1
                assert set(bounds[1:-1]) <= entry_starts
                after_a_stack_trace += sum(
                    data.rfind(b"\n   at ", 0, cut) > data.rfind(b"\n2", 0, cut - 1) for cut in bounds[1:-1]
                )
    assert after_a_stack_trace  # some splits fell inside multi-line entries and moved to the next entry


def test_without_stringzilla_the_scan_searches_with_re_by_itself(tmp_path: Path) -> None:
    write_dense(tmp_path / "Command_Portal_Log.txt", 256 * 1024)
    program = (
        "import sys; sys.modules['stringzilla'] = None  # as on a platform without its wheel: the import fails\n"
        "from datetime import datetime\n"
        "from smoke.logscan import scan, search\n"
        f"print(search.ENGINE, scan([{str(tmp_path)!r}], datetime(2026, 11, 19)).entries)\n"
    )
    run = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert run.stderr == ""
    engine, entries = run.stdout.split()
    assert engine == "re" and int(entries) > 20
    assert int(entries) == scan([tmp_path], START - timedelta(days=1)).entries


# The signature as it was defined before it was made faster: ten passes over every message.
PLAIN_NORMALISERS = [
    (re.compile(r"'[^']*'"), "'<s>'"),
    (re.compile(r'"[^"]*"'), '"<s>"'),
    (re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b"), "<guid>"),
    (re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+"), "<url>"),
    (re.compile(r"(?:\b[A-Za-z]:|\\\\[^\\\s]+)\\[^\s'\"]*"), "<path>"),
    (re.compile(r"(?<![\w.])/(?:[^\s/'\"]+/)+[^\s'\"]*"), "<path>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"(?<![A-Za-z_\d])\d+(?:[.:,]\d+)*"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def plain_signature(message: str) -> str:
    for pattern, replacement in PLAIN_NORMALISERS:
        message = pattern.sub(replacement, message)
    return message.strip()[:300]


def tricky_messages(count: int) -> list[str]:
    """Random strings of the characters the normalisers care about: hex, digits (also non-ASCII ones), quotes,
    slashes, backslashes, dashes, dots, colons, "0x", "://", underscores, odd whitespace."""
    rnd = random.Random(17)
    pieces = list("0123456789abcdefABCDEFxgz_-./\\:,'\" \t") + ["0x", "://", "\u0663", "C:\\", "\\\\"]
    pieces += ["\u00a0", "\r\n", "\x1c", "\u3000"]  # whitespace to str.split() and to \s alike
    pieces += ["deadbeef", "12345678", "3f2a1c9e-0000-4d2b-9c1e-0a1b2c3d4e5f", "http://a/b", "/opt/x/y", "X509"]
    return ["".join(rnd.choice(pieces) for _ in range(rnd.randrange(1, 40))) for _ in range(count)]


def test_the_signature_is_the_one_of_the_ten_plain_passes(golden: dict[str, Any]) -> None:
    messages = [group["message"] for found in golden.values() for group in found["groups"] + found["waived"]]
    for message in messages + tricky_messages(20_000):
        assert signature(message) == plain_signature(message), repr(message)


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        GOLDEN.write_text(json.dumps(all_findings(Path(folder)), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
