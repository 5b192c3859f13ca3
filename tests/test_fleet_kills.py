"""Three clients' plans on a fleet of three workers, a random worker SIGKILLed ten times (a
replacement started each time): every file, post and member lands exactly once, and the
servers end as after one uninterrupted single-machine run of the same plans.

Real PostgreSQL (Debian's, tests/fixtures/postgres.py), real `migrate worker` processes, the
sandbox Nextcloud, Mastodon (mastodon-mock) and listmonk servers.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon

from sandbox.listmonk import ListmonkServer
from sandbox.mastodon import MastodonServer
from sandbox.nextcloud import NextcloudServer
from tests.fleet import Fleet
from tests.helpers import make_tree, migrate
from tests.social_samples import tweet, write_archive
from tests.test_many_clients import in_source, on_server

pytestmark = pytest.mark.slow

WHEN = dt.datetime(2022, 3, 1, 9, 0, tzinfo=dt.UTC)
FILES, POSTS, MEMBERS = 600, 30, 1000


def _sources(root: Path) -> None:
    make_tree(root / "files" / "source", FILES, seed=18)
    tweets = []
    for i in range(POSTS):
        reply = 1000 + i - 1 if i % 6 == 5 else None  # some threads: a reply to the previous
        tweets.append(tweet(1000 + i, f"Message {i} de l'association, numéro {i}.",
                            WHEN + dt.timedelta(hours=i), reply_to=reply))
    (root / "posts").mkdir(parents=True, exist_ok=True)
    write_archive(root / "posts" / "archive.zip", tweets)
    rows = ["email,first_name"] + [f"adherent{i}@asso.example,Adhérent {i}"
                                   for i in range(MEMBERS)]
    (root / "members").mkdir(parents=True, exist_ok=True)
    (root / "members" / "adherents.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _plans(root: Path, cloud: NextcloudServer, masto: MastodonServer,
           listmonk: ListmonkServer) -> list[Path]:
    texts = {
        "files": "  here: {type: local, path: source}\n"
                 f"  cloud: {{type: nextcloud, url: '{cloud.url}', user: alice, "
                 "password: '${env:NC_SECRET}'}\n"
                 "steps:\n  - id: files\n    copy: {from: here, to: 'cloud:/asso'}\n",
        "posts": "  tweets: {type: twitter_archive, path: archive.zip}\n"
                 f"  masto: {{type: mastodon, url: '{masto.url}', token: '${{env:MASTO_SECRET}}',"
                 " timeout: 60}\n"
                 "steps:\n  - id: posts\n    mirror: {from: tweets, to: masto}\n",
        "members": "  adherents: {type: csv, path: adherents.csv, "
                   "columns: {email: email, first_name: first_name}}\n"
                   f"  lm: {{type: listmonk, url: '{listmonk.url}', user: {listmonk.api_user}, "
                   "token: '${env:LM_SECRET}'}\n"
                   "steps:\n  - id: members\n    export: {from: adherents, to: 'lm:Lettre'}\n",
    }
    plans = []
    for name, body in texts.items():
        plan = root / name / "plan.yaml"
        plan.write_text(f"version: 1\norganisation: Client {name}\nconnections:\n{body}",
                        encoding="utf-8")
        plans.append(plan)
    return plans


def _env(cloud: NextcloudServer, masto: MastodonServer,
         listmonk: ListmonkServer) -> dict[str, str]:
    return {"NC_SECRET": cloud.app_passwords["alice"], "MASTO_SECRET": masto.access_token,
            "LM_SECRET": listmonk.token}


def _posts(masto: MastodonServer) -> Counter[tuple[str, bool]]:
    """Each status's text and whether it answers another: duplicates show as counts of 2."""
    api = Mastodon(access_token=masto.access_token, api_base_url=masto.url,
                   version_check_mode="none")
    me = api.account_verify_credentials()["id"]
    found = api.fetch_remaining(api.account_statuses(me, limit=40))
    return Counter((s["content"], s["in_reply_to_id"] is not None) for s in found)


def _members(listmonk: ListmonkServer) -> dict[str, str]:
    [list_id] = [i for i, record in listmonk.store.lists.items() if record["name"] == "Lettre"]
    return listmonk.members(list_id)


