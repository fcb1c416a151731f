"""The NLog scanner against real files: a corpus written to tmp_path, findings asserted exactly."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bench.log_corpora import write_dense
from smoke.logscan import (
    BadWaiverError,
    BadWindowError,
    LogClock,
    LogPathError,
    LogScanError,
    Waiver,
    Window,
    WizardMarker,
    cli,
    default_window,
    newest_entry_time,
    newest_entry_times,
    parse_since,
    resolve_window,
    scan,
    seek_time,
    signature,
)

ROOT = Path(__file__).resolve().parent.parent
BOM = b"\xef\xbb\xbf"
UPGRADE = "Keyfactor.Sql.Management.Upgrade.UpgradePlan"
CASYNC = "CSS.CMS.Core.Timer.CASyncJob"
GATEWAY = "Keyfactor.CAConnector.Gateway"
STARTUP = "CSS.CMS.Web.Startup"
TIMEOUT = (
    "Execution Timeout Expired. The timeout period elapsed prior to completion of the operation"
    " or the server is not responding."
)
SCRIPTS = "CSS.CMS.Install.Upgrade.Scripts"
EJBCA_MODULE = f"Failed to run upgrade module {SCRIPTS}.EJBCA_Resolved_Request_Contents_Removal.sql: {TIMEOUT}"
CURVE_MODULE = f"Failed to run upgrade module {SCRIPTS}.MicrosoftECCurveUpgradeModule.sql: {TIMEOUT}"


def t(text: str) -> datetime:
    """'01:05:00.25' -> that time on the corpus day."""
    return datetime.fromisoformat(f"2022-12-07 {text}")


def write_log(path: Path, lines: list[str | bytes], *, newline: bytes = b"\r\n", bom: bool = False) -> Path:
    """One line per item; str is encoded as UTF-8, bytes are written as they are (undecodable ones too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = [line.encode("utf-8") if isinstance(line, str) else line for line in lines]
    path.write_bytes((BOM if bom else b"") + b"".join(line + newline for line in raw))
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A Keyfactor logs folder: the portal log (BOM, CRLF) rotated at 01:30 into archives/, a CA Connector
    log (LF, correlation ids), a text file that is no log, and a file the globs do not match."""
    folder = tmp_path / "logs"
    write_log(
        folder / "Command_Portal_Log.txt",
        [
            f"2022-12-07 01:30:00.1000 {STARTUP} [Info] - Portal started",
            f"2022-12-07 01:31:10.2500 {UPGRADE} [Error] - {EJBCA_MODULE}",
            "   at CSS.CMS.Install.Upgrade.UpgradePlan.Run(Int32 step)",
            "   at CSS.CMS.Install.ConfigurationWizard.Apply()",
            "2022-12-07 01:32:00.0000 CSS.CMS.Web.Controllers.CertificatesController [Info]"
            " - Search returned 12 rows; the previous run logged [Error] - not an error entry",
            f"2022-12-07 01:40:00.5 {CASYNC} [Error] - Unable to connect to CA 'ca2.corp.example.com\\Issuing CA 2'"
            " (0x800706BA) after 3 attempts",
            f"2022-12-07 01:45:00.1234567 {CASYNC} [Fatal] - Timer service stopped: ".encode() + b"\xff\xfe bytes",
            "   Inner exception text: [Fatal] - quoted in a continuation line",
            f"2022-12-07 02:00:00.0000 {STARTUP} [Info] - Portal idle",
            f"2022-12-07 02:10:00.0000 {STARTUP} [Error] - Shutdown requested by CORP\\admin",
        ],
        bom=True,
    )
    write_log(
        folder / "archives" / "Command_Portal_Log.1.txt",
        [
            f"2022-12-07 00:10:00.0000 {CASYNC} [Error] - Unable to connect to CA 'ca1.corp.example.com\\Issuing CA 1'"
            " (0x800706BA) after 5 attempts",
            f"2022-12-07 00:50:00.0000 {STARTUP} [Warn] - Slow start",
            f"2022-12-07 01:05:00.0000 {CASYNC} [Error] - Unable to connect to CA 'ca1.corp.example.com\\Issuing CA 1'"
            " (0x800706BA) after 5 attempts",
            "   at CSS.CMS.Core.Timer.CASyncJob.Run()",
            f"2022-12-07 01:20:00.0000 {UPGRADE} [Error] - {CURVE_MODULE}",
        ],
        newline=b"\n",
    )
    write_log(
        folder / "Command_CAConnector_Log.log",
        [
            f"2022-12-07 00:59:59.9999 3f2a1c9e-1111-4d2b-9c1e-0a1b2c3d4e5f {GATEWAY} [Error] - Request 41 failed",
            f"2022-12-07 01:00:00.0000 3f2a1c9e-2222-4d2b-9c1e-0a1b2c3d4e5f {GATEWAY} [Error] - Request 42 failed",
            f"2022-12-07 01:10:00 0a1b2c3d-3333-4d2b-9c1e-0a1b2c3d4e5f {GATEWAY} [Info] - Request 43 done",
        ],
        newline=b"\n",
    )
    write_log(folder / "notes.txt", ["[Error] - this file is no log, it has no timestamps"])
    write_log(folder / "readme.md", [f"2022-12-07 01:50:00.0000 {STARTUP} [Error] - not a log file name"])
    return folder


def summarise(groups: list) -> list[tuple]:
    return [(g.logger, g.level, g.count, g.first, g.last, [p.name for p in g.files]) for g in groups]


EXPECTED_SINCE_0100 = [
    (CASYNC, "Error", 2, t("01:05:00"), t("01:40:00.5"), ["Command_Portal_Log.txt", "Command_Portal_Log.1.txt"]),
    (GATEWAY, "Error", 1, t("01:00:00"), t("01:00:00"), ["Command_CAConnector_Log.log"]),
    (UPGRADE, "Error", 1, t("01:20:00"), t("01:20:00"), ["Command_Portal_Log.1.txt"]),
    (UPGRADE, "Error", 1, t("01:31:10.25"), t("01:31:10.25"), ["Command_Portal_Log.txt"]),
    (CASYNC, "Fatal", 1, t("01:45:00.123456"), t("01:45:00.123456"), ["Command_Portal_Log.txt"]),
    (STARTUP, "Error", 1, t("02:10:00"), t("02:10:00"), ["Command_Portal_Log.txt"]),
]


# --- findings -------------------------------------------------------------------------------------------------


def test_errors_in_the_window_are_grouped_with_counts_times_and_files(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")))

    assert summarise(result.groups) == EXPECTED_SINCE_0100
    assert [g.message for g in result.groups] == [
        "Unable to connect to CA 'ca1.corp.example.com\\Issuing CA 1' (0x800706BA) after 5 attempts",
        "Request 42 failed",
        CURVE_MODULE,
        EJBCA_MODULE,
        "Timer service stopped: \ufffd\ufffd bytes",
        "Shutdown requested by CORP\\admin",
    ]
    assert result.entries == 7 and not result.clean and result.waived == [] and result.expired_waivers == []
    assert (result.window_start, result.window_end) == (t("01:00:00"), None)


def test_errors_before_the_window_are_not_reported(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")))

    reported = {(g.logger, g.first) for g in result.groups}
    assert (CASYNC, t("00:10:00")) not in reported  # the archive's first error
    gateway = next(g for g in result.groups if g.logger == GATEWAY)
    assert (gateway.count, gateway.first) == (1, t("01:00:00"))  # 00:59:59.9999 is out, 01:00:00.0000 is in


def test_errors_after_until_are_not_reported(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00"), t("02:05:00")))

    assert summarise(result.groups) == EXPECTED_SINCE_0100[:-1]


def test_a_window_after_every_entry_is_clean(logs: Path) -> None:
    result = scan([logs], Window(t("03:00:00")))

    assert result.clean and result.groups == [] and result.entries == 0
    assert result.summary_line() == "no errors since 2022-12-07 03:00:00 in 3 files"  # notes.txt is no log


def test_level_tags_quoted_in_messages_or_continuation_lines_are_not_entries(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")))

    assert "CSS.CMS.Web.Controllers.CertificatesController" not in {g.logger for g in result.groups}
    assert [g.count for g in result.groups if g.level == "Fatal"] == [1]


def test_only_files_matching_the_globs_are_read_and_archives_in_subfolders_are_included(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")))

    assert [file.path.relative_to(logs).as_posix() for file in result.files] == [
        "Command_CAConnector_Log.log",
        "Command_Portal_Log.txt",
        "archives/Command_Portal_Log.1.txt",
        "notes.txt",
    ]
    assert [file.entries for file in result.files] == [1, 4, 2, 0]


def test_the_excerpt_is_the_first_entry_with_its_continuation_lines(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")))

    assert result.groups[0].excerpt == (
        f"2022-12-07 01:05:00.0000 {CASYNC} [Error] - Unable to connect to CA 'ca1.corp.example.com\\Issuing CA 1'"
        " (0x800706BA) after 5 attempts\n"
        "   at CSS.CMS.Core.Timer.CASyncJob.Run()"
    )
    assert result.groups[4].excerpt == (
        f"2022-12-07 01:45:00.1234567 {CASYNC} [Fatal] - Timer service stopped: \ufffd\ufffd bytes\n"
        "   Inner exception text: [Fatal] - quoted in a continuation line"
    )


def test_a_long_excerpt_is_cut_to_a_sane_size(tmp_path: Path) -> None:
    trace = [f"   at CSS.CMS.Frame{i}()" for i in range(200)]
    log = write_log(tmp_path / "a.txt", [f"2022-12-07 01:00:00.0000 {CASYNC} [Error] - deep", *trace])

    excerpt = scan([log], Window(t("00:00:00"))).groups[0].excerpt

    assert excerpt.splitlines()[:2] == [f"2022-12-07 01:00:00.0000 {CASYNC} [Error] - deep", "   at CSS.CMS.Frame0()"]
    assert len(excerpt.splitlines()) == 31 and excerpt.endswith("[... cut]")


def test_the_summary_line_names_groups_counts_window_and_files(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")))

    assert result.summary_line() == (
        "6 error groups (7 entries) since 2022-12-07 01:00:00 in 3 files: "
        'CSS.CMS...CASyncJob x2 "Unable to connect to CA \'ca1.corp.example.com\\Issuing CA..."; '
        'Keyfactor.CAConnector.Gateway x1 "Request 42 failed"; '
        'Keyfactor.Sql...UpgradePlan x1 "Failed to run upgrade module CSS.CMS.Install.Upgrade.Scri..."; +3 more'
    )


def test_results_do_not_depend_on_the_chunk_size(logs: Path) -> None:
    expected = summarise(scan([logs], Window(t("01:00:00"))).groups)

    for chunk_size in (1, 7, 64, 333):
        assert summarise(scan([logs], Window(t("01:00:00")), chunk_size=chunk_size).groups) == expected


def test_reading_every_file_from_the_start_finds_the_same(logs: Path) -> None:
    assert summarise(scan([logs], Window(t("01:00:00")), seek=False).groups) == EXPECTED_SINCE_0100


def test_the_json_form_carries_window_groups_and_files(logs: Path) -> None:
    data = json.loads(json.dumps(scan([logs], Window(t("01:00:00"), t("02:05:00"))).to_dict()))

    assert data["window"] == {"start": "2022-12-07T01:00:00", "end": "2022-12-07T02:05:00", "source": ""}
    assert [g["count"] for g in data["groups"]] == [2, 1, 1, 1, 1]
    assert data["clean"] is False


def test_similar_messages_share_a_signature_and_different_ones_do_not() -> None:
    same = [
        "Request 42 for 3f2a1c9e-1111-4d2b-9c1e-0a1b2c3d4e5f failed at C:\\Keyfactor\\logs\\a.txt (0x80070005)",
        "Request 7 for 0a1b2c3d-3333-4d2b-9c1e-0a1b2c3d4e5f failed at C:\\Temp\\b.txt (0x8007000E)",
    ]
    assert signature(same[0]) == signature(same[1]) == "Request <n> for <guid> failed at <path> (<hex>)"
    assert signature("Thumbprint 3A5F9C0D1E2B4A6F8091A2B3C4D5E6F708192A3B not 'found' at 10.0.0.1") == (
        "Thumbprint <hex> not '<s>' at <n>"
    )
    assert signature("Failed to run upgrade module A.sql") != signature("Failed to run upgrade module B.sql")
    assert signature("X509Certificate2 was null") == "X509Certificate2 was null"


# --- waivers --------------------------------------------------------------------------------------------------


def upgrade_waiver(expires: date) -> Waiver:
    return Waiver(r"UpgradePlan .*Execution Timeout Expired", "CHG-1234: timeout raised after the upgrade", expires)


def test_a_waived_error_is_reported_separately_and_not_as_a_finding(logs: Path) -> None:
    waiver = upgrade_waiver(date(2022, 12, 31))

    result = scan([logs], Window(t("01:00:00")), waivers=[waiver], today=date(2022, 12, 8))

    assert [g.logger for g in result.groups] == [CASYNC, GATEWAY, CASYNC, STARTUP]
    assert summarise(result.waived) == [EXPECTED_SINCE_0100[2], EXPECTED_SINCE_0100[3]]
    assert all(g.waiver is waiver for g in result.waived)
    assert result.expired_waivers == []
    assert result.summary_line().endswith("(2 waived groups, 2 entries)")


def test_a_waiver_is_still_valid_on_its_expiry_date(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")), waivers=[upgrade_waiver(date(2022, 12, 31))], today=date(2022, 12, 31))

    assert len(result.waived) == 2 and result.expired_waivers == []


def test_an_expired_waiver_stops_applying_and_is_listed_as_expired(logs: Path) -> None:
    waiver = upgrade_waiver(date(2022, 12, 31))

    result = scan([logs], Window(t("01:00:00")), waivers=[waiver], today=date(2023, 1, 1))

    assert summarise(result.groups) == EXPECTED_SINCE_0100
    assert result.waived == []
    assert result.expired_waivers == [waiver]
    assert [g.expired_waiver for g in result.groups] == [None, None, waiver, waiver, None, None]
    assert result.summary_line().endswith(
        "; waiver 'UpgradePlan .*Execution Timeout Expired' expired on 2022-12-31, evaluating normally"
    )


def test_a_waiver_with_a_bad_pattern_or_no_justification_is_refused_in_one_line() -> None:
    with pytest.raises(BadWaiverError) as bad_pattern:
        Waiver("Timeout (", "known", date(2022, 12, 31))
    with pytest.raises(BadWaiverError) as no_reason:
        Waiver("Timeout", "  ", date(2022, 12, 31))

    assert str(bad_pattern.value).startswith("logs: waiver pattern 'Timeout (' is not a valid regular expression")
    assert str(no_reason.value).startswith("logs: waiver 'Timeout' has no justification")
    assert "\n" not in str(bad_pattern.value) + str(no_reason.value)


def test_a_waiver_expiry_may_be_written_as_text_but_must_be_a_date() -> None:
    assert Waiver("Timeout", "known", "2022-12-31").expires == date(2022, 12, 31)  # type: ignore[arg-type]
    with pytest.raises(BadWaiverError, match=r"^logs: waiver 'Timeout' expires 'soon', which is not a date"):
        Waiver("Timeout", "known", "soon")  # type: ignore[arg-type]


# --- paths ----------------------------------------------------------------------------------------------------


def test_a_missing_folder_is_one_clear_line_naming_the_path_and_the_fix(tmp_path: Path) -> None:
    share = str(tmp_path / "missing" / "logs")

    with pytest.raises(LogPathError) as error:
        scan([share], Window(t("01:00:00")))

    assert isinstance(error.value, LogScanError)
    assert str(error.value) == (
        f"logs: folder {share} does not exist or is not reachable"
        " — check the share is mounted and the path in [logs] paths"
    )


def test_a_windows_share_path_that_is_not_reachable_is_named_as_written() -> None:
    share = r"\\server.invalid\c$\Keyfactor\logs"

    with pytest.raises(LogPathError, match=r"^logs: folder \\\\server\.invalid\\c\$\\Keyfactor\\logs does not exist"):
        scan([share], Window(t("01:00:00")))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_is_one_clear_line(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0)
    try:
        with pytest.raises(LogPathError, match=r"^logs: .*locked cannot be read \(Permission denied\) — give"):
            scan([folder], Window(t("01:00:00")))
    finally:
        folder.chmod(0o755)


def test_a_file_given_by_name_is_read_whatever_its_name(tmp_path: Path) -> None:
    log = write_log(tmp_path / "portal.out", [f"2022-12-07 01:00:00.0000 {CASYNC} [Error] - failed"])

    assert summarise(scan([log], Window(t("00:00:00"))).groups) == [
        (CASYNC, "Error", 1, t("01:00:00"), t("01:00:00"), ["portal.out"])
    ]


def test_a_file_last_written_before_the_window_is_skipped_unread(tmp_path: Path) -> None:
    log = write_log(tmp_path / "old.txt", [f"2022-12-07 01:00:00.0000 {CASYNC} [Error] - failed"])
    written = datetime(2022, 12, 7, 1, 0).timestamp()
    os.utime(log, (written, written))

    result = scan([log], Window(t("12:00:00")))

    assert [(s.skipped, s.bytes_read) for s in result.files] == [("last written before the window", 0)]


def test_undecodable_bytes_empty_files_and_a_lone_bom_do_not_crash(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bom.txt").write_bytes(BOM)
    (tmp_path / "binary.log").write_bytes(bytes(range(256)) * 64)
    error = f"2022-12-07 01:00:00 {CASYNC} [Error] - ".encode() + b"\x80"
    write_log(tmp_path / "mixed.txt", [b"\xff\xfe\x00garbage", error])

    result = scan([tmp_path], Window(t("00:00:00")))

    assert [(g.logger, g.message) for g in result.groups] == [(CASYNC, "\ufffd")]


# --- binary search --------------------------------------------------------------------------------------------


def write_seek_corpus(path: Path, entries: int = 12_000) -> list[tuple[int, datetime]]:
    """Entries every 2 s from 00:00 (BOM, CRLF); every 7th has a stack trace, one a 100 KB trace.
    Returns (offset, time) of every entry, computed while writing: independent of the scanner."""
    out = bytearray(BOM)
    starts = []
    for i in range(entries):
        time = t("00:00:00") + timedelta(seconds=2 * i)
        starts.append((0 if i == 0 else len(out), time))
        out += f"{time:%Y-%m-%d %H:%M:%S}.{time.microsecond // 100:04d} {CASYNC} [Info] - entry {i}\r\n".encode()
        if i % 7 == 0:
            out += b"".join(f"   at CSS.CMS.Frame{j}()\r\n".encode() for j in range(i % 5))
        if i == 5_000:
            out += b"   at CSS.CMS.Deep.Frame()\r\n" * 4000
    path.write_bytes(out)
    return starts


def expected_offset(starts: list[tuple[int, datetime]], target: datetime, size: int) -> int:
    return next((offset for offset, time in starts if time >= target), size)


def test_the_binary_search_lands_on_the_first_entry_at_or_after_the_target(tmp_path: Path) -> None:
    log = tmp_path / "big.txt"
    starts = write_seek_corpus(log)
    size = log.stat().st_size
    targets = [
        t("00:00:00") - timedelta(days=1),  # before the first entry
        t("00:00:00"),  # the first entry exactly
        starts[5_000][1] + timedelta(seconds=1),  # inside the 100 KB multi-line entry
        starts[5_000][1],
        starts[5_001][1],
        starts[-1][1],  # the last entry
        starts[-1][1] + timedelta(microseconds=1),  # after the last entry
        *(t("00:00:00") + timedelta(seconds=s) for s in range(1, 2 * len(starts), 997)),  # between entries
    ]

    with log.open("rb") as f:
        for target in targets:
            assert seek_time(f, size, target) == expected_offset(starts, target, size), target


class CountingFile(io.FileIO):
    """A real file that counts the bytes read through it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data or b"")
        return data or b""


