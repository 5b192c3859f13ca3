"""Broken and hostile input gets the intended message, never the catch-all; one bad item never
stops the others; a damaged journal has a way back. Triggers are issue 14's, by name."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from mastodon import Mastodon

from connectors.twitter_archive import TwitterArchiveConnector
from migrate.cli import cli
from migrate.connector import StepContext
from migrate.errors import FatalError
from tests import hostile_archives as hostile
from tests.social_samples import tweet, write_archive

STEP = StepContext("posts", "mirror", {}, "plan-id", Path("."))
WHEN = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    assert "Unexpected error" not in result.output, result.output
    assert "Traceback" not in result.output
    return result


def local_plan(folder: Path, extra_step: str = "") -> Path:
    (folder / "src").mkdir(exist_ok=True)
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  src: {type: local, path: src}\n"
                    "  dst: {type: local, path: dst}\nsteps:\n  - id: files\n"
                    "    copy: {from: src, to: dst}\n" + extra_step, encoding="utf-8")
    return plan


# -- plans ------------------------------------------------------------------------------------

BILLION_LAUGHS = "version: 1\n" + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10))


@pytest.mark.parametrize("text, expected", [
    ("version: 1\nx: \"a\x00b\"\n", "U+0000 cannot appear in a plan"),
    ("version: 1\nx: a\x0cb\n", "U+000C cannot appear in a plan"),
    ("version: 1\nx: a\x7fb\n", "U+007F cannot appear in a plan"),
    ("version: 1\nx: a\ufffeb\n", "U+FFFE cannot appear in a plan"),
    ("version: 1\nx: " + "[" * 1000 + "]" * 1000 + "\n", "nests too deeply"),
    ("version: !!float x\n", "cannot be read as its tag"),
    ("version: !!timestamp 2024-13-45x\n", "cannot be read as its tag"),
    ("version: 1\n? [a, b]\n: 1\n", "a key must be plain text"),
    (BILLION_LAUGHS, "once its aliases (*name) are expanded"),
])
def test_a_broken_plan_gets_its_message_at_its_line(tmp_path: Path, text: str,
                                                    expected: str) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    for command in ("validate", "plan"):
        result = run(command, plan)
        assert result.exit_code == 1
        assert expected in result.output and "plan.yaml:" in result.output
        assert result.output.count("\n") == 1  # one line


def test_a_secret_reference_in_a_step_option_is_refused_by_validate(tmp_path: Path) -> None:
    plan = local_plan(tmp_path, "    with: {include: ['${env:PATTERN}'], max_per_run: "
                                "'${file:count.txt}'}\n")
    result = run("validate", plan, env={"PATTERN": "*.txt"})
    assert result.exit_code == 1 and "are for connection options" in result.output
    assert "plan.yaml:8:" in result.output


def test_a_200_kb_connection_path_is_a_plain_message(tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    plan.write_text(plan.read_text().replace("path: dst", "path: " + "d" * 200_000))
    (tmp_path / "src" / "a.txt").write_text("a")
    for command in (("plan",), ("apply", "--yes")):
        result = run(*command[:1], plan, *command[1:])
        assert result.exit_code == 1 and "File name too long" in result.output
        assert len(result.output) < 1000


# -- archives ---------------------------------------------------------------------------------

def twitter_zip(folder: Path) -> bytes:
    path = write_archive(folder / "ok.zip", [tweet(i, f"Bonjour {i}", WHEN) for i in range(1, 4)])
    return path.read_bytes()


def list_twitter(folder: Path, data: bytes) -> list:
    (folder / "archive.zip").write_bytes(data)
    source = TwitterArchiveConnector({"path": "archive.zip"}, folder).open_source("", STEP)
    try:
        return list(source.list_items().items)
    finally:
        source.close()


@pytest.mark.parametrize("damage, expected", [
    (lambda data: hostile.with_name_bytes(data, b"data/account", b"data/a\xff\xfeount"),
     "not valid UTF-8"),
    (hostile.flipped_bit, "cannot be read"),
    (hostile.encrypted, "is encrypted"),
    (lambda data: hostile.with_compression_method(data, 93), "compression method"),
])
def test_a_damaged_twitter_archive_is_refused_with_a_message(tmp_path: Path, damage,
                                                             expected: str) -> None:
    with pytest.raises(FatalError, match=expected):
        list_twitter(tmp_path, damage(twitter_zip(tmp_path)))


def test_a_tweets_js_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    data = hostile.bomb("data/tweets.js", prefix=b"window.YTD.tweets.part0 = [")
    assert len(data) < 1_000_000
    with pytest.raises(FatalError, match="zip bomb"):
        list_twitter(tmp_path, data)


def test_wrong_json_types_skip_only_their_tweet_and_deep_nesting_is_refused(
        tmp_path: Path) -> None:
    tweets = [{"tweet": tweet(1, "Bon", WHEN)}, {"tweet": {"id_str": "2", "entities": [1]}},
              {"tweet": {"id_str": "3", "full_text": 5, "entities": {"urls": "x"}}}, 7, "x"]
    data = hostile.zip_of({"data/tweets.js": ("window.YTD.tweets.part0 = " +
                                              json.dumps(tweets)).encode()})
    items = {item.key: item for item in list_twitter(tmp_path, data)}
    assert items["twitter:1"].skip_reason is None
    assert "malformed" in items["twitter:2"].skip_reason
    assert "malformed" in items["twitter:3"].skip_reason
    deep = hostile.zip_of({"data/tweets.js": b"window.YTD.tweets.part0 = " + b"[" * 100_000
                           + b"]" * 100_000})
    with pytest.raises(FatalError, match="nests too deeply"):
        list_twitter(tmp_path, deep)


def mailchimp_plan(folder: Path, export: bytes) -> Path:
    (folder / "export.zip").write_bytes(export)
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    "export.zip}\n  files: {type: listmonk_csv, path: out}\nsteps:\n"
                    "  - id: lettre\n    export: {from: audience, to: 'files:Lettre'}\n",
                    encoding="utf-8")
    return plan


def one_status_file(text: str, encoding: str = "utf-8") -> bytes:
    return hostile.zip_of({"members_export_1/subscribed_members_export_1.csv":
                           text.encode(encoding)})


GOOD_CSV = "Email Address,First Name\r\nanne@example.org,Anne\r\nbob@example.org,Bob\r\n"


@pytest.mark.parametrize("export, expected", [
    (hostile.bomb("members_export_1/subscribed_members_export_1.csv"), "zip bomb"),
    (one_status_file(GOOD_CSV, "utf-16-le"), "no 'Email Address' column"),
    (one_status_file(GOOD_CSV, "utf-32-le"), "no 'Email Address' column"),
    (one_status_file("Courriel,Prénom\r\nanne@example.org,Anne\r\n"),
     "no 'Email Address' column"),
    (one_status_file("Email Address,Notes\r\na@example.org,\"" + "x" * 140_000 + "\"\r\n"),
     "malformed"),
])
def test_a_bad_mailchimp_export_is_refused_not_read_as_empty_rows(
        tmp_path: Path, export: bytes, expected: str) -> None:
    plan = mailchimp_plan(tmp_path, export)
    for command in (("plan",), ("apply", "--yes")):
        result = run(*command[:1], plan, *command[1:])
        assert result.exit_code == 1 and expected in result.output, result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_mailchimp_file_in_utf16_or_utf32_with_its_bom_is_read(tmp_path: Path,
                                                                 encoding: str) -> None:
    plan = mailchimp_plan(tmp_path, one_status_file(GOOD_CSV, encoding))
    result = run("apply", plan, "--yes")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out").glob("*.csv")
    assert "anne@example.org" in "".join(p.read_text() for p in written)


# -- one bad item never stops the others ------------------------------------------------------

def test_undecodable_names_and_over_long_paths_are_skipped_and_the_rest_copied(
        tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    source = tmp_path / "src"
    (source / "good.txt").write_text("good")
    with open(os.fsencode(source) + b"/bad\xffname.txt", "wb") as out:
        out.write(b"bad")
    folder = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
    for _level in range(20):  # 20 × 251 bytes: past PATH_MAX (4,096) from the source's root
        os.mkdir("d" * 250, dir_fd=folder)
        inner = os.open("d" * 250, os.O_RDONLY | os.O_DIRECTORY, dir_fd=folder)
        os.close(folder)
        folder = inner
    with open(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=folder), "w") as out:
        out.write("deep")
    os.close(folder)
    result = run("apply", plan, "--yes")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dst" / "good.txt").read_text() == "good"
    changes = json.loads(run("plan", plan, "--json").output)["changes"]
    reasons = {c["source_path"]: c["reason"] for c in changes}
    assert "not valid text" in reasons["bad\\xffname.txt"]
    assert any("cannot be read" in why for why in reasons.values())


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_subfolder_is_skipped_and_the_rest_copied(tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    (tmp_path / "src" / "good.txt").write_text("good")
    locked = tmp_path / "src" / "locked"
    locked.mkdir()
    (locked / "secret.txt").write_text("x")
    locked.chmod(0)
    try:
        result = run("apply", plan, "--yes")
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 0 and (tmp_path / "dst" / "good.txt").exists()
    assert "1 skipped" in result.output


def test_a_tweet_with_a_lone_surrogate_is_skipped_and_the_others_posted(
        tmp_path: Path, mastodon_server) -> None:
    tweets = [tweet(1, "Premier", WHEN), tweet(2, "Cassé \ud800 ici", WHEN),
              tweet(3, "Troisième", WHEN + dt.timedelta(hours=1))]
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as out:  # json.dumps keeps the surrogate as \ud800
        out.writestr("data/tweets.js", "window.YTD.tweets.part0 = " +
                     json.dumps([{"tweet": t} for t in tweets]))
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  tweets: {type: twitter_archive, path: "
                    "archive.zip}\n  masto: {type: mastodon, url: '${env:MASTODON_URL}', "
                    "token: '${env:MASTODON_TOKEN}'}\nsteps:\n  - id: posts\n"
                    "    mirror: {from: tweets, to: masto}\n", encoding="utf-8")
    env = {"MASTODON_URL": mastodon_server.url, "MASTODON_TOKEN": mastodon_server.access_token}
    result = run("apply", plan, "--yes", env=env)
    assert result.exit_code == 0, result.output
    api = Mastodon(access_token=mastodon_server.access_token, api_base_url=mastodon_server.url)
    me = api.account_verify_credentials()
    texts = [s["content"] for s in api.account_statuses(me["id"])]
    assert len(texts) == 2 and not any("Cass" in t for t in texts)
    report = json.loads(run("report", plan, "--format", "json", env=env).output)
    assert "not valid Unicode" in json.dumps(report)


# -- a damaged journal has a way back ---------------------------------------------------------

def damage_truncate(journal: Path) -> None:
    journal.write_bytes(journal.read_bytes()[:3000])


def damage_garbage(journal: Path) -> None:
    journal.write_bytes(b"this is not a journal\n" * 100)


def damage_folder(journal: Path) -> None:
    journal.unlink()
    journal.mkdir()


@pytest.mark.parametrize("damage", [damage_truncate, damage_garbage, damage_folder])
def test_a_damaged_journal_is_named_and_repair_rebuilds_it_without_sending_again(
        tmp_path: Path, damage) -> None:
    plan = local_plan(tmp_path)
    for index in range(5):
        (tmp_path / "src" / f"f{index}.txt").write_text(f"file {index}")
    assert run("apply", plan, "--yes").exit_code == 0
    journal = tmp_path / ".migrate" / "plan.journal.sqlite"
    for companion in ("-wal", "-shm"):
        Path(str(journal) + companion).unlink(missing_ok=True)
    damage(journal)
    written = {p.name: p.stat().st_ino for p in (tmp_path / "dst").iterdir()}
    for command in (("status",), ("report",), ("plan",), ("apply", "--yes")):
        result = run(*command[:1], plan, *command[1:])
        assert result.exit_code == 1 and "is damaged" in result.output
        assert "migrate repair" in result.output
    (tmp_path / "src" / "new.txt").write_text("new")
    repaired = run("repair", plan)
    assert repaired.exit_code == 0, repaired.output
    assert "5 already on the target" in repaired.output
    assert [p for p in (tmp_path / ".migrate").iterdir() if ".damaged-" in p.name]
    applied = run("apply", plan, "--yes")
    assert applied.exit_code == 0 and "1 done" in applied.output
    assert {p.name: p.stat().st_ino for p in (tmp_path / "dst").iterdir()
            if p.name != "new.txt"} == written  # nothing sent again
    assert json.loads(run("status", plan, "--json").output)["steps"]["files"] == {"done": 6}


def test_repair_leaves_a_sound_journal_alone(tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    (tmp_path / "src" / "a.txt").write_text("a")
    run("apply", plan, "--yes")
    result = run("repair", plan)
    assert result.exit_code == 1 and "not damaged" in result.output


def test_leftover_part_files_are_removed_by_the_next_run_before_writing(tmp_path: Path) -> None:
    plan = local_plan(tmp_path)
    (tmp_path / "src" / "sub").mkdir()
    (tmp_path / "src" / "sub" / "a.txt").write_text("a")
    leftovers = [tmp_path / "dst" / f".~migrate-{n:016x}.part" for n in range(64)]
    leftovers.append(tmp_path / "dst" / "sub" / ".~migrate-ffffffffffffffff.part")
    for leftover in leftovers:
        leftover.parent.mkdir(parents=True, exist_ok=True)
        leftover.write_bytes(b"\0" * 4096)
    assert run("plan", plan).exit_code == 0
    assert all(leftover.exists() for leftover in leftovers)  # a dry run writes nothing
    assert run("apply", plan, "--yes").exit_code == 0
    assert not any(leftover.exists() for leftover in leftovers)
    assert (tmp_path / "dst" / "sub" / "a.txt").read_text() == "a"


def test_a_run_stopped_by_an_error_is_recorded_as_failed_not_running(tmp_path: Path) -> None:
    plan = mailchimp_plan(tmp_path, one_status_file("Courriel\r\nanne@example.org\r\n"))
    result = run("apply", plan, "--yes")
    assert result.exit_code == 1 and "no 'Email Address' column" in result.output
    status = json.loads(run("status", plan, "--json").output)
    assert status["last_run"]["outcome"] == "failed"


def test_repair_after_posting_sends_nothing_again(tmp_path: Path, mastodon_server) -> None:
    archive = write_archive(tmp_path / "archive.zip", [
        tweet(i, f"Nouvelle n°{i}", WHEN + dt.timedelta(hours=i)) for i in range(1, 5)])
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"version: 1\nconnections:\n  tweets: {{type: twitter_archive, path: "
                    f"{archive.name}}}\n  masto: {{type: mastodon, url: '${{env:MASTODON_URL}}', "
                    "token: '${env:MASTODON_TOKEN}'}\nsteps:\n  - id: posts\n"
                    "    mirror: {from: tweets, to: masto}\n", encoding="utf-8")
    env = {"MASTODON_URL": mastodon_server.url, "MASTODON_TOKEN": mastodon_server.access_token}
    os.umask(0o022)
    assert run("plan", plan, env=env).exit_code == 0  # a dry run: no journal yet
    state = tmp_path / ".migrate"
    if state.exists():  # made by the Mastodon step's pacing
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert run("apply", plan, "--yes", env=env).exit_code == 0
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in state.iterdir() if p.is_file()} == {0o600}
    journal = tmp_path / ".migrate" / "plan.journal.sqlite"
    for companion in ("-wal", "-shm"):
        Path(str(journal) + companion).unlink(missing_ok=True)
    damage_garbage(journal)
    assert "is damaged" in run("apply", plan, "--yes", env=env).output
    repaired = run("repair", plan, env=env)
    assert repaired.exit_code == 0 and "4 already on the target" in repaired.output
    again = run("apply", plan, "--yes", env=env)
    assert again.exit_code == 0 and "Nothing to do" in again.output
    api = Mastodon(access_token=mastodon_server.access_token, api_base_url=mastodon_server.url)
    me = api.account_verify_credentials()
    assert len(api.account_statuses(me["id"], limit=40)) == 4


def test_a_write_that_fails_midway_leaves_no_part_file(tmp_path: Path) -> None:
    """The file-size limit stands in for a full disk: writes past 1 MB fail (EFBIG)."""
    import resource
    import signal
    import subprocess
    import sys

    plan = local_plan(tmp_path)
    for index in range(4):
        (tmp_path / "src" / f"big-{index}.bin").write_bytes(os.urandom(1_500_000))
    (tmp_path / "src" / "small.txt").write_text("small")

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    command = [sys.executable, "-m", "migrate", "apply", str(plan), "--yes"]
    first = subprocess.run(command, capture_output=True, text=True, preexec_fn=limited,
                           timeout=300)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "Unexpected error" not in first.stderr
    assert (tmp_path / "dst" / "small.txt").read_text() == "small"
    assert not list((tmp_path / "dst").glob(".~migrate-*")), "half-written copies left behind"
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(list((tmp_path / "dst").glob("big-*.bin"))) == 4
