"""Mirroring posts to Mastodon with the real `migrate` command: killed at random, never twice."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest
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


def _api(server) -> Mastodon:
    # No version check: Mastodon.py's own probe fails on Takahē (see docs/decisions/0320).
    return Mastodon(access_token=server.access_token, api_base_url=server.url,
                    version_check_mode="none")


def max_characters(server) -> int:
    """The server's own limit, from its instance document (v2, else v1)."""
    try:
        document = server.control("GET", "/api/v2/instance")
    except OSError:
        document = server.control("GET", "/api/v1/instance")
    statuses = (document.get("configuration") or {}).get("statuses") or {}
    return int(statuses.get("max_characters") or document.get("max_toot_chars") or 500)


def _statuses(server) -> list[dict]:
    api = _api(server)
    me = api.account_verify_credentials()
    found = api.fetch_remaining(api.account_statuses(me["id"], limit=40))
    return sorted(found, key=lambda s: int(s["id"]))


def _kill_mid_posting(plan: Path, api: Mastodon, rng: random.Random, most: int) -> str | None:
    """Start `apply`, let it post a random number (1 to `most`) of statuses, then SIGKILL it.

    Moments are drawn in statuses rather than seconds, so a kill lands mid-posting however
    loaded the machine is. Returns None, or why the kill could not land.
    """
    before = api.account_verify_credentials()["statuses_count"]
    wanted = before + rng.randint(1, most)
    process = migrate_popen("apply", plan, "--yes", "--step", "posts")
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if api.account_verify_credentials()["statuses_count"] >= wanted:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return None
        time.sleep(0.05)
    process.kill()
    _out, err = process.communicate()
    return f"apply ended before its kill (exit {process.returncode}): {err[-1500:]}"


@pytest.mark.parametrize("posts, kills", [
    pytest.param(150, 4, marks=pytest.mark.slow),  # kill-at-random trials: CI runs them
    pytest.param(500, 10, marks=pytest.mark.slow),
])
def test_an_archive_killed_at_random_is_posted_exactly_once(tmp_path, dialect_server,
                                                            monkeypatch, posts, kills) -> None:
    """On every dialect (Mastodon 4 and 3.5, GoToSocial, Akkoma, Takahē)."""
    mastodon_server = dialect_server
    monkeypatch.setenv("MASTODON_URL", mastodon_server.url)
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    tweets, media, facts = sample_tweets(posts, seed=11)
    write_archive(tmp_path / "archive.zip", tweets, media)
    plan = _plan(tmp_path, "{type: twitter_archive, path: archive.zip}")
    rng = random.Random(5)
    api = _api(mastodon_server)
    counts = []
    for _attempt in range(kills):
        problem = _kill_mid_posting(plan, api, rng, most=len(facts["eligible"]) // (kills + 1))
        assert problem is None, problem
        counts.append(len(_statuses(mastodon_server)))
    # every kill landed while posting: each run added statuses, and the import was unfinished
    assert all(b > a for a, b in zip([0, *counts], counts, strict=False)), counts
    print("statuses on the account after each kill:", counts)
    final = migrate("apply", plan, "--yes", "--step", "posts")
    assert final.returncode == 0, final.stdout + final.stderr

    statuses = _statuses(mastodon_server)
    by_id = {s["id"]: s for s in statuses}
    heads = [s for s in statuses if "Publié initialement sur Twitter" in s["content"]]
    markers = [h["content"].rsplit('href="', 1)[1].split('"', 1)[0] for h in heads]
    wanted = [f"https://twitter.com/asso_centsept/status/{k}" for k in facts["eligible"]]
    assert markers == wanted  # every eligible post once, in chronological order
    parts = [(s["in_reply_to_id"], s["content"]) for s in statuses]
    assert len(parts) == len(set(parts))  # no status twice, not even one part of a thread
    assert all(s["in_reply_to_id"] in by_id for s in statuses if s["in_reply_to_id"])
    assert counts[-1] < len(statuses), counts  # the last kill, too, left work to do
    head_of = dict(zip(facts["eligible"], heads, strict=True))
    with_media = [head_of[k] for k in facts["with_media"] if k in head_of]
    assert with_media and all(len(h["media_attachments"]) == 1 for h in with_media)
    assert sum(len(s["media_attachments"]) for s in statuses) == len(with_media)
    for child, parent in facts["replies"].items():
        replied = by_id[head_of[child]["in_reply_to_id"]]
        chain_start = replied
        while "Publié initialement" not in chain_start["content"]:
            chain_start = by_id[chain_start["in_reply_to_id"]]
        assert chain_start["id"] == head_of[parent]["id"]  # the thread stays a thread
    long_heads = [head_of[k] for k in facts["long"] if k in head_of]
    if max_characters(mastodon_server) < 700:  # the long posts have about 750 characters
        assert long_heads and all("(1/" in h["content"] for h in long_heads)

    again = migrate("apply", plan, "--yes", "--step", "posts")
    assert again.returncode == 0
    assert again.stdout.startswith("Nothing to do")
    assert len(_statuses(mastodon_server)) == len(statuses)


def test_a_feed_with_two_new_entries_posts_exactly_two(tmp_path, dialect_server, monkeypatch,
                                                       feed_server) -> None:  # noqa: F811
    mastodon_server = dialect_server
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