def test_the_binary_search_reads_a_small_part_of_a_large_file(tmp_path: Path) -> None:
    log = tmp_path / "big.txt"
    starts = write_seek_corpus(log, entries=40_000)
    size = log.stat().st_size
    target = starts[-100][1]

    with CountingFile(log) as f:
        assert seek_time(f, size, target) == starts[-100][0]

    assert size > 3_000_000 and f.bytes_read < 300_000


def test_the_binary_search_in_a_file_without_timestamps_or_empty_lands_at_the_end(tmp_path: Path) -> None:
    text = tmp_path / "text.txt"
    text.write_bytes(b"no timestamps here\n" * 10_000)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    for path in (text, empty):
        with path.open("rb") as f:
            assert seek_time(f, path.stat().st_size, t("00:00:00")) == path.stat().st_size


def test_a_window_in_a_large_file_reads_only_the_window(tmp_path: Path) -> None:
    log = tmp_path / "big.txt"
    starts = write_seek_corpus(log)
    with log.open("ab") as f:
        f.write(f"2022-12-08 00:00:00.0000 {CASYNC} [Error] - late failure\r\n".encode())

    result = scan([log], Window(t("06:30:00")))  # the corpus runs from 00:00 to 06:40

    late = datetime(2022, 12, 8)
    assert summarise(result.groups) == [(CASYNC, "Error", 1, late, late, ["big.txt"])]
    start = result.files[0].start
    assert start <= expected_offset(starts, t("06:30:00"), log.stat().st_size)
    assert result.files[0].bytes_read < log.stat().st_size // 10


