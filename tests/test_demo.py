"""`migrate demo` works end to end, and `migrate sandbox` reports every server it starts."""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrate.journal import Journal, journal_path
from tests import report_browser as browser
from tests.english_words import english_words_in
from tests.helpers import migrate, migrate_process
from tests.journal_state import step_values

#: What a stand-in server's request log line looks like (werkzeug, wsgidav, cheroot).
SERVER_LOG_LINE = re.compile(r'"(GET|POST|PUT|PROPFIND|MKCOL|MOVE|DELETE|PATCH) /|\x1b\[|HTTP/1')


ENGLISH = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


@dataclass
class Demo:
    folder: Path
    result: subprocess.CompletedProcess[str]
    #: The demo's report made right after it, in English and in French (report-en/fr.html,
    #: report-fr.json), kept apart from the demo folder, which a later run replaces.
    reports: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One demo run in English, and its report in both languages."""
    base = tmp_path_factory.mktemp("demo")
    # Its own process: what a user sees in a terminal (no server log line) is the point.
    result = migrate_process("demo", "--dir", base / "demo", env=ENGLISH, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    reports = base / "reports"
    reports.mkdir()
    plan = base / "demo" / "demo.yaml"
    for language in ("en", "fr"):
        made = migrate("--lang", language, "report", plan, "--format", "html", "-o",
                       reports / f"report-{language}.html", env=ENGLISH)
        assert made.returncode == 0, made.stderr
    (reports / "report-fr.json").write_text(
        migrate("--lang", "fr", "report", plan, "--json", env=ENGLISH).stdout, encoding="utf-8")
    return Demo(base / "demo", result, reports)


def test_demo_runs_the_whole_job(demo: Demo) -> None:
    tmp_path, result = demo.folder.parent, demo.result
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
    # The replay the demo suggests, and the demo run again in a copy of its folder, side by
    # side: they share nothing but the machine's cores, and each waits on its own servers.
    shutil.copytree(tmp_path / "demo", tmp_path / "demo-again", symlinks=True)
    with _replaying_the_plan_inside_the_sandbox(tmp_path / "demo", result.stdout):
        # A demo folder is reusable; its JSON says what the dry run and the apply counted.
        again = migrate("demo", "--dir", tmp_path / "demo-again", "--json", timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    _assert_the_dry_run_matched_the_apply(json.loads(again.stdout)["steps"])


@contextmanager
def _replaying_the_plan_inside_the_sandbox(folder: Path, said: str) -> Iterator[None]:
    """The demo ends by saying how to replay its plan, and that command works (started on
    entry, checked on exit)."""
    hint = next(line.strip() for line in said.splitlines() if "-- migrate plan" in line)
    arguments = shlex.split(hint)
    assert arguments[:2] == ["migrate", "sandbox"], hint
    # A process: the sandbox runs the command in a child, which writes to the real stdout.
    # Its output goes to files, which never fill up as a pipe would while nobody reads it.
    out, err = folder.parent / "replay.out", folder.parent / "replay.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        replay = subprocess.Popen([sys.executable, "-m", "migrate", *arguments[1:]],
                                  cwd=folder.parent, stdout=stdout, stderr=stderr,
                                  stdin=subprocess.DEVNULL, text=True)
    try:
        yield
        replay.wait(timeout=600)
    finally:
        if replay.poll() is None:  # stopped as `kill` would, so it stops its servers too
            replay.terminate()
            try:
                replay.wait(timeout=60)
            except subprocess.TimeoutExpired:
                replay.kill()
                replay.wait()
    said_back = out.read_text(encoding="utf-8")
    assert replay.returncode == 0, said_back[-2000:] + err.read_text(encoding="utf-8")[-2000:]
    assert "Plan:" in said_back and "unchanged" in said_back


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
    from sandbox.samples_mailing import sample_members

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
    # Kept in the journal as the step's own state, no file of its own (decision 0838).
    records = step_values(journal_path(folder / "demo.yaml", None), "lettre-mailman", "member:")
    assert not list((folder / ".migrate").glob("*.jsonl"))
    assert any("Bénévoles, Festival" in r["tags"] for r in records.values())
    assert set(records) <= set(kept) and not set(records) & left
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


def test_the_demo_report_says_what_to_look_at(demo: Demo) -> None:
    """Made in French after an English run: every reason in French; "to look at" counts the
    Drive shares not recreated (4), the people Mailman e-mailed (10) and the address it
    refuses (1), each with what to do; renames show the real name; the mailing-list
    reconciliation is one table for the three steps that share it."""
    data = json.loads((demo.reports / "report-fr.json").read_text(encoding="utf-8"))
    looked = {entry["anchor"]: entry for entry in data["attention"]}
    assert looked["shares"]["count"] == 4 and looked["mailing"]["count"] == 1
    assert looked["steps"]["count"] == 10 and "10 personnes" in looked["steps"]["text"]
    assert data["to_look_at"] == 15 and all(entry["todo"] for entry in data["attention"])
    renamed = {r["target_name"]: r["source_path"] for r in data["renamed"]}
    assert renamed["Bilan 2023∕2024.pdf"] == "Bilan 2023/2024.pdf"  # the real name, '/'
    assert any("ne peut pas" in r["rename_reason"] or "utilisé" in r["rename_reason"]
               for r in data["renamed"]), [r["rename_reason"] for r in data["renamed"]]
    shares = " ".join(note for s in data["share_map"] for note in s["shares"])
    assert "non partagé" in shares and "(éditeur)" in shares and "writer" not in shares
    page = (demo.reports / "report-fr.html").read_text(encoding="utf-8")
    assert page.count("statut à la source") == 1  # one table, not three blocks of text
    assert "break-all" not in page  # names wrap between words, never inside one
    assert "À examiner" in page and ">15<" in page


def test_the_french_demo_report_has_no_english_word(demo: Demo) -> None:
    page = (demo.reports / "report-fr.html").read_text(encoding="utf-8")
    steps = {line.split("id:", 1)[1].split()[0] for line in
             (demo.folder / "demo.yaml").read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("- id:")}
    english = [w for w in english_words_in(page) if w not in steps]
    assert english == [], english
    # The detector is real: the English report is full of such words.
    assert len(english_words_in((demo.reports / "report-en.html").read_text("utf-8"))) > 20


def test_the_demo_report_in_a_real_browser_in_both_languages(demo: Demo) -> None:
    """Screenshots for a person to look at: tests/artifacts/demo-report-{en,fr}.png."""
    browser.require_chromium()
    for language in ("en", "fr"):
        page = demo.reports / f"report-{language}.html"
        # One Chromium run a page: the screenshot, and every console message while it loaded.
        assert browser.screenshot(page, browser.ARTIFACTS / f"demo-report-{language}.png") == []
