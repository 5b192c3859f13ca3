"""The dry run tells the whole truth: for EVERY target with a local server or a local file form,
`migrate plan` then `migrate apply` on the same data — data full of what targets refuse (bad and
accented addresses, names servers refuse, long posts, missing and unsupported media, duplicate
names) — count the same per step. What the apply did is read from the journal: each row keeps
the action the apply planned and the state the write left. An item planned as a write and then
refused by the target when written is a disagreement: a refusal known beforehand belongs in the
plan, with its reason. The only admissible difference is what only the server could know."""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.mailing.refusals import mailpoet_refusal
from migrate.i18n import STORED
from migrate.journal import Journal, journal_path
from sandbox.listmonk import ListmonkServer
from sandbox.mailman import MailmanServer
from sandbox.mastodon import MastodonServer
from sandbox.nextcloud import NextcloudServer
from sandbox.samples_mailing import SampleMember, sample_members, write_mailchimp_export
from tests import test_webdav_apache as apache_dav
from tests.english_words import english_words_in
from tests.helpers import make_tree, migrate
from tests.social_samples import PNG, photo, sample_tweets, tweet, write_archive
from tests.test_webdav_apache import apache  # noqa: F401  (the fixture)


@dataclass
class Target:
    """A target connection and where a step writes to, with the environment its secret needs."""

    connection: str
    location: str
    env: dict[str, str] = field(default_factory=dict)


# -- the data every target of a kind is given ------------------------------------------------


def awkward_members() -> list[SampleMember]:
    """The sample audience and what some target refuses: an address past listmonk's 1,000
    bytes, a control character (no server takes one), signs Mailman refuses before the '@',
    accents there (Mailman, MailPoet), a role address, more than 64 characters before the '@'
    and an address past 150 characters (MailPoet)."""
    evidence = {"optin_time": "2022-01-02 09:00:00", "optin_ip": "203.0.113.9"}
    return [*sample_members(),
            SampleMember("tres." + "long" * 250 + "@jardin-partage.example", "Très", "Long",
                         "subscribed", **evidence),
            SampleMember("del\x7fete@jardin-partage.example", "Del", "Ete", "subscribed",
                         **evidence),
            SampleMember("pipe|ou^chapeau@jardin-partage.example", "Pipe", "", "subscribed",
                         **evidence),
            SampleMember("josé.garcía@jardin-partage.example", "José", "García", "subscribed",
                         **evidence),
            SampleMember("postmaster@jardin-partage.example", "Poste", "", "subscribed",
                         **evidence),
            SampleMember("b" * 70 + "@jardin-partage.example", "Bbb", "", "subscribed",
                         **evidence),
            SampleMember("a" * 140 + "@jardin-partage.example", "Aaa", "", "subscribed",
                         **evidence)]


def awkward_tree(root: Path) -> None:
    """Files a Nextcloud or a WebDAV server refuses by name, twins by case and by Unicode
    form, a name at the byte limit, an empty file, a link (never followed), a file larger
    than the account's free space."""
    make_tree(root, 30, seed=11)
    names = [".htaccess", "brouillon.part", "fin.", " début.txt", "fin .txt", "a\\b.txt",
             "tab\there.txt", "Rapport.txt", "rapport.txt", "RAPPORT.TXT",
             unicodedata.normalize("NFC", "Café.txt"), unicodedata.normalize("NFD", "Café.txt"),
             "é" * 120 + ".txt", "CON.txt", "vide.txt"]
    folder = root / "Étrange"
    folder.mkdir()
    for index, name in enumerate(names):
        (folder / name).write_bytes(b"" if name == "vide.txt" else f"{index}\n".encode())
    (folder / "lien.txt").symlink_to(folder / "Rapport.txt")
    (folder / "énorme.bin").write_bytes(bytes(HUGE))  # past the sandbox Nextcloud's quota