def test_entries_slightly_out_of_order_at_the_window_start_are_still_found(tmp_path: Path) -> None:
    # A block of late lines (times just before the window) after an error inside it: a probe landing in
    # the block would move the search past the error, were it not for the seek slack.
    before = [f"2022-12-07 00:{s // 60:02d}:{s % 60:02d}.0000 {STARTUP} [Info] - {'x' * 80}" for s in range(3000)]
    late = [f"2022-12-07 00:58:{s // 10:02d}.{s % 10}000 {STARTUP} [Info] - late {'y' * 80}" for s in range(500)]
    log = write_log(
        tmp_path / "a.txt",
        [
            *before,
            f"2022-12-07 01:00:05.0000 {CASYNC} [Error] - written before the late lines",
            *late,
            f"2022-12-07 01:00:09.0000 {STARTUP} [Info] - after",
        ],
    )

    result = scan([log], Window(t("01:00:00")))

    assert summarise(result.groups) == [(CASYNC, "Error", 1, t("01:00:05"), t("01:00:05"), ["a.txt"])]


# --- freshness ------------------------------------------------------------------------------------------------


def test_the_newest_entry_is_read_from_the_tail_of_a_file(tmp_path: Path) -> None:
    log = tmp_path / "big.txt"
    starts = write_seek_corpus(log)
    with log.open("ab") as f:
        f.write(f"2022-12-08 00:00:00.1234 {CASYNC} [Error] - last\r\n".encode())
        f.write(b"   at CSS.CMS.Deep.Frame()\r\n" * 5000)  # 140 KB of continuation after it, no final newline
        f.write(b"   at CSS.CMS.Last()")

    assert newest_entry_time(log) == datetime(2022, 12, 8, 0, 0, 0, 123400)
    assert starts[-1][1] < datetime(2022, 12, 8)


