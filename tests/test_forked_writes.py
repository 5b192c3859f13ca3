"""Local copies are written by processes forked from `migrate apply` (decision 0496): whatever
happens to one of them or to the parent, nothing is lost, nothing half-written appears under
its final name, nothing is written twice, and the next apply completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from connectors.local import TEMPORARY_PREFIX
from migrate.errors import ConnectorError, SkipItem
from migrate.i18n import _, message_of, stored
from migrate.model import Action, Change, Fingerprint, ItemKind, SourceItem, TargetEntry
from migrate.runner import forked
from tests.helpers import copied_some, make_tree, migrate, migrate_popen, snapshot, write_plan


def _changes(count: int) -> list[Change]:
    return [Change("files", Action.CREATE, SourceItem(f"f{n}", f"f{n}", ItemKind.FILE,
                                                      Fingerprint(n, 1.0)), f"f{n}", "new")
            for n in range(count)]


def _pid_of_writer(changes: list[Change], keys: list[str]) -> list[TargetEntry | Exception]:
    results: list[TargetEntry | Exception] = []
    for change, key in zip(changes, keys, strict=True):
        if key == "refused":
            results.append(SkipItem(_("{path} disappeared from the source since it was listed")
                                    .format(path=change.target_name)))
        elif key == "slow":
            time.sleep(60)  # killed before it ends
        else:
            results.append(TargetEntry(change.target_name, ItemKind.FILE,
                                       Fingerprint(change.item.fingerprint.size, 2.5, "sha256:x"),
                                       {"pid": os.getpid()}))
    return results


def test_groups_are_written_by_the_forked_processes_and_answer_item_by_item() -> None:
    changes = _changes(64)
    writers = forked.ForkedWriters(2, changes, _pid_of_writer)
    try:
        groups = [changes[n:n + 4] for n in range(0, 64, 4)]
        futures = [writers.submit_group(group, ["refused" if c.item.key == "f9" else c.item.key
                                                for c in group]) for group in groups]
        results = [result for future in futures for result in future.result(timeout=30)]
    finally:
        writers.shutdown()
    assert len(results) == 64
    refused = results[9]
    # A skip stays a skip, its message a translatable one (a report in French says it in French).
    assert isinstance(refused, SkipItem)
    assert stored(message_of(refused)) == stored(
        _("{path} disappeared from the source since it was listed").format(path="f9"))
    entries = [r for r in results if isinstance(r, TargetEntry)]
    assert [e.name for e in entries] == [c.target_name for c in changes if c.item.key != "f9"]
    assert entries[5].fingerprint == Fingerprint(5, 2.5, "sha256:x")
    # The first group here (it cleans what a crash left once, before any fork), the rest in
    # two other processes, which are gone once the writes are over.
    pids = {e.ref["pid"] for e in entries}
    assert entries[0].ref["pid"] == os.getpid()
    others = pids - {os.getpid()}
    assert len(others) == 2
    for pid in others:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def test_a_single_group_is_written_without_forking() -> None:
    """A copy of a few files forks nothing: its first group is written here, and the
    processes are started only for a second one."""
    changes = _changes(10)
    writers = forked.ForkedWriters(2, changes, _pid_of_writer)
    try:
        results = writers.submit_group(changes, [c.item.key for c in changes]).result()
    finally:
        writers.shutdown()
    assert writers.workers == []
    assert {r.ref["pid"] for r in results if isinstance(r, TargetEntry)} == {os.getpid()}


def test_a_writer_killed_fails_only_what_it_held_and_the_other_writes_the_rest() -> None:
    changes = _changes(40)
    writers = forked.ForkedWriters(2, changes, _pid_of_writer)
    try:
        first = writers.submit_group(changes[:2], ["f0", "f1"])
        slow = writers.submit_group(changes[2:4], ["slow", "f3"])
        deadline = time.monotonic() + 30
        while not slow.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        holder = next(w for w in writers.workers if any(f is slow for f, _n in w.held))
        rest = [writers.submit_group(changes[n:n + 4], [c.item.key for c in changes[n:n + 4]])
                for n in range(4, 40, 4)]
        time.sleep(0.2)  # the slow one has started its sleep
        os.kill(holder.pid, signal.SIGKILL)
        lost = slow.result(timeout=30)
        written = [r for future in rest for r in future.result(timeout=30)]
    finally:
        writers.shutdown()
    assert all(isinstance(r, TargetEntry) for r in first.result())
    assert len(lost) == 2 and all(isinstance(r, ConnectorError) for r in lost)
    assert "stopped" in str(lost[0])
    # What the killed process held and had not started fails the same way; everything else
    # is written, by the process still alive.
    failed = [r for r in written if not isinstance(r, TargetEntry)]
    assert all(isinstance(r, ConnectorError) for r in failed)
    assert len(failed) <= 4 * (forked.AHEAD - 1)
    alive = {r.ref["pid"] for r in written if isinstance(r, TargetEntry)}
    assert alive and holder.pid not in alive


def test_groups_queued_after_every_writer_died_are_answered_not_left_waiting() -> None:
    changes = _changes(24)
    writers = forked.ForkedWriters(2, changes, _pid_of_writer)
    try:
        writers.submit_group(changes[:4], [c.item.key for c in changes[:4]]).result()
        first = writers.submit_group(changes[4:8], [c.item.key for c in changes[4:8]])
        first.result(timeout=30)
        for worker in writers.workers:
            os.kill(worker.pid, signal.SIGKILL)
            os.waitpid(worker.pid, 0)
        time.sleep(0.2)  # the reader has seen both ends
        later = [writers.submit_group(changes[n:n + 4], [c.item.key for c in changes[n:n + 4]])
                 for n in range(8, 24, 4)]
        answers = [r for future in later for r in future.result(timeout=30)]
    finally:
        writers.shutdown()
    assert len(answers) == 16
    assert all(isinstance(r, ConnectorError) and "stopped" in str(r) for r in answers)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def _start_copy(tmp_path: Path, files: int) -> tuple[Path, dict[str, bytes], list[int], object]:
    contents = make_tree(tmp_path / "source", files, seed=5, max_size=60_000)
    plan = write_plan(tmp_path)
    process = migrate_popen("apply", plan, "--yes", cwd=tmp_path)
    deadline = time.monotonic() + 60
    children: list[int] = []
    while time.monotonic() < deadline and process.poll() is None:
        children = _children(process.pid)
        if len(children) == 2 and copied_some(tmp_path / "target", 100):
            break
        time.sleep(0.005)
    return plan, contents, children, process


def _whole_or_absent(target: Path, contents: dict[str, bytes]) -> dict[str, int]:
    """Every file under its final name is the source's, whole; their inodes."""
    found = {}
    for path in target.rglob("*"):
        if path.is_file() and not path.name.startswith(TEMPORARY_PREFIX):
            name = path.relative_to(target).as_posix()
            assert path.read_bytes() == contents[name], name
            found[name] = path.stat().st_ino
    return found


