"""A WebDAV target across a network is listed while the source is walked (decision 0486), and
nothing else moves.

Against Debian's Apache mod_dav (the fixture of test_webdav_apache.py): the target's listing
runs in a thread of its own from the start of the step's listing; its errors are said with the
same words as when it was listed after the source; a source that fails (or Ctrl-C) leaves no
listing running; the names made while the target answers are the names the diff would make,
and the dry run and the apply decide the same.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connectors import webdav
from migrate import api
from migrate.connector import Listing, Source, StepContext
from migrate.errors import ConnectorError, TransientError
from migrate.model import Action, Change, ItemKind, TargetEntry
from migrate.plan.plan_file import load_plan
from migrate.plan.references import Redactor
from migrate.plan.secrets import resolve_connections
from migrate.retry import RetryPolicy
from migrate.runner.listing_thread import ListingThread
from migrate.steps import OpenStep, open_step
from tests.helpers import make_tree, migrate
from tests.test_webdav_apache import PASSWORD, USER, Apache, apache  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/usr/sbin/apache2").exists(),
                                reason="Debian's apache2 is not installed")


def _plan(folder: Path, server: Apache) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Association des Essais\nconnections:\n"
        "  here: {type: local, path: source}\n"
        f"  nas: {{type: webdav, url: '{server.url}', user: {USER}, "
        "password: '${env:DAV_PASSWORD}', case_insensitive: true}\n"
        "steps:\n  - id: files\n    copy: {from: here, to: 'nas:/Archives'}\n",
        encoding="utf-8")
    return plan


def _opened(plan: Path, monkeypatch: pytest.MonkeyPatch, password: str = PASSWORD,
            beside: bool = True) -> OpenStep:
    monkeypatch.setenv("DAV_PASSWORD", password)
    loaded = load_plan(plan)
    config = resolve_connections(loaded, Redactor())
    step = open_step(loaded, loaded.steps[0], config, "essai", {}, None, None, writable=False)
    # This Apache answers on the loopback, where the webdav target lists after its source
    # (`on_this_computer`); the way it lists a server across a network is chosen here.
    assert not step.features.abilities.lists_beside_source
    step.features = replace(step.features, abilities=replace(
        step.features.abilities, lists_beside_source=beside))
    return step


def _listing_threads() -> list[str]:
    return sorted(thread.name for thread in threading.enumerate()
                  if thread.name == "target-listing" or thread.name.startswith("list_"))


class _Watched(Source):
    """The step's real local source, which lists only once Apache has been asked for the
    target's listing (or after 10 s: the target is then listed after the source)."""

    def __init__(self, inner: Source, server: Apache, error: BaseException | None = None) -> None:
        self.inner, self.server, self.error = inner, server, error
        self.target_asked = False

    def list_items(self) -> Listing:
        log = self.server.dir / "access.log"
        for _wait in range(200):
            if "PROPFIND" in log.read_text():
                self.target_asked = True
                break
            threading.Event().wait(0.05)
        if self.error is not None:
            raise self.error
        return self.inner.list_items()

    def open(self, item: Any) -> Any:
        return self.inner.open(item)

    def close(self) -> None:
        self.inner.close()


def _decided(changes: list[Change]) -> list[tuple[str, str, str, str | None]]:
    return sorted((c.item.key, c.action.value, c.target_name, c.rename_reason) for c in changes)


def _source_with_collisions(tmp_path: Path) -> dict[str, bytes]:
    files = make_tree(tmp_path / "source", 60)
    # Names this case-insensitive server takes for one: the second is numbered.
    (tmp_path / "source" / "Budget.ods").write_bytes(b"a")
    (tmp_path / "source" / "budget.ods").write_bytes(b"bb")
    return files


