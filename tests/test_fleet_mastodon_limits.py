"""Mastodon's rate-limit buckets in fleet mode: kept in the PostgreSQL journal, so every worker
and every later apply knows what the account has spent (decision 0837)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sandbox.mastodon import MastodonServer
from tests.fleet import Fleet
from tests.helpers import migrate
from tests.test_mastodon_limits import _archive_plan, _heads, _server


@pytest.fixture(scope="module")
def spent_slowly() -> Iterator[MastodonServer]:
    """5 statuses and 2 pictures per 3-second window: the workers must pace them."""
    yield from _server(status_limit=(5, 3), media_limit=(2, 3))


def _stored_buckets(database: str) -> list[dict]:
    with psycopg.connect(database) as conn:
        schemas = [s for (s,) in conn.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'step_state'").fetchall()]
        return [json.loads(value) for schema in schemas for (value,) in conn.execute(
            f'SELECT value FROM "{schema}".step_state WHERE name = %s', ("rate-limits",))]


@pytest.mark.slow  # two worker processes paced by the server's windows: a trial
def test_workers_share_the_accounts_buckets_through_the_journal(
        tmp_path: Path, spent_slowly: MastodonServer, postgres_url: str) -> None:
    spent_slowly.reset()
    spent_slowly.reset_requests()
    plan = _archive_plan(tmp_path, spent_slowly, posts=8, windows=3)
    with Fleet(postgres_url, tmp_path / "logs") as fleet:
        fleet.start(2)
        first = migrate("--lang", "en", "apply", plan, "--yes", "--database", postgres_url,
                        timeout=180)
    assert first.returncode == 0, first.stdout + first.stderr
    heads = _heads(spent_slowly)
    assert [s["content"].count("Nouvelle n°") for s in heads] == [1] * 8
    assert spent_slowly.requests()["by_status"].get("429", 0) == 0
    (stored,) = [s for s in _stored_buckets(postgres_url) if any(
        spent_slowly.url.rstrip("/") in account for account in s)]
    (buckets,) = stored.values()
    assert buckets["statuses"]["limit"] == 5 and buckets["media"]["limit"] == 2
    assert not list(tmp_path.rglob("mastodon-rate-limits.json"))


@pytest.fixture
def two_accounts() -> Iterator[tuple[MastodonServer, MastodonServer]]:
    """Two servers of 5 statuses and 2 pictures per hour: one for each mode, the same spend."""
    servers = [MastodonServer(rate_limit=300, status_limit=(5, 3600), media_limit=(2, 3600))
               for _ in range(2)]
    for server in servers:
        server.start()
    try:
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


@pytest.mark.slow  # two worker processes and a single-machine run side by side: a trial
def test_a_spent_bucket_leaves_the_same_posts_for_later_as_one_machine(
        tmp_path: Path, two_accounts: tuple[MastodonServer, MastodonServer],
        postgres_url: str) -> None:
    """A window far longer than `max_wait`: the fleet must not wait it out (nor a 429's
    Retry-After), but leave the rest for a later run with one machine's counts and note."""
    alone, fleet_account = two_accounts
    # Windows are aligned on the hour: both runs must fall in one (within the last seconds,
    # `max_wait` lets a run wait for the next window and post more).
    left_in_window = 3600 - time.time() % 3600
    if left_in_window < 90:
        time.sleep(left_in_window + 1)
    (tmp_path / "one").mkdir()
    (tmp_path / "fleet").mkdir()
    single = migrate("--lang", "en", "apply", _archive_plan(tmp_path / "one", alone, posts=60,
                                                           windows=3600),
                     "--yes", "--json", timeout=120)
    plan = _archive_plan(tmp_path / "fleet", fleet_account, posts=60, windows=3600)
    with Fleet(postgres_url, tmp_path / "logs") as fleet:
        fleet.start(2)
        run = migrate("--lang", "en", "apply", plan, "--yes", "--json", "--database",
                      postgres_url, timeout=240)
        again = migrate("--lang", "en", "apply", plan, "--yes", "--json", "--database",
                        postgres_url, timeout=240)
    assert single.returncode == 0, single.stdout + single.stderr

    assert run.returncode == single.returncode, run.stdout + run.stderr
    expected, (client,) = json.loads(single.stdout), json.loads(run.stdout)["clients"]
    posted = [s["content"] for s in _heads(fleet_account)]
    assert 0 < len(posted) < 60
    assert posted == [s["content"].replace(alone.url, fleet_account.url)
                      for s in _heads(alone)]
    assert client["counts"]["done"] == expected["counts"]["done"] == len(posted)
    assert client["counts"]["skipped"] == expected["counts"]["skipped"] == 60 - len(posted)
    assert client["counts"]["failed"] == 0
    assert [n["note"].split(" At ")[0] for n in client["notes"]] == \
        [n["note"].split(" At ")[0] for n in expected["notes"]] == \
        [f"{60 - len(posted)} posts left for later runs."]
    assert fleet_account.requests()["by_status"].get("429", 0) == 0
    (second,) = json.loads(again.stdout)["clients"]
    assert again.returncode == 0 and second["counts"]["done"] == 0, again.stdout
    assert len(_heads(fleet_account)) == len(posted)
