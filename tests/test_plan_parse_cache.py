"""A plan's parse kept between runs (migrate/plan/parsecache.py): the same plan as a fresh
parse, never a value of the plan in the kept file, any change to the file parsed again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.errors import PlanError
from migrate.plan import parsecache, yamlpos
from migrate.plan.plan_file import load_plan
from tests.helpers import migrate
from tests.test_plan_errors import CASES, GOOD

SECRET = "Tr3s-s3cret-mot-de-passe"
WITH_SECRET = f"""version: 1
organisation: "Les Amis du Canal"
vars: {{dossier: Archives, annee: 2024, taux: 1.5}}
connections:
  here: {{type: local, path: '${{var.dossier}}'}}
  dav:
    type: webdav
    url: http://127.0.0.1:9/dav/
    user: benevole
    password: {SECRET}
steps:
  - id: files
    copy: {{from: here, to: 'dav:/Partage'}}
    with: {{overwrite: never, include: ['**/*.pdf', "Rapports/**"], max_per_run: 10}}
"""


def _load_twice(tmp_path: Path, text: str) -> tuple[object, object, Path]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    kept = tmp_path / "state" / "plan.parsed.json"
    kept.parent.mkdir(exist_ok=True)
    first = load_plan(plan, kept)
    return first, load_plan(plan, kept), kept


def test_the_kept_parse_gives_the_same_plan_and_holds_no_value(tmp_path: Path) -> None:
    first, second, kept = _load_twice(tmp_path, WITH_SECRET)
    assert kept.exists()
    assert second == first == load_plan(tmp_path / "plan.yaml")
    assert second.positions == first.positions  # every file:line:col of a later message
    stored = kept.read_text(encoding="utf-8")
    for value in (SECRET, "Canal", "benevole", "Archives", "2024", "1.5", "127.0.0.1", "pdf",
                  "Rapports", "overwrite", "webdav", "dav"):
        assert value not in stored, value
    assert (kept.stat().st_mode & 0o777) == 0o600


def test_a_change_of_one_byte_is_parsed_again(tmp_path: Path) -> None:
    """Same length, so every kept offset would still fall on text: only the digest tells."""
    _first, _second, kept = _load_twice(tmp_path, WITH_SECRET)
    plan = tmp_path / "plan.yaml"
    plan.write_text(WITH_SECRET.replace("Partage", "Partagf"), encoding="utf-8")
    changed = load_plan(plan, kept)
    assert changed.steps[0].target.location == "/Partagf"
    assert changed == load_plan(plan)
    plan.write_text(WITH_SECRET.replace("max_per_run: 10", "max_per_run: 11"),
                    encoding="utf-8")
    assert load_plan(plan, kept).steps[0].options["max_per_run"] == 11


@pytest.mark.parametrize(("value", "is_kept"), [
    ('"tab\\there"', False), ("'it''s'", False), ("|\n      two\n      lines", False),
    ("0x1F", False), (".inf", False), ('"caf\\u00e9"', False), ("folded\n    text", False),
    ("1_000", True), ("-2.5", True), ("'quoted'", True), ('"double"', True), ("~", True),
    ("yes", True)])
def test_only_values_read_back_from_the_text_are_kept(tmp_path: Path, value: str,
                                                      is_kept: bool) -> None:
    text = f"y: [1, 'a', {{z: true}}, -3]\nx: {value}\n"
    data, positions = yamlpos.load(text, "plan.yaml")
    kept = tmp_path / "plan.parsed.json"
    parsecache.write(kept, text, "digest", data, positions)
    assert kept.exists() is is_kept
    if is_kept:
        again = parsecache.read(kept, text, "digest", "plan.yaml")
        assert again is not None
        assert again[0] == data and type(again[0]["x"]) is type(data["x"])
        assert again[1] == positions
        assert parsecache.read(kept, text, "other digest", "plan.yaml") is None


@pytest.mark.parametrize("damage", ["", "{", "[1, 2]", '{"digest": 1}', "null"])
def test_a_damaged_or_foreign_kept_parse_is_ignored(tmp_path: Path, damage: str) -> None:
    first, _second, kept = _load_twice(tmp_path, WITH_SECRET)
    kept.write_text(damage, encoding="utf-8")
    assert load_plan(tmp_path / "plan.yaml", kept) == first
    assert json.loads(kept.read_text(encoding="utf-8"))["digest"]  # made again


def test_a_record_for_the_same_bytes_with_a_foreign_shape_is_ignored(tmp_path: Path) -> None:
    first, _second, kept = _load_twice(tmp_path, WITH_SECRET)
    record = json.loads(kept.read_text(encoding="utf-8"))
    record["document"] = ["m", 1, 1, [[0, 7, 1, 1, ["x", 9, 10, 1, 10]]]]
    kept.write_text(json.dumps(record), encoding="utf-8")
    assert load_plan(tmp_path / "plan.yaml", kept) == first


@pytest.mark.parametrize(("text", "expected"), [(c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_errors_say_the_same_place_from_a_kept_parse(tmp_path: Path, text: str,
                                                     expected: str) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    kept = tmp_path / "plan.parsed.json"
    messages = []
    for _time in range(2):
        try:
            load_plan(plan, kept)
            messages.append("")
        except PlanError as error:
            messages.append(str(error))
    assert messages[0] == messages[1]
    # Some of these fail later, when secrets are resolved: not in `load_plan`.
    assert not messages[1] or f"/{expected}" in messages[1]


def test_apply_keeps_the_parse_beside_its_journal_and_follows_an_edit(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(GOOD, encoding="utf-8")
    for _run in range(2):
        result = migrate("apply", "plan.yaml", "--yes", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    kept = parsecache.cache_path(tmp_path / ".migrate" / "plan.journal.sqlite")
    assert kept.name == "plan.parsed.json" and kept.exists()
    assert (tmp_path / "target" / "a.txt").read_text(encoding="utf-8") == "a"
    # The same length again: the edit is seen, the second target is written.
    (tmp_path / "plan.yaml").write_text(GOOD.replace("path: target", "path: targef"),
                                        encoding="utf-8")
    result = migrate("apply", "plan.yaml", "--yes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "targef" / "a.txt").read_text(encoding="utf-8") == "a"


def test_a_plan_written_on_windows_is_kept_too(tmp_path: Path) -> None:
    """CRLF line ends: every offset still falls on its value."""
    first, second, kept = _load_twice(tmp_path, WITH_SECRET.replace("\n", "\r\n"))
    assert kept.exists()
    assert second == first and second.positions == first.positions