def awkward_tweets(folder: Path) -> Path:
    """Threads, replies, long posts and pictures, and: a picture missing from the archive, an
    attachment of a kind no server takes, more pictures than a post takes, a picture that
    inflates like a zip bomb, one past every server's size limit."""
    tweets, media, _facts = sample_tweets(30)
    start = dt.datetime(2023, 5, 1, 9, 0, tzinfo=dt.UTC)
    tweets.append(tweet(2_000_001, "Photo perdue https://t.co/m2000001", start,
                        media=[photo(2_000_001, "PERDUE.png")]))
    tweets.append(tweet(2_000_002, "Un fichier étrange https://t.co/m2000002",
                        start + dt.timedelta(hours=1), media=[photo(2_000_002, "doc.xyz")]))
    media["2000002-doc.xyz"] = b"\x00\x01 not a picture"
    tweets.append(tweet(2_000_003, "« " + "Très long message de l'association. " * 40 + "»",
                        start + dt.timedelta(hours=2)))
    tweets.append(tweet(2_000_004, "Avec trois images https://t.co/m2000004",
                        start + dt.timedelta(hours=3),
                        media=[photo(2_000_004, f"P{n}.png") for n in range(6)]))
    media.update({f"2000004-P{n}.png": PNG for n in range(6)})
    # A picture whose entry inflates like a zip bomb: refused unread (migrate/archives.py).
    tweets.append(tweet(2_000_005, "Une image piégée https://t.co/m2000005",
                        start + dt.timedelta(hours=4), media=[photo(2_000_005, "BOMBE.png")]))
    # A picture past every dialect's size limit (Mastodon 16 MB, Akkoma 16,000,000 bytes).
    tweets.append(tweet(2_000_006, "Une photo trop lourde https://t.co/m2000006",
                        start + dt.timedelta(hours=5), media=[photo(2_000_006, "LOURDE.png")]))
    archive = write_archive(folder / "twitter.zip", tweets, media)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("data/tweets_media/2000005-BOMBE.png", PNG + bytes(3 << 20))
        bomb.writestr("data/tweets_media/2000006-LOURDE.png", PNG + bytes(17 << 20))
    return archive


# -- the targets -------------------------------------------------------------------------------


@pytest.fixture
def local_target(tmp_path: Path) -> Target:
    return Target("{type: local, path: copie}", "")


#: The account's quota on the sandbox Nextcloud: every file fits but `Étrange/énorme.bin`.
QUOTA, HUGE = 150_000, 200_000


@pytest.fixture
def nextcloud_target(nextcloud_server: NextcloudServer) -> Target:
    nextcloud_server.set_quota(nextcloud_server.describe()["user"], QUOTA)
    info = nextcloud_server.describe()
    return Target(f"{{type: nextcloud, url: '{info['url']}', user: {info['user']}, "
                  "password: '${env:TARGET_SECRET}'}", "/Archives",
                  {"TARGET_SECRET": info["password"]})


@pytest.fixture
def webdav_target(nextcloud_server: NextcloudServer) -> Target:
    """The sandbox's WebDAV engine spoken to as a plain WebDAV server (its quota said in the
    standard properties, RFC 4331)."""
    nextcloud_server.set_quota(nextcloud_server.describe()["user"], QUOTA)
    info = nextcloud_server.describe()
    return Target(f"{{type: webdav, url: '{nextcloud_server.dav_url()}/', user: {info['user']}, "
                  "password: '${env:TARGET_SECRET}'}", "/Archives",
                  {"TARGET_SECRET": info["password"]})


@pytest.fixture
def apache_target(request: pytest.FixtureRequest) -> Target:
    """Apache httpd's mod_dav (Debian's apache2), where it is installed."""
    if not Path(apache_dav.APACHE).exists() or not apache_dav.MODULES.is_dir():
        pytest.skip("Debian's apache2 is not installed")
    server = request.getfixturevalue("apache")
    return Target(f"{{type: webdav, url: '{server.url}', user: {apache_dav.USER}, "
                  "password: '${env:TARGET_SECRET}'}", "/Archives",
                  {"TARGET_SECRET": apache_dav.PASSWORD})


@pytest.fixture
def listmonk_target() -> Iterator[Target]:
    with ListmonkServer() as server:
        yield Target(f"{{type: listmonk, url: '{server.url}', user: {server.api_user}, "
                     "token: '${env:TARGET_SECRET}'}", "Lettre", {"TARGET_SECRET": server.token})


