"""Mastodon's statuses and media limits, paced from their headers, through the real command.

The sandbox adds Mastodon's `statuses` and `media` families to mastodon-mock
(`sandbox/mastodon_limits.py`), scaled down: a few per window of seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mastodon import Mastodon

from sandbox.mastodon import MastodonServer
from tests.helpers import migrate
from tests.social_samples import PNG, photo, tweet, write_archive

WHEN = dt.datetime(2021, 3, 1, 9, 0, tzinfo=dt.UTC)


def _server(**limits: tuple[int, int]) -> Iterator[MastodonServer]:
    server = MastodonServer(rate_limit=300, **limits)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def short_windows() -> Iterator[MastodonServer]:
    """5 statuses and 2 pictures per 3-second window."""
    yield from _server(status_limit=(5, 3), media_limit=(2, 3))


@pytest.fixture(scope="module")
def long_windows() -> Iterator[MastodonServer]:
    """5 statuses per 10 minutes and 2 pictures per 10 minutes: a run cannot wait for them."""
    yield from _server(status_limit=(5, 600), media_limit=(2, 600))


def _archive_plan(folder: Path, server: MastodonServer, posts: int, windows: int) -> Path:
    tweets = [tweet(i, f"Nouvelle n°{i} de l'association", WHEN + dt.timedelta(hours=i),
                    media=[photo(i, f"p{i}.png", alt=f"Photo {i}")] if i % 3 == 0 else None)
              for i in range(1, posts + 1)]
    write_archive(folder / "archive.zip", tweets,
                  {f"{i}-p{i}.png": PNG for i in range(1, posts + 1) if i % 3 == 0})
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Le Centsept\nconnections:\n"
        "  tweets: {type: twitter_archive, path: archive.zip}\n"
        f"  masto: {{type: mastodon, url: '{server.url}', token: '{server.access_token}', "
        f"max_wait: 10, rate_windows: {{statuses: {windows}, media: {windows}}}}}\n"
        "steps:\n  - id: posts\n    mirror: {from: tweets, to: masto}\n", encoding="utf-8")
    return plan


def _heads(server: MastodonServer) -> list[dict]:
    api = Mastodon(access_token=server.access_token, api_base_url=server.url)
    me = api.account_verify_credentials()
    found = api.fetch_remaining(api.account_statuses(me["id"], limit=40))
    return sorted(found, key=lambda s: int(s["id"]))


def test_each_bucket_is_paced_and_nothing_meets_a_429(tmp_path, short_windows) -> None:
    short_windows.reset()
    short_windows.reset_requests()
    plan = _archive_plan(tmp_path, short_windows, posts=9, windows=3)
    run = migrate("--lang", "en", "apply", plan, "--yes", timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    statuses = _heads(short_windows)
    assert [s["content"].count("Nouvelle n°") for s in statuses] == [1] * 9
    assert sum(len(s["media_attachments"]) for s in statuses) == 3
    served = short_windows.requests()
    assert served["by_status"].get("429", 0) == 0, served
    # 9 statuses at 3 a window (5, less a reserve of 2) and 3 pictures at 2 a window: waited
    assert served["by_route"]["POST /api/v1/statuses"] == 9
    assert "left for later runs" not in run.stdout


def test_a_spent_bucket_leaves_posts_for_later_and_says_when_it_ends(tmp_path,
                                                                     long_windows) -> None:
    long_windows.reset()
    long_windows.reset_requests()
    plan = _archive_plan(tmp_path, long_windows, posts=8, windows=600)
    first = migrate("--lang", "en", "apply", plan, "--yes", "--json", timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    result = json.loads(first.stdout)
    posted = _heads(long_windows)
    # pictures: 2 a window (posts 3 and 6); statuses: 3 a window (5 less a reserve of 2)
    assert 0 < len(posted) < 8
    assert [s["content"].count("Nouvelle n°") for s in posted] == [1] * len(posted)
    left = 8 - len(posted)
    note = " ".join(n["note"] for n in result["notes"])
    assert f"{left} posts left for later runs" in note, note
    assert "more runs, around" in note and "at least every 10 minutes" in note, note
    assert result["counts"]["failed"] == 0 and result["counts"]["skipped"] == left

    again = migrate("--lang", "en", "apply", plan, "--yes", timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{left} posts left for later runs" in again.stdout
    assert len(_heads(long_windows)) == len(posted)  # nothing twice, nothing out of order
    served = long_windows.requests()
    assert served["by_status"].get("429", 0) == 0, served


def _journal_buckets(plan: Path) -> dict:
    journal = sqlite3.connect(plan.parent / ".migrate" / "plan.journal.sqlite")
    try:
        rows = journal.execute("SELECT step, name, value FROM step_state").fetchall()
    finally:
        journal.close()
    return {(step, name): json.loads(value) for step, name, value in rows}


def test_the_buckets_travel_in_the_journal_and_no_file_is_left(tmp_path, long_windows) -> None:
    long_windows.reset()
    long_windows.reset_requests()
    plan = _archive_plan(tmp_path, long_windows, posts=8, windows=600)
    first = migrate("--lang", "en", "apply", plan, "--yes", timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    posted = len(_heads(long_windows))
    left_behind = [p.name for p in (tmp_path / ".migrate").iterdir()
                   if not p.name.startswith("plan.journal.sqlite")]
    assert not [name for name in left_behind if "mastodon" in name or "limit" in name], \
        left_behind
    state = _journal_buckets(plan)[("posts", "rate-limits")]
    (statuses,) = [b["statuses"] for b in state.values()]
    assert statuses["limit"] == 5 and statuses["remaining"] <= 2, statuses

    again = migrate("--lang", "en", "apply", plan, "--yes", timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(_heads(long_windows)) == posted
    # A run that forgot the first one's buckets would post into the spent window: a 429.
    assert long_windows.requests()["by_status"].get("429", 0) == 0
    assert not (tmp_path / ".migrate" / "mastodon-rate-limits.json").exists()


def test_an_old_state_file_is_read_once_into_the_journal(tmp_path, long_windows) -> None:
    long_windows.reset()
    long_windows.reset_requests()
    plan = _archive_plan(tmp_path, long_windows, posts=4, windows=600)
    api = Mastodon(access_token=long_windows.access_token, api_base_url=long_windows.url)
    account = f"{long_windows.url.rstrip('/')} {api.account_verify_credentials()['id']}"
    spent = {"limit": 5, "remaining": 2, "reset": time.time() + 600}
    folder = tmp_path / ".migrate"
    folder.mkdir(mode=0o700)
    old = folder / "mastodon-rate-limits.json"
    old.write_text(json.dumps({account: {"statuses": spent}}), encoding="utf-8")

    run = migrate("--lang", "en", "apply", plan, "--yes", timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not old.exists()
    # The old file said the window was spent (2 left, a reserve of 2): nothing was posted.
    assert _heads(long_windows) == []
    assert "4 posts left for later runs" in run.stdout
    state = _journal_buckets(plan)[("posts", "rate-limits")]
    assert state[account]["statuses"]["remaining"] == 2


def test_a_429_on_a_long_window_leaves_the_posts_for_later(tmp_path, long_windows) -> None:
    """Another client of the account spent the statuses bucket before the run read it: the
    first post meets a 429 whose window ends in minutes. It is left for later with the rest,
    as a bucket seen spent in advance (not retried for up to 5 minutes, nor failed)."""
    long_windows.reset()
    long_windows.reset_requests()
    api = Mastodon(access_token=long_windows.access_token, api_base_url=long_windows.url)
    for n in range(5):
        api.status_post(f"Posté d'ailleurs n°{n}")
    plan = _archive_plan(tmp_path, long_windows, posts=4, windows=600)
    run = migrate("--lang", "en", "apply", plan, "--yes", "--json", timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["counts"]["failed"] == 0 and result["counts"]["skipped"] == 4, result
    assert [n["note"].split(" At ")[0] for n in result["notes"]] == \
        ["4 posts left for later runs."]
    assert len(_heads(long_windows)) == 5  # only the other client's
    assert long_windows.requests()["by_status"].get("429", 0) == 1


def test_two_answers_of_one_window_keep_the_lower_count() -> None:
    """Mastodon.py moves each answer's reset by the server's `Date`, to the whole second: a
    later answer of the same window may say an earlier reset. It is still the same window, and
    its lower count must win (taking it for an older window gave spent calls back)."""
    from connectors.mastodon.pacing import Bucket, newer

    first, later = Bucket(5, 4, 1000.9), Bucket(5, 2, 1000.1)
    assert newer(first, later).remaining == 2 and newer(later, first).remaining == 2
    next_window = Bucket(5, 4, 1600.3)
    assert newer(later, next_window) is next_window and newer(next_window, later) is next_window
