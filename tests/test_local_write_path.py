"""The local target keeps the folders it writes to open between files (issue 16, decision
0482): fewer system calls per file, with the same guarantees — a folder removed meanwhile is
made again, a folder replaced by a link is never written through, and nothing but whole files
under their final names."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from connectors.local import TEMPORARY_PREFIX, LocalConnector, LocalSource
from migrate.connector import StepContext
from migrate.errors import SkipItem, TransientError
from tests.conformance.samples import MemorySource, change_for
from tests.helpers import migrate, write_plan


def _target(tmp_path: Path):
    context = StepContext("files", "copy", {}, "plan", tmp_path, {})
    return LocalConnector({"path": "out"}, tmp_path).open_target("", context)


def test_a_folder_removed_between_two_files_is_made_again(tmp_path: Path) -> None:
    target, source = _target(tmp_path), MemorySource()
    first, second = source.add("a/b/1.txt", b"one"), source.add("a/b/2.txt", b"two")
    target.write(change_for(first, "a/b/1.txt"), source, "1" * 32)
    shutil.rmtree(tmp_path / "out" / "a")  # a volunteer tidies up during the run
    entry = target.write(change_for(second, "a/b/2.txt"), source, "2" * 32)
    assert (tmp_path / "out" / "a" / "b" / "2.txt").read_bytes() == b"two"
    assert entry.fingerprint.size == 3
    target.close()


def test_a_folder_replaced_by_a_link_is_not_written_through(tmp_path: Path) -> None:
    target, source = _target(tmp_path), MemorySource()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first, second = source.add("a/1.txt", b"one"), source.add("a/2.txt", b"two")
    target.write(change_for(first, "a/1.txt"), source, "1" * 32)
    shutil.rmtree(tmp_path / "out" / "a")
    os.symlink(elsewhere, tmp_path / "out" / "a")
    with pytest.raises(SkipItem, match="symbolic link"):
        target.write(change_for(second, "a/2.txt"), source, "2" * 32)
    assert list(elsewhere.iterdir()) == []
    target.close()


def test_many_folders_many_files_whole_and_no_temporary_left(tmp_path: Path) -> None:
    target, source = _target(tmp_path), MemorySource()
    written = {}
    for n in range(300):  # more folders than the target keeps open
        path = f"f{n % 70}/g{n % 3}/file-{n}.txt"
        written[path] = bytes([n % 256]) * (n * 37 % 5000)
        item = source.add(path, written[path])
        entry = target.write(change_for(item, path), source, f"{n:032x}")
        assert entry.fingerprint.size == len(written[path])
        assert entry.fingerprint.checksum and entry.fingerprint.mtime
    target.close()
    found = {p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
             for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert found == written
    assert not [p for p in (tmp_path / "out").rglob(f"{TEMPORARY_PREFIX}*")]


def test_a_local_target_writes_with_two_threads_unless_it_waits_for_the_disk(
        tmp_path: Path) -> None:
    """Decision 0487: more threads only pass the interpreter's lock around for page-cache
    writes; with `fsync: true` each write waits for the disk and the usual default stays."""
    assert _target(tmp_path).capabilities.max_jobs == 2
    context = StepContext("files", "copy", {}, "plan", tmp_path, {})
    waiting = LocalConnector({"path": "out", "fsync": True}, tmp_path).open_target("", context)
    assert waiting.capabilities.max_jobs is None and waiting.capabilities.default_jobs == 4


def test_one_bad_file_among_local_writes_handed_over_together_fails_alone(
        tmp_path: Path) -> None:
    """A writer thread takes 16 local files at a time (decision 0487): one of them refused
    (a link on the target where the file should go) is skipped with its reason, and the
    files before and after it in the same group are written whole."""
    source = tmp_path / "source" / "d"
    source.mkdir(parents=True)
    for n in range(40):
        (source / f"{n:02}.txt").write_bytes(bytes([65 + n % 26]) * (n * 97))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "target" / "d").mkdir(parents=True)
    os.symlink(elsewhere / "17.txt", tmp_path / "target" / "d" / "17.txt")
    plan = write_plan(tmp_path)
    result = migrate("apply", plan, "--yes", "--jobs", "4", cwd=tmp_path)
    assert "39 done, 0 failed, 0 conflicts, 1 skipped" in result.stdout
    # Written without INTENT rows (new local files, decision 0489), the skipped one still has
    # its row and its reason in the journal, for the report.
    status = json.loads(migrate("status", plan, "--json").stdout)
    assert status["steps"] == {"files": {"done": 39, "skipped": 1}}
    rows = migrate("report", plan, "--json")
    assert "d/17.txt" in rows.stdout and "symbolic link" in rows.stdout
    for n in range(40):
        copied = tmp_path / "target" / "d" / f"{n:02}.txt"
        if n == 17:
            assert copied.is_symlink()
        else:
            assert copied.read_bytes() == (source / f"{n:02}.txt").read_bytes()
    assert list(elsewhere.iterdir()) == []
    assert not [p for p in (tmp_path / "target" / "d").iterdir()
                if p.name.startswith(TEMPORARY_PREFIX)]


def test_a_local_file_read_through_its_descriptor_is_copied_whole_or_not_at_all(
        tmp_path: Path) -> None:
    """A local source's file is read without a file object, a short read taken for its end
    (decision 0489): a file of several reads arrives whole with its exact time, and one that
    grew or shrank since the listing never appears under its name, nor leaves a temporary."""
    root = tmp_path / "src"
    root.mkdir()
    contents = {"big.bin": os.urandom(2 * 1024 * 1024 + 123), "grows.txt": b"x" * 100,
                "shrinks.txt": b"y" * 100, "empty.txt": b""}
    for name, data in contents.items():
        (root / name).write_bytes(data)
    os.utime(root / "big.bin", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    source = LocalSource(root)
    items = {item.path: item for item in source.list_items().items}
    (root / "grows.txt").write_bytes(b"x" * 101)
    (root / "shrinks.txt").write_bytes(b"y" * 99)
    target = _target(tmp_path)
    for name in ("big.bin", "empty.txt"):
        entry = target.write(change_for(items[name], name), source, name.ljust(32, "0"))
        assert (tmp_path / "out" / name).read_bytes() == contents[name]
        assert entry.fingerprint.size == len(contents[name])
    assert (tmp_path / "out" / "big.bin").stat().st_mtime_ns == 1_600_000_000_123_456_789
    for name in ("grows.txt", "shrinks.txt"):
        with pytest.raises(TransientError, match="changed at the source"):
            target.write(change_for(items[name], name), source, name.ljust(32, "0"))
    target.close()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["big.bin", "empty.txt"]