@pytest.fixture
def mailman3_target(mailman_server: MailmanServer, request: pytest.FixtureRequest) -> Target:
    info = mailman_server.describe()
    return Target(f"{{type: mailman3, url: '{info['url']}', user: {info['user']}, "
                  "password: '${env:TARGET_SECRET}'}",
                  f"plan-{abs(hash(request.node.name)) % 10**8}@example.org",
                  {"TARGET_SECRET": info["password"]})


@pytest.fixture
def mastodon_target(mastodon_server: MastodonServer) -> Target:
    info = mastodon_server.describe()
    return Target(f"{{type: mastodon, url: '{info['url']}', token: '${{env:TARGET_SECRET}}'}}",
                  "", {"TARGET_SECRET": info["token"]})


def _file_target(kind: str) -> Callable[[], Target]:
    def made() -> Target:
        return Target(f"{{type: {kind}, path: {kind}-out}}", "Lettre")
    return made


csv_target = pytest.fixture(_file_target("csv"), name="csv_target")
vcard_target = pytest.fixture(_file_target("vcard"), name="vcard_target")
mailpoet_target = pytest.fixture(_file_target("mailpoet"), name="mailpoet_target")
listmonk_csv_target = pytest.fixture(_file_target("listmonk_csv"), name="listmonk_csv_target")

#: target fixture → the kind of data it takes (the step's verb and its source).
TARGETS = {
    "local_target": "files", "nextcloud_target": "files", "webdav_target": "files",
    "apache_target": "files",
    "listmonk_target": "members", "listmonk_csv_target": "members",
    "mailman3_target": "members", "csv_target": "members", "vcard_target": "members",
    "mailpoet_target": "members", "mastodon_target": "posts",
}


def _plan(folder: Path, kind: str, target: Target) -> Path:
    if kind == "files":
        awkward_tree(folder / "dossier")
        source, step = "{type: local, path: dossier}", "copy: {from: source, to: '%s'}"
    elif kind == "members":
        write_mailchimp_export(folder / "export.zip", awkward_members())
        source, step = "{type: mailchimp_export, path: export.zip}", "export: {from: source, " \
            "to: '%s'}"
    else:
        awkward_tweets(folder)
        source, step = "{type: twitter_archive, path: twitter.zip}", "mirror: {from: source, " \
            "to: '%s'}"
    to = f"target:{target.location}" if target.location else "target"
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\norganisation: Association des Essais\nconnections:\n"
                    f"  source: {source}\n  target: {target.connection}\n"
                    f"steps:\n  - id: etape\n    {step % to}\n", encoding="utf-8")
    return plan


def _run(plan: Path, target: Target, *args: str) -> dict[str, Any]:
    result = migrate(*args, plan, "--json", env={"LANG": "C.UTF-8", **target.env}, timeout=300)
    assert result.returncode in (0, 2, 3), result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _journal_rows(plan: Path) -> list[dict[str, Any]]:
    journal = Journal(journal_path(plan, None))
    try:
        return list(journal.rows())
    finally:
        journal.close()


@pytest.mark.parametrize("target_name", list(TARGETS))
def test_the_plan_counts_what_the_apply_does(tmp_path: Path, target_name: str,
                                             request: pytest.FixtureRequest) -> None:
    target: Target = request.getfixturevalue(target_name)
    _plan_then_apply(tmp_path, TARGETS[target_name], target, target_name)


def test_the_plan_counts_what_the_apply_does_on_every_mastodon_dialect(
        tmp_path: Path, dialect_server: MastodonServer) -> None:
    """Mastodon 4 and 3.5, GoToSocial, Akkoma, Takahē (their limits and media rules)."""
    info = dialect_server.describe()
    target = Target(f"{{type: mastodon, url: '{info['url']}', "
                    "token: '${env:TARGET_SECRET}'}", "", {"TARGET_SECRET": info["token"]})
    _plan_then_apply(tmp_path, "posts", target, "mastodon_target")