def _resumed(tmp_path: Path, plan: Path, before: dict[str, int]) -> None:
    finished = migrate("apply", plan, "--yes")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert snapshot(tmp_path / "target") == snapshot(tmp_path / "source")
    now = _whole_or_absent(tmp_path / "target", {p.relative_to(tmp_path / "source").as_posix():
                                                 p.read_bytes() for p in
                                                 (tmp_path / "source").rglob("*") if p.is_file()})
    assert [p for p, inode in before.items() if now[p] != inode] == []  # none written twice
    assert not [p for p in (tmp_path / "target").rglob(f"{TEMPORARY_PREFIX}*")]
    status = json.loads(migrate("status", plan, "--json").stdout)
    assert list(status["steps"]["files"]) == ["done"], status["steps"]
    assert migrate("plan", plan, "--detailed-exitcode").returncode == 0


def test_a_writer_process_killed_mid_copy_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    plan, contents, children, process = _start_copy(tmp_path, 2500)
    assert len(children) == 2, "the copy was not written by two processes"
    os.kill(children[0], signal.SIGKILL)
    out, err = process.communicate(timeout=120)  # type: ignore[attr-defined]
    # The other process wrote the rest; what the killed one held is reported, not lost.
    assert process.returncode == 3, out + err  # incomplete  # type: ignore[attr-defined]
    assert "stopped before saying it was written" in out + err
    before = _whole_or_absent(tmp_path / "target", contents)
    assert len(before) < len(contents)
    _resumed(tmp_path, plan, before)


def test_the_writer_processes_end_with_a_killed_apply(tmp_path: Path) -> None:
    plan, contents, children, process = _start_copy(tmp_path, 2500)
    assert len(children) == 2, "the copy was not written by two processes"
    process.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
    process.communicate(timeout=60)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(map(_zombie, children)):
        time.sleep(0.01)
    # Killed with it (Linux's parent-death signal): no orphan writes on under a next run.
    assert all(map(_zombie, children))
    before = _whole_or_absent(tmp_path / "target", contents)
    assert 0 < len(before) < len(contents)
    _resumed(tmp_path, plan, before)


def test_ctrl_c_stops_both_writers_cleanly_and_apply_resumes(tmp_path: Path) -> None:
    """The terminal sends Ctrl-C to every process: the writers ignore it and finish what they
    hold, `migrate` records it, stops with 130, and leaves no writer behind."""
    plan, contents, children, process = _start_copy(tmp_path, 2500)
    assert len(children) == 2, "the copy was not written by two processes"
    for pid in (process.pid, *children):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGINT)
    _out, err = process.communicate(timeout=120)  # type: ignore[attr-defined]
    assert process.returncode == 130, err  # type: ignore[attr-defined]
    assert "Stopped" in err and "Traceback" not in err
    assert all(map(_zombie, children))
    status = json.loads(migrate("status", plan, "--json").stdout)
    assert status["lock"] is None and "intent" not in status["steps"]["files"]
    before = _whole_or_absent(tmp_path / "target", contents)
    assert 0 < len(before) < len(contents)
    _resumed(tmp_path, plan, before)


def test_a_writer_busy_with_a_group_dies_with_its_parent(tmp_path: Path) -> None:
    """Linux's parent-death signal: a writer does not go on with what it holds once the
    process that keeps the journal is gone (its next run may already be listing)."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from tests.test_forked_writes import _changes, _pid_of_writer\n"
        "from migrate.runner import forked\n"
        "changes = _changes(8)\n"
        "writers = forked.ForkedWriters(1, changes, _pid_of_writer)\n"
        "writers.submit_group(changes[:1], ['f0'])\n"
        "writers.submit_group(changes[1:2], ['slow'])\n"
        "print(writers.workers[0].pid, flush=True)\n"
        "time.sleep(60)\n", encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(0.2)  # the child is in its 60 s group
    assert not _zombie(child)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _zombie(child):
        time.sleep(0.01)
    assert _zombie(child)