def test_the_newest_entry_of_a_folder_is_the_newest_across_its_files(logs: Path) -> None:
    times = newest_entry_times(logs)

    assert {path.name: time for path, time in times.items()} == {
        "Command_CAConnector_Log.log": t("01:10:00"),
        "Command_Portal_Log.txt": t("02:10:00"),
        "Command_Portal_Log.1.txt": t("01:20:00"),
        "notes.txt": None,
    }
    assert newest_entry_time(logs) == t("02:10:00")


def test_a_folder_without_log_entries_has_no_newest_entry(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")

    assert newest_entry_time(tmp_path) is None


# --- window ---------------------------------------------------------------------------------------------------


NOW = datetime(2026, 11, 27, 3, 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", NOW - timedelta(seconds=90)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("1d", NOW - timedelta(days=1)),
        ("1h30m", NOW - timedelta(minutes=90)),
        (" 2H ", NOW - timedelta(hours=2)),
        ("2026-11-27T01:00", datetime(2026, 11, 27, 1, 0)),
        ("2026-11-27 01:00:30.5", datetime(2026, 11, 27, 1, 0, 30, 500000)),
        ("2026-11-27T01:00:00+02:00", datetime(2026, 11, 27, 0, 0)),  # 23:00 UTC = 00:00 at +01:00
        ("2026-11-26T23:00:00Z", datetime(2026, 11, 27, 0, 0)),
    ],
)
def test_since_accepts_durations_and_iso_times_in_the_log_clock(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW, LogClock.parse("+01:00")) == expected