def _plan_then_apply(tmp_path: Path, kind: str, target: Target, target_name: str) -> None:
    plan = _plan(tmp_path, kind, target)
    planned = _run(plan, target, "plan")
    counts = Counter(change["action"] for change in planned["changes"])
    assert counts["skip"] and counts["create"], counts  # the data holds both, for every target
    applied = _run(plan, target, "apply", "--yes")
    assert applied["summary"] == planned["summary"], (planned["summary"], applied["summary"])
    rows = _journal_rows(plan)
    written = [r for r in rows if r["action"] in ("create", "update")]
    refused = [(r["source_path"], r["state"], r["last_error"] or r["reason"])
               for r in written if r["state"] != "done"]
    # A write the target refused is a refusal the plan could have said, or a failure only the
    # server could know: the sandbox servers have none to give here.
    assert refused == [], refused
    assert len(written) == counts["create"] + counts["update"]
    states = Counter(r["state"] for r in rows if r["action"] not in ("create", "update"))
    assert states["skipped"] == counts["skip"], (states, counts)
    assert states.get("conflict", 0) == counts["conflict"], (states, counts)
    # Run again: nothing left to write, nothing new refused.
    again = _run(plan, target, "plan")
    assert again["summary"]["create"] == again["summary"]["update"] == 0, again["summary"]
    _reasons_read_in_french(plan, target, rows)
    if target_name == "listmonk_csv_target":  # the files' own apply is listmonk's import
        _listmonk_imports_every_row(tmp_path / "listmonk_csv-out", len(written))
    if target_name == "mailpoet_target":  # no MailPoet here: its importer's rules, then
        for path in (tmp_path / "mailpoet-out").glob("Lettre.mailpoet-*.csv"):
            with open(path, encoding="utf-8", newline="") as table:
                emails = [row["email"] for row in csv.DictReader(table)]
            assert [(e, mailpoet_refusal(e)) for e in emails if mailpoet_refusal(e)] == []


def _reasons_read_in_french(plan: Path, target: Target, rows: list[dict[str, Any]]) -> None:
    """An English run's reasons are kept as messages (docs/decisions/0620), so the report made
    in French says them in French: no reason journaled as plain text, none left in English."""
    journal = Journal(journal_path(plan, None))
    try:
        raw = journal.db.execute("SELECT source_path, reason, rename_reason, last_error, notes "
                                 "FROM items").fetchall()
    finally:
        journal.close()
    plain = [(path, text) for path, reason, rename, error, notes in raw
             for text in (reason, rename, error, *json.loads(notes or "[]"))
             if text and not text.startswith(STORED)]
    assert plain == [], plain
    report = migrate("--lang", "fr", "report", plan, "--json", env=target.env)
    assert report.returncode == 0, report.stderr
    items = json.loads(report.stdout)["items"]
    english = {(item["source_path"], word) for item in items
               for text in (item["reason"], item["rename_reason"], item["last_error"],
                            *item["notes"]) if text
               for word in english_words_in(text)}
    assert english == set(), english


def _listmonk_imports_every_row(folder: Path, written: int) -> None:
    """Each file through the sandbox listmonk's importer (Subscribers › Import), as the note
    says: every row is imported, none skipped ("skipping line …" in its log)."""
    rows = 0
    with ListmonkServer() as server, requests.Session() as http:
        http.headers.update(server.auth_header)
        list_id = http.post(f"{server.url}/api/lists", json={"name": "Lettre"}).json()[
            "data"]["id"]
        for path in sorted(folder.glob("Lettre.listmonk-*.csv")):
            word = path.stem.rsplit("-", 1)[-1]
            params: dict[str, Any] = {"mode": "blocklist", "delim": ",", "overwrite": False}
            if word != "blocklist":
                params |= {"mode": "subscribe", "subscription_status": word,
                           "lists": [list_id]}
            started = http.post(f"{server.url}/api/import/subscribers",
                                data={"params": json.dumps(params)},
                                files={"file": (path.name, path.read_bytes(), "text/csv")})
            assert started.status_code == 200, started.text
            while (stats := http.get(f"{server.url}/api/import/subscribers").json()["data"])[
                    "status"] == "importing":
                time.sleep(0.05)
            log = http.get(f"{server.url}/api/import/subscribers/logs").json()["data"]
            assert stats["status"] == "finished" and "skipping" not in log, log
            rows += stats["imported"]
            http.delete(f"{server.url}/api/import/subscribers")
    assert rows == written
