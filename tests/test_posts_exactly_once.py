"""Split posts and threads, exactly once and complete, through kills while in doubt.

An in-doubt kill: the sandbox carries out the k-th `POST /api/v1/statuses` and never answers it
(`hold_after`); the test kills `migrate apply` once the status exists, before the client could
read the answer. On Takahē and GoToSocial `Idempotency-Key` is ignored, so only the read-back by
origin marker (and by "(i/n)" part) keeps a part from being posted twice.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mastodon import Mastodon

from sandbox.mastodon import MastodonServer
from tests.helpers import migrate, migrate_popen
from tests.social_samples import PNG, SENTENCE, photo, tweet, write_archive

WHEN = dt.datetime(2021, 9, 1, 8, 0, tzinfo=dt.UTC)
LINK = "https://twitter.com/asso_centsept/status/{}"


@pytest.fixture(scope="module", params=["takahe", "gotosocial", "mastodon"])
def server(request: pytest.FixtureRequest, mastodon_dialect) -> MastodonServer:
    return mastodon_dialect(request.param)


def _api(server: MastodonServer) -> Mastodon:
    return Mastodon(access_token=server.access_token, api_base_url=server.url,
                    version_check_mode="none")


def _statuses(server: MastodonServer) -> list[dict]:
    api = _api(server)
    found = api.fetch_remaining(api.account_statuses(api.account_verify_credentials()["id"],
                                                     limit=40))
    return sorted(found, key=lambda s: int(s["id"]))


def _count(server: MastodonServer) -> int:
    return int(_api(server).account_verify_credentials()["statuses_count"])


def _plan(folder: Path, server: MastodonServer) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Le Centsept\nconnections:\n"
        "  tweets: {type: twitter_archive, path: archive.zip}\n"
        f"  masto: {{type: mastodon, url: '{server.url}', token: '{server.access_token}', "
        "timeout: 60}\n"
        "steps:\n  - id: posts\n    mirror: {from: tweets, to: masto}\n", encoding="utf-8")
    return plan


def _scale(server: MastodonServer) -> int:
    return 10 if server.software == "gotosocial" else 1


def _kill_in_doubt(plan: Path, server: MastodonServer, k: int,
                   count: Callable[[], int] | None = None) -> bool:
    """Apply, killed once the k-th new status exists and its answer is held back; False when
    apply ended first (nothing left to post). `count`: how to count them (default: the
    account's statuses)."""
    counted = count or (lambda: _count(server))
    before = counted()
    server.hold_after(skip=k - 1)
    process = migrate_popen("apply", plan, "--yes")
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if counted() >= before + k:
                time.sleep(0.3)  # the client is waiting for the answer it will never get
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.05)
        assert process.poll() is not None, "apply neither posted nor ended"
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        server.clear_faults()


def _archive(folder: Path, scale: int = 1) -> list[str]:
    """Posts split in 2, 3 and 4 parts, self-threads (short and split replies), pictures.
    `scale`: the server's limit in 500s of characters (10 on GoToSocial)."""
    tweets, media = [], {}
    lengths = [1, 8, 13, 19, 1, 8, 1, 13, 19, 1]
    for index, sentences in enumerate(lengths, 1):
        text = f"Message {index}. " + SENTENCE * (sentences * scale if sentences > 1 else 1)
        reply_to = index - 1 if index in (5, 6, 9) else None
        pictures = [photo(index, f"P{index}.png", alt=f"Photo {index}")] if index % 4 == 0 else None
        if pictures:
            media[f"{index}-P{index}.png"] = PNG
        tweets.append(tweet(index, text, WHEN + dt.timedelta(hours=index), reply_to=reply_to,
                            media=pictures))
    write_archive(folder / "archive.zip", tweets, media)
    return [LINK.format(i) for i in range(1, len(lengths) + 1)]


def _check_complete_once(statuses: list[dict], wanted: list[str]) -> None:
    by_id = {s["id"]: s for s in statuses}
    heads = [s for s in statuses if "Publié initialement sur Twitter" in s["content"]]
    markers = [h["content"].rsplit('href="', 1)[1].split('"', 1)[0] for h in heads]
    assert markers == wanted  # every post once, in order
    children: dict[str, list[dict]] = {}
    for status in statuses:
        children.setdefault(status["in_reply_to_id"], []).append(status)
    expected_total = 0
    sizes = set()
    for head in heads:
        total = int(head["content"].split("(1/", 1)[1].split(")", 1)[0]) if "(1/" in \
            head["content"] else 1
        sizes.add(total)
        expected_total += total
        chain = [head]
        for part in range(2, total + 1):
            following = [c for c in children.get(chain[-1]["id"], [])
                         if f"({part}/{total})" in c["content"]]
            assert len(following) == 1, (head["content"][:60], part, len(following))
            chain.append(following[0])
    assert len(statuses) == expected_total  # no part twice, nothing else
    assert {2, 3, 4} <= sizes, sizes
    assert len({(s["in_reply_to_id"], s["content"]) for s in statuses}) == len(statuses)
    for reply, parent in ((5, 4), (6, 5), (9, 8)):
        head = heads[reply - 1]
        replied = by_id[head["in_reply_to_id"]]
        start = replied
        while "Publié initialement" not in start["content"]:
            start = by_id[start["in_reply_to_id"]]
        assert start["id"] == heads[parent - 1]["id"]  # a reply to its parent's last part
        # …its last part: "(n/n)", or the parent's only status
        assert re.search(r"\((\d+)/\1\)", replied["content"]) or "(1/" not in replied["content"]
    with_pictures = [h for h in heads if h["media_attachments"]]
    assert [len(h["media_attachments"]) for h in with_pictures] == [1, 1]