def test_since_turns_an_aware_now_into_the_log_clock() -> None:
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

    assert parse_since("1h", now, LogClock.parse("-05:00")) == datetime(2026, 11, 26, 21, 0)
    assert parse_since("1h", now, LogClock.parse("UTC")) == datetime(2026, 11, 27, 2, 0)


@pytest.mark.parametrize("text", ["yesterday", "5x", "2026-13-01", "-2h", "2h ago"])
def test_a_bad_since_is_one_line_naming_the_value_and_the_forms(text: str) -> None:
    with pytest.raises(BadWindowError) as error:
        parse_since(text, NOW)

    assert str(error.value) == (
        f"logs: since {text!r} is neither an ISO time (2026-11-27T01:00, optionally with +02:00)"
        " nor a duration (90s, 30m, 2h, 1d) — fix --since or [logs] since"
    )


def test_a_window_of_zoned_times_is_refused_in_one_line() -> None:
    with pytest.raises(BadWindowError, match=r"^logs: window times must be naive log-clock times"):
        Window(datetime(2022, 12, 7, tzinfo=UTC))


@pytest.mark.parametrize(("text", "offset"), [("UTC", 0), ("+02:00", 120), ("-0530", -330), (" local ", None)])
def test_the_timezone_setting_accepts_utc_offsets_and_local(text: str, offset: int | None) -> None:
    clock = LogClock.parse(text)

    if offset is None:
        assert clock.tz is None and clock.name == "local"
    else:
        assert clock.from_log(datetime(2026, 1, 1)).utcoffset() == timedelta(minutes=offset)


