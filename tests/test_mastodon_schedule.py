"""`spacing` and `backdate` on the `mastodon` target, through the real `migrate` command."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from pathlib import Path

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError

from sandbox.mastodon import MastodonServer
from tests.helpers import migrate
from tests.social_samples import SENTENCE, tweet, write_archive

WHEN = dt.datetime(2020, 7, 23, 18, 30, tzinfo=dt.UTC)
LINK = "https://twitter.com/asso_centsept/status/{}"


@pytest.fixture(scope="module", params=["mastodon", "akkoma"])
def scheduling_server(request: pytest.FixtureRequest, mastodon_dialect) -> MastodonServer:
    """The dialects that keep scheduled posts, with the same limits (25 a day, 300 in all)."""
    return mastodon_dialect(request.param)


def _plan(folder: Path, server, step_options: str) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Le Centsept\n"
        "connections:\n"
        "  tweets: {type: twitter_archive, path: archive.zip}\n"
        f"  masto: {{type: mastodon, url: '{server.url}', token: '${{env:MASTODON_TOKEN}}'}}\n"
        "steps:\n"
        "  - id: posts\n"
        "    mirror: {from: tweets, to: masto}\n"
        f"    with: {{{step_options}}}\n", encoding="utf-8")
    return plan


def _api(server) -> Mastodon:
    return Mastodon(access_token=server.access_token, api_base_url=server.url,
                    version_check_mode="none")


def _published(server) -> list[dict]:
    api = _api(server)
    found = api.fetch_remaining(api.account_statuses(api.account_verify_credentials()["id"],
                                                     limit=40))
    return sorted(found, key=lambda s: int(s["id"]))


def test_spacing_schedules_each_post_once_at_spaced_times(tmp_path, mastodon_server,
                                                          monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    write_archive(tmp_path / "archive.zip",
                  [tweet(i, f"Nouvelle n°{i}", WHEN + dt.timedelta(days=i)) for i in range(1, 5)])
    plan = _plan(tmp_path, mastodon_server, "spacing: 1h")
    before = dt.datetime.now(dt.UTC)
    run = migrate("apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _published(mastodon_server) == []  # nothing on followers' timelines yet
    scheduled = sorted(_api(mastodon_server).scheduled_statuses(),
                       key=lambda s: s["scheduled_at"])
    assert [s["params"]["text"].rsplit(" ", 1)[-1] for s in scheduled] == [
        LINK.format(i) for i in range(1, 5)]  # chronological, each once
    times = [s["scheduled_at"] for s in scheduled]
    assert times[0] >= before + dt.timedelta(minutes=5)
    assert times[0] <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=7)
    gaps = {round((b - a).total_seconds()) for a, b in itertools.pairwise(times)}
    assert gaps == {3600}

    again = migrate("apply", plan, "--yes")
    assert again.returncode == 0 and again.stdout.startswith("Nothing to do"), again.stdout
    assert len(_api(mastodon_server).scheduled_statuses()) == 4
    assert _published(mastodon_server) == []


def test_spacing_posts_threads_at_once_and_leaves_replies_to_scheduled_posts(
        tmp_path, mastodon_server, monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    write_archive(tmp_path / "archive.zip", [
        tweet(1, "Annonce", WHEN),
        tweet(2, "Suite de l'annonce", WHEN + dt.timedelta(minutes=5), reply_to=1),
        tweet(3, "Long. " + SENTENCE * 12, WHEN + dt.timedelta(minutes=10))])
    plan = _plan(tmp_path, mastodon_server, "spacing: 1h")
    run = migrate("apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 done, 0 failed, 0 conflicts, 1 skipped" in run.stdout  # the reply waits
    scheduled = _api(mastodon_server).scheduled_statuses()
    assert [s["params"]["text"].rsplit(" ", 1)[-1] for s in scheduled] == [LINK.format(1)]
    published = _published(mastodon_server)
    assert len(published) > 1 and "(1/" in published[0]["content"]  # the thread, unspaced
    assert LINK.format(3) in published[0]["content"]
    again = migrate("apply", plan, "--yes")
    assert len(_published(mastodon_server)) == len(published)  # nothing twice
    assert len(_api(mastodon_server).scheduled_statuses()) == 1
    assert "0 done, 0 failed, 0 conflicts, 1 skipped" in again.stdout  # still waiting


def test_gotosocial_backdates_posts_to_their_original_dates(tmp_path, gotosocial_server,
                                                           monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", gotosocial_server.access_token)
    write_archive(tmp_path / "archive.zip", [
        tweet(1, "Assemblée générale", WHEN),
        tweet(2, "Compte rendu", WHEN + dt.timedelta(days=3), reply_to=1),
        tweet(3, "Long. " + SENTENCE * 12, WHEN + dt.timedelta(days=40))])
    plan = _plan(tmp_path, gotosocial_server, "backdate: true")
    run = migrate("apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    published = _published(gotosocial_server)
    heads = [s for s in published if "Publié initialement" in s["content"]]
    assert [h["created_at"] for h in heads] == [
        WHEN, WHEN + dt.timedelta(days=3), WHEN + dt.timedelta(days=40)]
    assert heads[1]["in_reply_to_id"] == heads[0]["id"]
    assert all(s["created_at"].year == 2020 for s in published)  # thread parts too
    again = migrate("apply", plan, "--yes")
    assert again.returncode == 0 and again.stdout.startswith("Nothing to do")
    assert len(_published(gotosocial_server)) == len(published)


def test_backdate_is_refused_plainly_on_mastodon(tmp_path, mastodon_server, monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    write_archive(tmp_path / "archive.zip", [tweet(1, "Assemblée générale", WHEN)])
    plan = _plan(tmp_path, mastodon_server, "backdate: true")
    run = migrate("plan", plan)
    assert run.returncode != 0
    assert "'backdate' is not possible" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert migrate("apply", plan, "--yes").returncode != 0
    assert _published(mastodon_server) == []


def test_spacing_keeps_within_25_scheduled_posts_a_day(tmp_path, scheduling_server,
                                                       monkeypatch) -> None:
    """`spacing: 30m` is 48 a day; Mastodon refuses the 26th of a day with 422."""
    mastodon_server = scheduling_server
    mastodon_server.reset()
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    write_archive(tmp_path / "archive.zip",
                  [tweet(i, f"Nouvelle n°{i}", WHEN + dt.timedelta(days=i)) for i in range(1, 31)])
    plan = _plan(tmp_path, mastodon_server, "spacing: 30m")
    planned = migrate("--lang", "en", "plan", plan)
    assert "one post every 58 minutes instead" in planned.stdout, planned.stdout
    assert "30 posts will be scheduled, the last for" in planned.stdout
    run = migrate("apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    scheduled = _api(mastodon_server).fetch_remaining(_api(mastodon_server).scheduled_statuses())
    assert len(scheduled) == 30
    per_day = Counter(s["scheduled_at"].date() for s in scheduled)
    assert max(per_day.values()) <= 25, per_day


def test_at_most_300_wait_and_the_rest_is_left_for_later_runs(tmp_path, scheduling_server,
                                                              monkeypatch) -> None:
    mastodon_server = scheduling_server
    mastodon_server.reset()
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    api = _api(mastodon_server)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    for index in range(295):  # the association's own schedule: 25 a day for 12 days
        api.status_post(f"Déjà prévu {index}", scheduled_at=start + dt.timedelta(
            days=index // 25, minutes=index % 25))
    write_archive(tmp_path / "archive.zip",
                  [tweet(i, f"Nouvelle n°{i}", WHEN + dt.timedelta(days=i)) for i in range(1, 9)])
    plan = _plan(tmp_path, mastodon_server, "spacing: 2h")
    planned = migrate("--lang", "en", "plan", plan)
    assert "5 posts will be scheduled" in planned.stdout, planned.stdout
    assert "3 posts are left for later runs: at most 300 scheduled posts" in planned.stdout
    assert "the import should end around" in planned.stdout
    run = migrate("--lang", "en", "apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 done, 0 failed, 0 conflicts, 3 skipped" in run.stdout, run.stdout
    assert len(api.fetch_remaining(api.scheduled_statuses())) == 300
    with pytest.raises(MastodonAPIError) as refused:  # the sandbox refuses as Mastodon does
        api.status_post("Un de trop", scheduled_at=start + dt.timedelta(days=20))
    assert "limit of 300" in str(refused.value)


def test_a_scheduled_post_in_doubt_is_scheduled_once(tmp_path, scheduling_server,
                                                     monkeypatch) -> None:
    """Mastodon ignores the key of a scheduled status (#30039): the run is killed once the
    2nd is scheduled, before its answer; the next run finds it by its marker."""
    from tests.test_posts_exactly_once import _kill_in_doubt

    server = scheduling_server
    server.reset()
    monkeypatch.setenv("MASTODON_TOKEN", server.access_token)
    write_archive(tmp_path / "archive.zip",
                  [tweet(i, f"Nouvelle n°{i}", WHEN + dt.timedelta(days=i)) for i in range(1, 5)])
    plan = _plan(tmp_path, server, "spacing: 2h")
    api = _api(server)
    held = {"n": 0}

    def scheduled() -> int:
        held["n"] = len(api.fetch_remaining(api.scheduled_statuses()))
        return held["n"]

    assert _kill_in_doubt(plan, server, 2, count=scheduled)
    assert held["n"] == 2
    run = migrate("apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    texts = [s["params"]["text"].rsplit(" ", 1)[-1] for s in api.fetch_remaining(
        api.scheduled_statuses())]
    assert sorted(texts) == [LINK.format(i) for i in range(1, 5)]  # each once
