"""`migrate demo` works end to end, and `migrate sandbox` reports every server it starts."""

from __future__ import annotations

import csv
import json
import re
import shlex
import zipfile
from pathlib import Path

from migrate.journal import Journal, journal_path
from tests.helpers import migrate

#: What a stand-in server's request log line looks like (werkzeug, wsgidav, cheroot).
SERVER_LOG_LINE = re.compile(r'"(GET|POST|PUT|PROPFIND|MKCOL|MOVE|DELETE|PATCH) /|\x1b\[|HTTP/1')


def test_demo_runs_the_whole_job(tmp_path: Path) -> None:
    result = migrate("demo", "--dir", tmp_path / "demo", timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "The report is at" in result.stdout
    for line in (result.stdout + result.stderr).splitlines():
        assert not SERVER_LOG_LINE.search(line), line  # the servers log to a file instead
    assert "HTTP/1.1" in (tmp_path / "demo" / "sandbox" / "servers.log").read_text("utf-8")
    report = (tmp_path / "demo" / "report.html").read_text(encoding="utf-8")
    assert "Association du Jardin Partagé" in report
    copied = tmp_path / "demo" / "output" / "documents" / "Partenaires" / "日本の友人.txt"
    assert copied.read_text(encoding="utf-8") == "Projet d'échange culturel.\n"
    _assert_posts_reached_the_sandbox_account(tmp_path / "demo")
    _assert_members_arrived_and_suppressed_ones_are_banned(tmp_path / "demo")
    _assert_documents_reached_the_sandbox_nextcloud(tmp_path / "demo")
    _assert_the_plan_replays_inside_the_sandbox(tmp_path / "demo", result.stdout)
    # A demo folder is reusable; its JSON says what the dry run and the apply counted.
    again = migrate("demo", "--dir", tmp_path / "demo", "--json", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    _assert_the_dry_run_matched_the_apply(json.loads(again.stdout)["steps"])


def _assert_the_plan_replays_inside_the_sandbox(folder: Path, said: str) -> None:
    """The demo ends by saying how to replay its plan, and that command works."""
    hint = next(line.strip() for line in said.splitlines() if "-- migrate plan" in line)
    arguments = shlex.split(hint)
    assert arguments[:2] == ["migrate", "sandbox"], hint
    replay = migrate(*arguments[1:], cwd=folder.parent, timeout=600)
    assert replay.returncode == 0, replay.stdout[-2000:] + replay.stderr[-2000:]
    assert "Plan:" in replay.stdout and "unchanged" in replay.stdout


def _assert_the_dry_run_matched_the_apply(steps: dict[str, dict[str, int]]) -> None:
    """Every target of the sandbox (folder, Nextcloud, Mastodon, Mailman, listmonk and its
    import files): what the dry run counted is what the apply did, on the same data. The only
    admissible difference is what only the server could know: a failure."""
    assert {"documents", "drive", "takeout", "tweets", "website", "lettre-mailman",
            "lettre-listmonk", "lettre-listmonk-csv"} <= set(steps)
    for step, counts in steps.items():
        for action in ("create", "update", "unchanged", "skip", "conflict"):
            assert counts[f"plan_{action}"] == counts[f"apply_{action}"], (step, counts)
        assert counts["refused_when_written"] == 0, (step, counts)
        writes = counts["plan_create"] + counts["plan_update"]
        assert counts["done"] + counts["failed"] == writes, (step, counts)
        assert counts["failed"] == 0, (step, counts)
    mailman = steps["lettre-mailman"]  # the address Mailman refuses is skipped in the plan
    assert mailman["plan_skip"] == steps["lettre-listmonk"]["plan_skip"] + 1


def _assert_posts_reached_the_sandbox_account(folder: Path) -> None:
    """The sample tweets and feed articles were posted: the journal holds, for each, the
    status the sandbox Mastodon answered with (its id and its address on 127.0.0.1)."""
    report = json.loads(migrate("report", folder / "demo.yaml", "--json").stdout)
    assert report["steps"]["tweets"] == {"done": 18, "skipped": 2}
    assert report["steps"]["website"] == {"done": 3}
    journal = Journal(journal_path(folder / "demo.yaml", None))
    try:
        posted = [row for row in journal.rows() if row["step"] in ("tweets", "website")
                  and row["state"] == "done"]
    finally:
        journal.close()
    assert len(posted) == 21
    references = {row["key"]: json.loads(row["target_ref"]) for row in posted}
    for key, reference in references.items():
        assert reference["id"] and reference["url"].startswith("http://127.0.0.1:"), key
    assert references["twitter:1500000000000000009"]["parts"] > 1  # the long post: a thread


def _assert_members_arrived_and_suppressed_ones_are_banned(folder: Path) -> None:
    """The sample Mailchimp export reached the sandbox Mailman and listmonk: the journal holds
    what each server answered (member or pending; banned / blocklisted for every suppressed
    address), and the sidecar keeps tags and consent of the Mailman members only."""
    from migrate.consent import SUPPRESSING, address_key
    from migrate.sandbox.samples_mailing import sample_members

    journal = Journal(journal_path(folder / "demo.yaml", None))
    try:
        rows = [row for row in journal.rows() if row["step"] == "lettre-mailman"
                and row["state"] == "done"]
    finally:
        journal.close()
    states = {row["key"]: json.loads(row["target_ref"])["state"] for row in rows}
    left = {address_key(m.email) for m in sample_members() if m.status in SUPPRESSING}
    assert left and all(states[key] == "banned" for key in left)
    kept = [k for k, s in states.items() if s in ("member", "pending")]
    assert len(kept) >= 25 and not set(kept) & left
    sidecar = (folder / ".migrate" / "lettre-mailman.mailman3-members.jsonl").read_text("utf-8")
    assert "Bénévoles, Festival" in sidecar and not any(key in sidecar for key in left)
    # The listmonk import files: the suppressed only in the blocklist file, first in the note.
    files = folder / "listmonk-import"

    def addresses(name: str) -> set[str]:
        with open(files / name, encoding="utf-8", newline="") as table:
            return {address_key(row["email"]) for row in csv.DictReader(table)}
    mailable = (addresses("Lettre.listmonk-2-confirmed.csv")
                | addresses("Lettre.listmonk-3-unconfirmed.csv"))
    assert len(mailable) >= 25 and not mailable & left
    assert left <= addresses("Lettre.listmonk-1-blocklist.csv")
    note = (files / "Lettre.listmonk-import.txt").read_text("utf-8")
    assert note.index("1-blocklist") < note.index("2-confirmed") < note.index("3-unconfirmed")


def _assert_documents_reached_the_sandbox_nextcloud(demo: Path) -> None:
    """The seeded Drive and the sample Takeout export, as the report and the server's files
    tell it: every item done or skipped with a reason, the files on the sandbox's disk."""
    report = migrate("report", demo / "demo.yaml", "--format", "json")
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)["items"]
    drive = [r for r in rows if r["step"] == "drive"]
    takeout = [r for r in rows if r["step"] == "takeout"]
    assert {r["state"] for r in drive} == {"done", "skipped"} and len(drive) > 50
    assert len(takeout) == 8 and {r["state"] for r in takeout} == {"done"}
    assert any(r["rename_reason"] and "'/'" in r["rename_reason"] for r in drive)
    files = demo / "sandbox" / "nextcloud" / "demo" / "files"
    assert (files / "Communication" / "Bilan 2023∕2024.pdf").read_bytes().startswith(b"%PDF")
    assert (files / "Archives Takeout" / "Lisez-moi.txt").read_text(encoding="utf-8") == (
        "Export Google Takeout du Drive du jardin partagé.\n")
    with zipfile.ZipFile(files / "Communication" / "Présentation AG.odp") as odf:
        assert odf.read("mimetype") == b"application/vnd.oasis.opendocument.presentation"


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.odt").write_text("do not delete")
    result = migrate("demo", "--dir", tmp_path / "precious")
    assert result.returncode == 1 and "was not made by 'migrate demo'" in result.stderr
    assert (tmp_path / "precious" / "thesis.odt").exists()


def test_sandbox_prints_every_server(tmp_path: Path) -> None:
    result = migrate("sandbox", "--once", "--dir", tmp_path / "sandbox", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    servers = json.loads(result.stdout)
    assert servers, "no sandbox server is installed"
    for name, details in servers.items():
        assert details["url"].startswith("http://127.0.0.1:"), name
