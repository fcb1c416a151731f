"""Self-tests of the baseline wing offline: the file format, the comparison by identity and field, expected
changes and their expiry, and `python -m smoke.baseline diff` with its exit codes and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from smoke.baseline import document
from smoke.baseline.compare import compare, compare_area
from smoke.baseline.document import Area, Baseline
from smoke.baseline.errors import BaselineError
from smoke.baseline.expected import Expectation
from smoke.baseline.render import failure_line, html_table
from smoke.keyfactor.comparable import NOT_SET, SET, normalise

ROOT = Path(__file__).resolve().parents[1]

WEB_SERVER = {"CommonName": "WebServer", "TemplatePolicy": {"AllowWildcards": True, "RSAValidKeySizes": [2048, 4096]},
              "AllowedRequesters": ["CORP\\PKI Admins"]}


def baseline(**areas: dict) -> Baseline:
    return Baseline("prod", "https://kf.corp.example.com",
                    {name: Area(f"GET /{name}", items) for name, items in areas.items()})


def test_a_change_is_named_by_item_and_field_with_before_and_after():
    after = {"corp.example.com/WebServer": {**WEB_SERVER, "TemplatePolicy": {**WEB_SERVER["TemplatePolicy"],
                                                                              "AllowWildcards": False}}}
    found = compare_area("templates", {"corp.example.com/WebServer": WEB_SERVER}, after)
    assert [c.line() for c in found.unexpected] == [
        "corp.example.com/WebServer: TemplatePolicy.AllowWildcards true → false"]
    assert failure_line(found, "every certificate template kept its enrollment settings").startswith(
        "every certificate template kept its enrollment settings: 1 changed since the baseline — "
        "corp.example.com/WebServer:")


def test_items_are_matched_by_identity_not_position_and_added_ones_do_not_fail():
    before = {"a": {"x": 1}, "b": {"x": 2}}
    after = {"c": {"x": 3}, "b": {"x": 2}}
    found = compare_area("roles", before, after)
    assert [(c.item, c.kind) for c in found.changes] == [("a", "missing"), ("c", "added")]
    assert [c.item for c in found.unexpected] == ["a"]


def test_expected_changes_pass_with_their_reason_and_an_expired_one_counts_again():
    before = baseline(server={"licence": {"KeyfactorVersion": "10.1.4.0"}}, roles={"Admins": {"Permissions": ["A"]}})
    after = baseline(server={"licence": {"KeyfactorVersion": "10.2.1.0"}}, roles={"Admins": {"Permissions": []}})
    vendor = Expectation(r"^server/licence: KeyfactorVersion$", "the upgrade changes the version", source="vendor")
    mine = Expectation(r"^roles/Admins: ", "CHG0012345 trims Admins", dt.date(2026, 1, 31))
    found = compare(before, after, [vendor, mine], today=dt.date(2026, 12, 1))
    assert found.areas["server"].unexpected == []
    assert "the upgrade changes the version — vendor" in found.areas["server"].changes[0].line()
    assert [c.line() for c in found.areas["roles"].unexpected] == ['Admins: Permissions[0] "A" → (absent)']
    assert found.expired == [mine]


def test_an_expectation_on_the_value_before_applies_only_to_matching_values():
    rule = Expectation(r"^collections/", "removed search fields", before=r"CARequestId")
    before = {"Legacy": {"Content": "CARequestId -eq 1"}, "Other": {"Content": "CN -eq x"}}
    after = {"Legacy": {"Content": ""}, "Other": {"Content": ""}}
    found = compare_area("collections", before, after, [rule])
    assert [c.item for c in found.unexpected] == ["Other"]


def test_two_baselines_of_the_same_content_are_byte_identical_and_the_time_is_in_the_name(tmp_path):
    first = baseline(templates={"f/WebServer": WEB_SERVER}).save(tmp_path, "20261201-090000", {"run": "a"})
    second = baseline(templates={"f/WebServer": dict(reversed(list(WEB_SERVER.items())))}).save(
        tmp_path, "20261201-100000", {"run": "b"})
    assert first.read_bytes() == second.read_bytes()
    assert document.newest(tmp_path, "prod") == second
    assert document.meta_of(second) == {"run": "b"}
    assert document.load(second).areas["templates"].items["f/WebServer"] == WEB_SERVER


def test_normalising_leaves_out_ids_and_volatile_fields_and_keeps_secrets_as_set_or_not():
    raw = {"Id": 7, "Name": "Admins", "LastSeen": "2026-12-01T10:00:00Z", "Password": "hunter2",
           "Other": {"SecretValue": None}, "Steps": [{"UniqueName": "b", "Id": 2}, {"UniqueName": "a", "Id": 1}],
           "Tags": ["z", "a"]}
    found = normalise(raw, drop=("Id", "LastSeen"), secrets=("Password", "SecretValue"), keyed={"Steps": "UniqueName"})
    assert found == {"Name": "Admins", "Password": SET, "Other": {"SecretValue": NOT_SET},
                     "Steps": {"b": {"UniqueName": "b"}, "a": {"UniqueName": "a"}}, "Tags": ["a", "z"]}
    assert "hunter2" not in json.dumps(found)


def test_the_html_table_shows_before_and_after_escaped():
    found = compare_area("alerts", {"x": {"Message": "<b>old</b>"}}, {"x": {"Message": "new"}})
    page = html_table(found, "every alert kept its recipients")
    assert "&lt;b&gt;old&lt;/b&gt;" in page and "<td>Message</td>" in page


@pytest.mark.parametrize("content, said", [
    (None, "file not found"),
    ("", "the file is empty"),
    ('{"format": "keyfactor-smoke-baseline", "version": 1, "areas": {', "truncated"),
    ('{"hello": 1}', "not a baseline of this suite"),
    ('{"format": "keyfactor-smoke-baseline", "version": 99, "areas": {}}', "newer than this suite understands"),
    ('{"format": "keyfactor-smoke-baseline", "version": 1, "areas": []}', "damaged"),
])
def test_a_file_that_is_not_a_usable_baseline_is_one_line(tmp_path, content, said):
    path = tmp_path / "prod-20261201-090000.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BaselineError, match=said) as raised:
        document.load(path)
    assert "\n" not in str(raised.value)


def test_a_file_that_is_not_text_is_one_line(tmp_path):
    path = tmp_path / "prod-20261201-090000.json"
    path.write_bytes(b"\xff\xfe{\x00")
    with pytest.raises(BaselineError, match="not UTF-8 text"):
        document.load(path)


def test_a_value_that_changes_type_is_a_change_even_where_python_calls_the_two_equal():
    found = compare_area("templates", {"t": {"AllowWildcards": True, "Days": 1}},
                         {"t": {"AllowWildcards": 1, "Days": 1.0}})
    assert [(c.path, c.before, c.after) for c in found.unexpected] == [("AllowWildcards", True, 1), ("Days", 1, 1.0)]


def test_the_diff_command_exits_0_on_identical_baselines_1_on_a_change_and_2_on_bad_input(tmp_path):
    first = baseline(roles={"Admins": {"Permissions": ["A"]}}).save(tmp_path, "20261201-090000", {})
    second = baseline(roles={"Admins": {"Permissions": ["A"]}}).save(tmp_path, "20261201-100000", {})
    third = baseline(roles={"Admins": {"Permissions": ["A", "B"]}}).save(tmp_path, "20261201-110000", {})

    def diff(*paths: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "smoke.baseline", "diff", *map(str, paths)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    same, changed, bad = diff(first, second), diff(first, third), diff(first, tmp_path / "nope.json")
    assert (same.returncode, changed.returncode, bad.returncode) == (0, 1, 2)
    assert "baselines are identical" in same.stdout
    assert 'Admins: Permissions[1] (absent) → "B"' in changed.stdout
    assert bad.stderr.strip().count("\n") == 0 and "file not found" in bad.stderr and "Traceback" not in bad.stderr
