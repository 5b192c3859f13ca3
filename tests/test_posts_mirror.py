"""Mirroring posts to Mastodon with the real `migrate` command: killed at random, never twice."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from mastodon import Mastodon

from tests.helpers import migrate, migrate_popen
from tests.social_samples import rss, sample_tweets, write_archive
from tests.test_post_sources import feed_entries, feed_server  # noqa: F401  (fixture)


def _plan(folder: Path, connection: str) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Le Centsept\n"
        "connections:\n"
        f"  posts_in: {connection}\n"
        "  masto: {type: mastodon, url: '${env:MASTODON_URL}', token: '${env:MASTODON_TOKEN}'}\n"
        "steps:\n"
        "  - id: posts\n"
        "    mirror: {from: posts_in, to: masto}\n", encoding="utf-8")
    return plan


def _statuses(server) -> list[dict]:
    api = Mastodon(access_token=server.access_token, api_base_url=server.url)
    me = api.account_verify_credentials()
    found = api.fetch_remaining(api.account_statuses(me["id"], limit=40))
    return sorted(found, key=lambda s: int(s["id"]))


def test_an_archive_killed_at_random_is_posted_exactly_once(tmp_path, mastodon_server,
                                                            monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_URL", mastodon_server.url)
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    tweets, media, facts = sample_tweets(150, seed=11)
    write_archive(tmp_path / "archive.zip", tweets, media)
    plan = _plan(tmp_path, "{type: twitter_archive, path: archive.zip}")
    rng = random.Random(5)
    for _attempt in range(4):
        process = migrate_popen("apply", plan, "--yes", "--step", "posts")
        time.sleep(rng.uniform(1.0, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
    final = migrate("apply", plan, "--yes", "--step", "posts")
    assert final.returncode == 0, final.stdout + final.stderr

    statuses = _statuses(mastodon_server)
    heads = [s for s in statuses if "Publié initialement sur Twitter" in s["content"]]
    markers = [h["content"].rsplit('href="', 1)[1].split('"', 1)[0] for h in heads]
    wanted = [f"https://twitter.com/asso_centsept/status/{k}" for k in facts["eligible"]]
    assert markers == wanted  # every eligible post once, in chronological order
    by_id = {s["id"]: s for s in statuses}
    head_of = dict(zip(facts["eligible"], heads, strict=True))
    for child, parent in facts["replies"].items():
        replied = by_id[head_of[child]["in_reply_to_id"]]
        chain_start = replied
        while "Publié initialement" not in chain_start["content"]:
            chain_start = by_id[chain_start["in_reply_to_id"]]
        assert chain_start["id"] == head_of[parent]["id"]  # the thread stays a thread
    long_heads = [head_of[k] for k in facts["long"] if k in head_of]
    assert long_heads and all("(1/" in h["content"] for h in long_heads)

    again = migrate("apply", plan, "--yes", "--step", "posts")
    assert again.returncode == 0
    assert "0 to create" in again.stdout
    assert len(_statuses(mastodon_server)) == len(statuses)


def test_a_feed_with_two_new_entries_posts_exactly_two(tmp_path, mastodon_server, monkeypatch,
                                                       feed_server) -> None:  # noqa: F811
    monkeypatch.setenv("MASTODON_URL", mastodon_server.url)
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    feed_server.set(rss(feed_entries(3)))
    plan = _plan(tmp_path, "{type: feed, url: '" + feed_server.url + "'}")
    assert migrate("apply", plan, "--yes").returncode == 0
    assert len(_statuses(mastodon_server)) == 3
    quiet = migrate("apply", plan, "--yes")
    assert quiet.returncode == 0 and len(_statuses(mastodon_server)) == 3
    feed_server.set(rss(feed_entries(5)))
    assert migrate("apply", plan, "--yes").returncode == 0
    assert len(_statuses(mastodon_server)) == 5