@pytest.mark.parametrize("text", ["Mars/Olympus_Mons", "+25:00", "two"])
def test_a_bad_timezone_is_one_line(text: str) -> None:
    with pytest.raises(BadWindowError, match=r"^logs: timezone .* — fix --timezone or \[logs\] timezone$"):
        LogClock.parse(text)


def write_configuration_log(folder: Path) -> Path:
    wizard = "CSS.CMS.Install.ConfigurationWizard.ViewModels.DatabaseViewModel"
    return write_log(
        folder / "Command_Configuration_Log.txt",
        [
            "2022-12-06 09:00:00.0000 CSS.CMS.Install.ConfigurationWizard.App [Info] - Configuration wizard started",
            f"2022-12-06 09:05:00.0000 {wizard} [Info] - Database checked",
            "2022-12-07 00:40:00.0000 CSS.CMS.Install.ConfigurationWizard.App [Info] - Configuration wizard started",
            f"2022-12-07 00:41:00.0000 {wizard} [Error] - Unable to establish a connection to the database server.",
            f"2022-12-07 01:05:00.0000 {UPGRADE} [Info] - Running upgrade module A.sql",
            f"2022-12-07 01:31:10.0000 {UPGRADE} [Error] - {EJBCA_MODULE}",
            f"2022-12-07 01:50:00.0000 {wizard} [Info] - Configuration applied",
        ],
        bom=True,
    )


def test_the_default_window_starts_at_the_last_configuration_wizard_run(logs: Path) -> None:
    write_configuration_log(logs)

    window = default_window([logs], t("03:00:00"))

    assert window.start == t("00:40:00")
    assert window.source == "start of the last configuration-wizard run in Command_Configuration_Log.txt"