def _outcome(root: Path, cloud: NextcloudServer, masto: MastodonServer,
             listmonk: ListmonkServer) -> dict[str, Any]:
    return {"files": on_server(cloud, "alice", "asso"), "posts": _posts(masto),
            "members": _members(listmonk)}


def _wait_for_progress(database: str, plans: list[Path], done: int,
                       follower: subprocess.Popen[str]) -> None:
    """Until `done` items of the three plans are done in their journals (or the run ended)."""
    from migrate.fleet.store import journal_exists
    from migrate.fleet.workflows import journal_key, open_journal

    deadline = time.monotonic() + 300
    while follower.poll() is None and time.monotonic() < deadline:
        count = 0
        for plan in plans:
            if journal_exists(database, journal_key(plan)):
                journal = open_journal(database, plan)
                try:
                    count += sum(states.get("done", 0) for states in journal.counts().values())
                finally:
                    journal.db.close()
        if count >= done:
            return
        time.sleep(0.05)


def test_ten_worker_kills_change_nothing(tmp_path: Path, postgres_url: str) -> None:
    # One uninterrupted single-machine run: the result to match.
    alone = tmp_path / "alone"
    _sources(alone)
    with NextcloudServer(tmp_path / "nc-alone", {"alice": "alice-password"}) as cloud, \
            MastodonServer() as masto, ListmonkServer() as listmonk:
        plans = _plans(alone, cloud, masto, listmonk)
        single = migrate("apply", *plans, "--yes", env=_env(cloud, masto, listmonk))
        assert single.returncode == 0, single.stdout + single.stderr
        expected = _outcome(alone, cloud, masto, listmonk)

        # The fleet: three workers, ten kills, a replacement each time.
        masto.reset()
        fleet_root = tmp_path / "fleet"
        _sources(fleet_root)
        with NextcloudServer(tmp_path / "nc-fleet", {"alice": "alice-password"}) as cloud2, \
                ListmonkServer() as listmonk2:
            plans = _plans(fleet_root, cloud2, masto, listmonk2)
            env = _env(cloud2, masto, listmonk2)
            with Fleet(postgres_url, tmp_path / "logs", env, threads=3) as fleet:
                fleet.start(3)
                follower = subprocess.Popen(
                    [sys.executable, "-m", "migrate", "apply", *map(str, plans), "--yes",
                     "--database", postgres_url, "--json"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                chance = random.Random(18)
                kills_during_run = 0
                total = FILES + POSTS + MEMBERS
                for kill in range(1, 11):
                    # Each kill once the run has moved on (not after a time): mid-run whatever
                    # the machine's speed.
                    _wait_for_progress(postgres_url, plans, kill * total // 12, follower)
                    kills_during_run += follower.poll() is None
                    fleet.kill(chance.randrange(len(fleet.workers)))
                    fleet.start(1, wait=False)  # as systemd restarts one
                out, err = follower.communicate(timeout=600)
                assert follower.returncode == 0, out + err
                again = migrate("apply", *plans, "--yes", "--database", postgres_url, "--json")
                states = [json.loads(migrate("status", plan, "--database", postgres_url,
                                             "--json").stdout)["steps"] for plan in plans]
            got = _outcome(fleet_root, cloud2, masto, listmonk2)

    assert kills_during_run == 10, "the run ended before most kills: make it longer"
    counts = {Path(r["plan"]).parent.name: r["counts"]
              for r in json.loads(out)["clients"]}
    assert counts["files"]["failed"] == counts["posts"]["failed"] == 0
    # Exactly once: every file as at the source, every post once, every member once…
    assert got["files"] == in_source(fleet_root / "files" / "plan.yaml")
    assert sum(got["posts"].values()) == POSTS and max(got["posts"].values()) == 1
    assert len(got["members"]) == MEMBERS
    # …and the same as the uninterrupted single-machine run.
    assert got == expected
    # Nothing left in doubt, nothing left to write.
    assert all("intent" not in steps for state in states for steps in state.values())
    rows = {Path(r["plan"]).parent.name: r for r in json.loads(again.stdout)["clients"]}
    assert all(row["counts"]["done"] == 0 for row in rows.values()), again.stdout