def test_a_split_post_killed_between_parts_is_completed_once(tmp_path, server) -> None:
    server.reset()
    write_archive(tmp_path / "archive.zip", [
        tweet(1, "Long. " + SENTENCE * 13 * _scale(server), WHEN),
        tweet(2, "Court", WHEN + dt.timedelta(1))])
    plan = _plan(tmp_path, server)
    assert _kill_in_doubt(plan, server, 2)  # part 2 of 3 exists, its answer never read
    assert len(_statuses(server)) == 2
    run = migrate("apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    statuses = _statuses(server)
    assert [s["content"].count("(1/3)") + s["content"].count("(2/3)") * 2
            + s["content"].count("(3/3)") * 3 for s in statuses[:3]] == [1, 2, 3]
    assert [s["in_reply_to_id"] for s in statuses[1:3]] == [statuses[0]["id"],
                                                            statuses[1]["id"]]
    assert len(statuses) == 4 and "Court" in statuses[3]["content"]
    again = migrate("apply", plan, "--yes")
    assert again.stdout.startswith("Nothing to do"), again.stdout
    assert len(_statuses(server)) == 4


@pytest.mark.slow  # kill trials: `pytest -m slow`, which .ci/run runs after the rest
def test_in_doubt_kills_leave_every_post_complete_and_once(tmp_path, server) -> None:
    server.reset()
    wanted = _archive(tmp_path, _scale(server))
    plan = _plan(tmp_path, server)
    rng = random.Random(10)
    kills = 0
    while kills < 12 and _kill_in_doubt(plan, server, rng.randint(1, 3)):
        kills += 1
    assert kills >= 6, kills  # the kills really landed in the middle of the import
    final = migrate("apply", plan, "--yes")
    assert final.returncode == 0, final.stdout + final.stderr
    _check_complete_once(_statuses(server), wanted)
    again = migrate("apply", plan, "--yes")
    assert again.stdout.startswith("Nothing to do"), again.stdout


def test_a_self_reply_in_someone_elses_conversation_is_skipped_with_its_reason(
        tmp_path, server) -> None:
    """Decision 0321: not posted alone (it would open with their handles and answer nothing)."""
    server.reset()
    write_archive(tmp_path / "archive.zip", [
        tweet(1, "@quelquun merci pour l'invitation", WHEN, reply_to=42,
              reply_handle="quelquun"),
        tweet(2, "@quelquun et à bientôt !", WHEN + dt.timedelta(minutes=1), reply_to=1),
        tweet(3, "Notre fil à nous", WHEN + dt.timedelta(minutes=2)),
        tweet(4, "La suite de notre fil", WHEN + dt.timedelta(minutes=3), reply_to=3)])
    plan = _plan(tmp_path, server)
    planned = migrate("--lang", "en", "plan", plan)
    assert (f"{LINK.format(2)}  (it continues a conversation started by @quelquun, which is "
            "not migrated: without it this reply makes no sense)") in planned.stdout, \
        planned.stdout
    assert "Plan: 2 to create, 0 to update, 0 unchanged, 2 skipped" in planned.stdout
    assert migrate("apply", plan, "--yes").returncode == 0
    posted = _statuses(server)
    assert len(posted) == 2 and posted[1]["in_reply_to_id"] == posted[0]["id"]
    assert not any("quelquun" in s["content"] for s in posted)


def test_a_part_whose_answer_is_lost_is_not_posted_again_in_the_same_run(tmp_path,
                                                                         server) -> None:
    """Part 2 is created, the connection cut before its answer: the retry reads back first."""
    server.reset()
    write_archive(tmp_path / "archive.zip",
                  [tweet(1, "Long. " + SENTENCE * 13 * _scale(server), WHEN)])
    server.drop_after(skip=1)
    run = migrate("apply", _plan(tmp_path, server), "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    statuses = _statuses(server)
    assert [f"({i}/3)" in s["content"] for i, s in enumerate(statuses, 1)] == [True] * 3
    assert [s["in_reply_to_id"] for s in statuses[1:]] == [s["id"] for s in statuses[:2]]