def test_the_target_is_listed_while_the_source_lists_and_names_come_out_the_same(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _source_with_collisions(tmp_path)
    plan = _plan(tmp_path, apache)
    migrate("apply", plan, "--yes", env={"DAV_PASSWORD": PASSWORD})
    # One source file edited since: an update among the unchanged.
    edited = next(p for p in sorted((tmp_path / "source").rglob("*.txt")))
    edited.write_bytes(b"changed at the source")

    step = _opened(plan, monkeypatch)
    step.source = watched = _Watched(step.source, apache)
    apache.requests_made()
    items, _listing, entries = step.list()
    early = step.diff(items, entries, {})
    step.close()
    assert watched.target_asked  # the target was being listed before the source was

    sequential = _opened(plan, monkeypatch, beside=False)
    items, _listing, entries_after = sequential.list()
    late = sequential.diff(items, entries_after, {})
    sequential.close()
    assert sorted(e.name for e in entries) == sorted(e.name for e in entries_after)
    assert _decided(early.changes) == _decided(late.changes)
    renamed = [c for c in early.changes if c.rename_reason]
    assert [c.target_name.rsplit("/", 1)[-1] for c in renamed] == ["budget (2).ods"]
    assert _listing_threads() == []


def test_the_dry_run_and_the_apply_decide_the_same(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    files = _source_with_collisions(tmp_path)
    plan = _plan(tmp_path, apache)
    half = sorted(files)[: len(files) // 2]
    for path in sorted(files):
        if path not in half:
            (tmp_path / "source" / path).rename(tmp_path / "source" / (path + ".later"))
    migrate("apply", plan, "--yes", env={"DAV_PASSWORD": PASSWORD})
    for later in (tmp_path / "source").rglob("*.later"):
        later.rename(later.with_name(later.name.removesuffix(".later")))
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)
    # As if this Apache were across a network: both commands list it beside the source.
    monkeypatch.setattr(webdav, "on_this_computer", lambda url: False)
    opened = []
    monkeypatch.setattr(api, "open_step", lambda *a, **k: opened.append(open_step(*a, **k))
                        or opened[-1])

    planned = api.plan(plan, Redactor())
    applied = api.apply(plan, Redactor(), confirm=lambda shown: True)

    # The apply keeps no unchanged item in its change set (`keep_unchanged=False`).
    told = [c for c in planned.changes.changes if c.action is not Action.UNCHANGED]
    assert _decided(told) == _decided(applied.changes.changes)
    assert [step.features.abilities.lists_beside_source for step in opened] == [True, True]
    assert applied.outcomes["files"].failed == 0
    counts = planned.changes.summary()
    assert counts["create"] == len(files) - len(half) and counts["unchanged"] >= len(half)
    assert _listing_threads() == []


def test_a_target_that_refuses_the_password_is_said_as_before(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    make_tree(tmp_path / "source", 12)
    plan = _plan(tmp_path, apache)
    said = []
    for beside in (True, False):
        step = _opened(plan, monkeypatch, password="pas-le-bon", beside=beside)
        with pytest.raises(ConnectorError) as refused:
            step.list()
        step.close()
        said.append((type(refused.value), str(refused.value)))
        assert _listing_threads() == []
    assert said[0] == said[1]
    assert "401" in said[0][1] or "password" in said[0][1].lower(), said


@pytest.mark.parametrize("error", [ConnectorError("le dossier source est illisible"),
                                   KeyboardInterrupt()], ids=["source-error", "ctrl-c"])
def test_a_source_that_fails_leaves_no_listing_behind_and_is_said_first(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        error: BaseException) -> None:
    make_tree(tmp_path / "source", 12)
    plan = _plan(tmp_path, apache)
    # The target fails too (wrong password): the source's error is said, as when it was
    # listed first.
    step = _opened(plan, monkeypatch, password="pas-le-bon")
    step.source = watched = _Watched(step.source, apache, error)
    apache.requests_made()
    with pytest.raises(type(error)) as raised:
        step.list()
    step.close()
    assert raised.value is error
    assert watched.target_asked
    assert _listing_threads() == []


class _Busy:
    """A target whose listing answers "busy, come back later": `answers` tells how often."""

    def __init__(self, busy: int, retry_after: float) -> None:
        self.busy, self.retry_after, self.calls = busy, retry_after, 0

    def list_entries(self) -> list[TargetEntry]:
        self.calls += 1
        if self.calls <= self.busy:
            raise TransientError("occupé", retry_after=self.retry_after)
        return [TargetEntry("a.txt", ItemKind.FILE)]


def test_a_busy_listing_is_retried_whole_by_the_policy() -> None:
    target = _Busy(busy=2, retry_after=0)
    listed = ListingThread(target, RetryPolicy(attempts=3))  # type: ignore[arg-type]
    assert [e.name for e in listed.entries()] == ["a.txt"]
    assert target.calls == 3

    target = _Busy(busy=3, retry_after=0)
    listed = ListingThread(target, RetryPolicy(attempts=3))  # type: ignore[arg-type]
    with pytest.raises(TransientError, match="occupé"):
        listed.entries()
    assert target.calls == 3


def test_stopping_ends_the_wait_between_attempts() -> None:
    """A source that fails while the target's listing waits a minute to be retried: the wait
    ends at once and no second attempt is made."""
    target = _Busy(busy=5, retry_after=60)
    listed = ListingThread(target, RetryPolicy(attempts=5))  # type: ignore[arg-type]
    while target.calls == 0:
        threading.Event().wait(0.01)
    listed.stop()
    assert target.calls == 1
    assert _listing_threads() == []


@pytest.mark.parametrize(("url", "beside"), [
    ("https://nuage.example.org/remote.php/webdav/", True),
    ("http://192.168.1.20:8080/dav/", True),
    ("http://127.0.0.1:8080/dav/", False),
    ("http://localhost/dav/", False),
    ("http://[::1]/dav/", False),
])
def test_the_webdav_target_lists_beside_its_source_across_a_network(
        url: str, beside: bool, tmp_path: Path) -> None:
    connector = webdav.WebdavConnector({"url": url, "user": USER, "password": PASSWORD}, tmp_path)
    context = StepContext("files", "copy", {}, "essai", tmp_path, state_dir=tmp_path)
    target = connector.open_target("Archives", context)
    assert target.capabilities.lists_beside_source is beside
    target.close()


def test_a_saved_plan_is_applied_as_reviewed(
        apache: Apache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """`apply` of a saved plan lists both sides beside each other too, and names nothing
    early (it checks preconditions without `prepare_names`, as before)."""
    files = _source_with_collisions(tmp_path)
    plan = _plan(tmp_path, apache)
    monkeypatch.setenv("DAV_PASSWORD", PASSWORD)
    monkeypatch.setattr(webdav, "on_this_computer", lambda url: False)
    opened = []
    monkeypatch.setattr(api, "open_step", lambda *a, **k: opened.append(open_step(*a, **k))
                        or opened[-1])
    saved = tmp_path / "reviewed.plan.json"
    planned = api.plan(plan, Redactor(), output=saved)
    applied = api.apply(saved, Redactor(), confirm=lambda shown: True)

    assert applied.outcomes["files"].done == planned.changes.summary()["create"]
    assert planned.changes.summary()["create"] == len(files) + 2
    assert [step._named for step in opened] == [None, None]  # the dry run's was diffed
    assert _listing_threads() == []
    again = api.plan(plan, Redactor())
    assert again.changes.summary()["unchanged"] == len(files) + 2