def test_the_wizard_run_start_can_be_a_configured_line(logs: Path) -> None:
    write_configuration_log(logs)
    marker = WizardMarker(start=r"ConfigurationWizard\.App Configuration wizard started")

    assert default_window([logs], t("03:00:00"), marker=marker).start == t("00:40:00")
    assert default_window([logs], t("03:00:00"), marker=WizardMarker(start="Running upgrade")).start == t("01:05:00")


def test_gaps_are_measured_over_the_configured_loggers_only(logs: Path) -> None:
    write_configuration_log(logs)
    # Only the wizard's own loggers: 00:41 -> 01:50 is a gap of more than 30 minutes.
    marker = WizardMarker(logger="ConfigurationWizard")

    assert default_window([logs], t("03:00:00"), marker=marker).start == t("01:50:00")


def test_without_a_wizard_run_the_window_is_the_last_24_hours(logs: Path) -> None:
    window = default_window([logs], t("03:00:00"))

    assert window.start == t("03:00:00") - timedelta(hours=24)
    assert window.source == "last 24 hours; no configuration-wizard run found in Command_Configuration_Log*"


def test_a_wizard_run_older_than_the_maximum_age_is_ignored(logs: Path) -> None:
    write_configuration_log(logs)

    window = default_window([logs], datetime(2022, 12, 20, 3, 0))

    assert window.start == datetime(2022, 12, 19, 3, 0)
    assert window.source == ("last 24 hours; the last configuration-wizard run, 2022-12-07 00:40, is older than 7 days")


def test_resolve_window_uses_the_given_bounds_before_the_default(logs: Path) -> None:
    write_configuration_log(logs)
    clock = LogClock.parse("UTC")
    now = datetime(2022, 12, 7, 3, 0, tzinfo=UTC)

    given = resolve_window([logs], "2h", "30m", clock=clock, now=now)
    assert given == Window(t("01:00:00"), t("02:30:00"), "given: 2h")
    assert resolve_window([logs], None, None, clock=clock, now=now).start == t("00:40:00")
    with pytest.raises(BadWindowError, match=r"^logs: until 2022-12-07 00:00:00 is before the window start"):
        resolve_window([logs], "2h", "2022-12-07T00:00", clock=clock, now=now)


# --- command line ---------------------------------------------------------------------------------------------


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smoke.logscan", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},  # a pipe on Windows would get the ANSI code page
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_the_command_line_exits_1_and_prints_the_findings_when_there_are_errors(logs: Path) -> None:
    run = run_cli(logs, "--since", "2022-12-07T01:00", "--timezone", "UTC")

    assert run.returncode == 1, run.stderr
    assert run.stdout.splitlines()[0] == "window: since 2022-12-07 01:00:00 (given: 2022-12-07T01:00)"
    assert "6 error groups (7 entries) since 2022-12-07 01:00:00 in 3 files" in run.stdout
    assert "   at CSS.CMS.Core.Timer.CASyncJob.Run()" in run.stdout
    assert run.stderr == ""


def test_the_command_line_exits_0_when_the_window_is_clean(logs: Path) -> None:
    run = run_cli(logs, "--since", "2022-12-07T02:20", "--until", "2022-12-07T03:00")

    assert run.returncode == 0, run.stderr
    assert "no errors since 2022-12-07 02:20:00 until 2022-12-07 03:00:00 in 3 files" in run.stdout


def test_the_command_line_prints_json_on_request(logs: Path) -> None:
    run = run_cli(logs, "--since", "2022-12-07T01:00", "--until", "2022-12-07T02:05", "--json")

    data = json.loads(run.stdout)
    assert run.returncode == 1
    assert [(g["logger"], g["count"]) for g in data["groups"]] == [
        (CASYNC, 2),
        (GATEWAY, 1),
        (UPGRADE, 1),
        (UPGRADE, 1),
        (CASYNC, 1),
    ]


def test_the_command_line_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path: Path) -> None:
    write_dense(tmp_path / "Command_Portal_Log.txt", 3 * 1024 * 1024)  # a report far larger than a pipe's buffer
    with subprocess.Popen(
        [sys.executable, "-m", "smoke.logscan", str(tmp_path), "--since", "2026-11-19"],
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as run:  # like `| head -1`: read one line, then close the pipe
        assert run.stdout is not None and run.stderr is not None
        first = run.stdout.readline()
        run.stdout.close()
        stderr = run.stderr.read()
        returncode = run.wait(timeout=60)

    assert first.startswith(b"window: since 2026-11-19")
    assert stderr == b""  # no BrokenPipeError traceback, no "Exception ignored"
    assert returncode == 1  # the findings' status still


def test_the_command_line_stopped_by_ctrl_c_says_interrupted_in_one_line_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Command_API_Log.txt").write_text("")

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "scan", stopped)  # the scan's own work, stopped where a Ctrl-C would stop it
    assert cli.main([str(tmp_path), "--since", "2h"]) == 130
    assert capsys.readouterr().err.strip() == "logscan: INTERRUPTED — no verdict; run it again for the findings"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "logs: since 'yesterday' is neither an ISO time"),
        (["--timezone", "Mars/Olympus_Mons"], "logs: timezone 'Mars/Olympus_Mons' is not"),
        (["--level", "Err or"], "logs: 'Err or' is not a level name"),
        (["--frobnicate"], "logscan: unrecognized arguments: --frobnicate — see python -m smoke.logscan --help"),
        ([], "logscan: the following arguments are required: PATH"),
    ],
)
def test_the_command_line_exits_2_with_one_line_on_bad_input(logs: Path, args: list[str], message: str) -> None:
    run = run_cli(*(args if args == [] else [logs, *args]))

    assert run.returncode == 2
    assert run.stderr.startswith(message) and run.stderr.count("\n") == 1, run.stderr
    assert run.stdout == ""


def test_the_command_line_exits_2_naming_a_missing_folder(tmp_path: Path) -> None:
    run = run_cli(tmp_path / "nowhere")

    assert run.returncode == 2
    assert run.stderr == (
        f"logs: folder {tmp_path / 'nowhere'} does not exist or is not reachable"
        " — check the share is mounted and the path in [logs] paths\n"
    )


# --- honesty: what is no log, a window in the future, a pipe ----------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [bytes(range(256)) * 64, b"\0" * 100_000, b"[Error] - words, but no NLog entry\r\n" * 10],
    ids=["binary", "nul-filled", "text-without-entries"],
)
def test_a_file_that_holds_no_nlog_entry_is_said_not_passed(tmp_path: Path, content: bytes) -> None:
    stranger = tmp_path / "Command_Portal_Log.txt"
    stranger.write_bytes(content)

    with pytest.raises(LogPathError) as error:
        scan([stranger], Window(t("00:00:00")))
    assert str(error.value) == (
        f"logs: no NLog entries in {stranger}: is this a log file? — give Keyfactor's NLog files or their folder"
        " ([logs] paths)"
    )
    run = run_cli(stranger, "--since", "2022-12-07T00:00")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == f"{error.value}\n"


def test_a_file_without_entries_beside_real_logs_is_named_in_a_note(logs: Path) -> None:
    result = scan([logs], Window(t("01:00:00")))

    assert summarise(result.groups) == EXPECTED_SINCE_0100
    assert result.notes == [f"no NLog entries in {logs / 'notes.txt'}: is this a log file? (not read)"]
    assert [s.skipped for s in result.files if s.path.name == "notes.txt"] == ["no NLog entries"]


def test_a_window_that_starts_in_the_future_is_said(logs: Path) -> None:
    now = datetime(2022, 12, 7, 3, 0)

    with pytest.raises(BadWindowError) as error:
        resolve_window([logs], "2022-12-08T00:00", now=now)
    assert str(error.value) == (
        "logs: since 2022-12-08 00:00:00 is in the future (now 2022-12-07 03:00:00 in the log clock, local), so no"
        " entry could be in the window — fix --since / [logs] since"
    )
    run = run_cli(logs, "--since", "2999-01-01")
    assert run.returncode == 2 and "logs: since 2999-01-01 00:00:00 is in the future" in run.stderr


def test_a_wizard_run_in_the_future_points_at_the_timezone(logs: Path) -> None:
    write_configuration_log(logs)

    with pytest.raises(BadWindowError, match=r"^logs: the last configuration-wizard run starts at 2022-12-07 00:40:00,"
                                             r" in the future .* set \[logs\] timezone / --timezone"):
        resolve_window([logs], now=datetime(2022, 12, 6, 23, 0))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_is_refused_instead_of_read_forever(tmp_path: Path) -> None:
    pipe = tmp_path / "Command_Portal_Log.txt"
    os.mkfifo(pipe)

    with pytest.raises(LogPathError, match=r"is a pipe, not a log file or folder"):
        scan([pipe], Window(t("00:00:00")))
    run = run_cli(pipe)  # run_cli's timeout would fail the test if it read on
    assert run.returncode == 2
    assert run.stderr == f"logs: {pipe} is a pipe, not a log file or folder — give the log files or their folder\n"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="a character device at a known path")
def test_a_device_is_refused_instead_of_read_forever() -> None:
    run = run_cli("/dev/zero")

    assert run.returncode == 2
    assert run.stderr == "logs: /dev/zero is a device, not a log file or folder — give the log files or their folder\n"
