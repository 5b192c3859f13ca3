"""The member targets that write files — `csv`, `vcard`, `mailpoet` — read back with the
standard library (csv module, plain text), never with the connectors' own parsers."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.csv import CsvConnector
from connectors.listmonk_csv import ListmonkCsvConnector
from connectors.mailing.filetarget import FileMemberTarget, member_record
from connectors.mailpoet import MailpoetConnector
from connectors.vcard import VcardConnector
from migrate.connector import Connector, StepContext
from migrate.consent import address_hash, address_key
from migrate.errors import SkipItem
from migrate.fleet.store import PgJournal
from migrate.journal import Journal
from migrate.journal.step_state import StepState
from migrate.model import Action, Change
from sandbox.samples_mailing import write_mailchimp_export
from tests.conformance.member_target_suite import MemberTargetSuite, _NoContent, member
from tests.helpers import migrate
from tests.journal_state import step_values, store_in

STATE_WORDS = {"subscribed": "confirmed", "unconfirmed": "unconfirmed", "inactive": "unconfirmed",
               "unsubscribed": "blocked"}


def open_target(connector: type[Connector], folder: Path, state_dir: Path,
                list_name: str = "Lettre", store: StepState | str | None = "new"
                ) -> FileMemberTarget:
    """`store`: the step's state in a journal, by default a new one in `state_dir` (what an
    apply hands a target); None as in a dry run before any journal exists."""
    if store == "new":
        store = store_in(state_dir)
    assert not isinstance(store, str)
    step = StepContext("lettre", "export", {}, "p", folder, state_dir=state_dir,
                       state_store=store)
    target: FileMemberTarget = connector({"path": str(folder)}, folder).open_target(list_name,
                                                                                     step)
    return target


def csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def hashed_blocked(path: Path, address: str) -> str | None:
    digests = {row["sha256"] for row in csv_rows(path)}
    return "blocked" if address_hash(address_key(address)) in digests else None


def csv_state(folder: Path, address: str) -> str | None:
    for row in csv_rows(folder / "Lettre.csv"):
        if row["email"].casefold() == address.casefold():
            return {"subscribed": "confirmed", "unconfirmed": "unconfirmed"}[row["status"]]
    return hashed_blocked(folder / "Lettre.do-not-contact.csv", address)


def vcard_state(folder: Path, address: str) -> str | None:
    path = folder / "Lettre.vcf"
    text = path.read_bytes().decode().replace("\r\n ", "") if path.exists() else ""
    for vcard in text.split("BEGIN:VCARD")[1:]:
        lines = vcard.splitlines()
        emails = [line.split(":", 1)[1] for line in lines if line.startswith("EMAIL")]
        if emails and emails[0].casefold() == address.casefold():
            return next(line.split(":", 1)[1] for line in lines
                        if line.startswith("X-CONSENT-STATUS:"))
    return hashed_blocked(folder / "Lettre.vcf-do-not-contact.csv", address)


def mailpoet_state(folder: Path, address: str) -> str | None:
    for path in sorted(folder.glob("Lettre.mailpoet-*.csv")):
        for row in csv_rows(path):
            if row["email"] == address.lower():
                return STATE_WORDS[path.stem.rsplit("-", 1)[1]]
    return None


def listmonk_csv_state(folder: Path, address: str) -> str | None:
    for path in sorted(folder.glob("Lettre.listmonk-*.csv")):
        for row in csv_rows(path):
            if row["email"].casefold() == address.casefold():
                word = path.stem.rsplit("-", 1)[1]
                return {"blocklist": "blocked"}.get(word, word)
    return None


class _FileSuite(MemberTargetSuite):
    connector: type[Connector]
    read_state: Callable[[Path, str], str | None]

    @pytest.fixture
    def target(self, tmp_path: Path) -> Iterator[FileMemberTarget]:
        opened = open_target(self.connector, tmp_path / "out", tmp_path / "state")
        yield opened
        opened.close()

    @pytest.fixture
    def state_of(self, target: FileMemberTarget, tmp_path: Path) -> Callable[[str], str | None]:
        def state(address: str) -> str | None:
            target.publish()  # what the step does when it closes: the files, whole
            return type(self).read_state(tmp_path / "out", address)
        return state


class TestCsvTarget(_FileSuite):
    connector = CsvConnector
    read_state = staticmethod(csv_state)


class TestVcardTarget(_FileSuite):
    connector = VcardConnector
    read_state = staticmethod(vcard_state)


class TestMailpoetTarget(_FileSuite):
    connector = MailpoetConnector
    read_state = staticmethod(mailpoet_state)


class TestListmonkCsvTarget(_FileSuite):
    connector = ListmonkCsvConnector
    read_state = staticmethod(listmonk_csv_state)


def write(target: FileMemberTarget, *items: object) -> None:
    for item in items:
        change = Change("lettre", Action.CREATE, item, target.name_for(item).name, "")  # type: ignore[arg-type]
        target.write(change, _NoContent(), uuid.uuid4().hex)


def test_csv_has_consent_columns_and_suppressed_only_as_hashes(tmp_path: Path) -> None:
    target = open_target(CsvConnector, tmp_path / "out", tmp_path / "state")
    write(target, member("helene@exemple.fr"), member("gone@exemple.fr", status="unsubscribed"))
    target.close()
    rows = csv_rows(tmp_path / "out" / "Lettre.csv")
    assert [r["email"] for r in rows] == ["helene@exemple.fr"]
    row = rows[0]
    assert row["name"] == "Hélène Lefèvre-Müller" and row["status"] == "subscribed"
    assert (row["optin_time"], row["optin_ip"]) == ("2021-03-04T10:00:00+00:00", "192.0.2.7")
    assert row["consent_source"] == "Hosted Signup Form" and row["VILLE"] == "Saint-Étienne"
    assert next(csv.reader([row["tags"]])) == ["Bénévoles, Festival", "AG 2024"]
    assert (tmp_path / "out" / "Lettre.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    everything = "".join(p.read_text(encoding="utf-8-sig")
                         for p in (tmp_path / "out").iterdir())
    for journal in (tmp_path / "state").iterdir():  # the staged rows: the journal and its log
        everything += journal.read_bytes().decode("utf-8", "replace")
    assert "Saint-Étienne" in everything  # the rows are there…
    assert "gone@" not in everything
    assert address_hash("gone@exemple.fr") in everything


def test_vcard_is_version_4_with_categories_and_no_suppressed(tmp_path: Path) -> None:
    target = open_target(VcardConnector, tmp_path / "out", tmp_path / "state")
    write(target, member("helene@exemple.fr"), member("gone@exemple.fr", status="cleaned"))
    target.close()
    text = (tmp_path / "out" / "Lettre.vcf").read_bytes().decode("utf-8")
    assert text.count("BEGIN:VCARD") == 1 and "VERSION:4.0\r\n" in text
    unfolded = text.replace("\r\n ", "")
    assert "FN:Hélène Lefèvre-Müller" in unfolded
    assert "CATEGORIES:Bénévoles\\, Festival,AG 2024" in unfolded
    assert "X-CONSENT-OPTIN-IP:192.0.2.7" in unfolded and "gone@" not in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_mailpoet_splits_by_status_and_tag_set_and_refuses_in_the_plan(tmp_path: Path) -> None:
    target = open_target(MailpoetConnector, tmp_path / "out", tmp_path / "state")
    refused = member("postmaster@exemple.fr", tags=("VIP",))
    assert "role address" in str(target.name_for(refused).refusal)
    with pytest.raises(SkipItem):  # a saved plan made before the rule: never written
        write(target, refused)
    write(target, member("anne@exemple.fr", tags=("AG 2024",)),
          member("bruno@exemple.fr", tags=("AG 2024",)),
          member("chloe@exemple.fr", tags=("VIP",)),
          member("dora@exemple.fr", evidence=False, tags=("VIP",)),
          member("eve@exemple.fr", status="unsubscribed"))
    target.close()
    out = tmp_path / "out"
    files = sorted(p.name for p in out.glob("Lettre.mailpoet-*.csv"))
    assert files == ["Lettre.mailpoet-01-subscribed.csv", "Lettre.mailpoet-02-subscribed.csv",
                     "Lettre.mailpoet-03-inactive.csv", "Lettre.mailpoet-04-unsubscribed.csv"]
    first = csv_rows(out / files[0])
    assert sorted(r["email"] for r in first) == ["anne@exemple.fr", "bruno@exemple.fr"]
    assert first[0]["created_at"] == "2021-03-04 10:00:00"
    assert list(first[0])[:7] == ["email", "first_name", "last_name", "subscribed_ip",
                                  "created_at", "confirmed_ip", "confirmed_at"]
    assert [r["email"] for r in csv_rows(out / files[3])] == ["eve@exemple.fr"]
    note = (out / "Lettre.mailpoet-import.txt").read_text(encoding="utf-8")
    assert ("Lettre.mailpoet-01-subscribed.csv (2 people): status 'subscribed', "
            "tags: AG 2024") in note
    assert "postmaster@" not in note and "postmaster@" not in "".join(
        p.read_text(encoding="utf-8") for p in out.glob("*.csv"))


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_staged_write_is_verified_and_published_after_a_crash(
        tmp_path: Path, store: str, request: pytest.FixtureRequest) -> None:
    """A write staged, then the process killed before the files were rebuilt: the next run's
    verify finds it in the journal (SQLite, or a fleet's PostgreSQL), and the files show it,
    with the members of the run before, once that run closes."""
    if store == "sqlite":
        journal: Journal = Journal(tmp_path / "plan.journal.sqlite")
    else:
        journal = PgJournal(request.getfixturevalue("postgres_url"), "files", tmp_path)
    earlier = open_target(CsvConnector, tmp_path / "out", tmp_path / "state",
                          store=StepState(journal, "lettre"))
    write(earlier, member("anne@exemple.fr"))
    earlier.close()
    item = member("lea@exemple.fr")
    first = open_target(CsvConnector, tmp_path / "out", tmp_path / "state",
                        store=StepState(journal, "lettre"))
    key = uuid.uuid4().hex
    change = Change("lettre", Action.CREATE, item, first.name_for(item).name, "")
    first.write(change, _NoContent(), key)  # no publish: as if killed here
    assert csv_state(tmp_path / "out", "lea@exemple.fr") is None
    second = open_target(CsvConnector, tmp_path / "out", tmp_path / "state",
                         store=StepState(journal, "lettre"))
    assert second.verify(change, _NoContent(), key) is not None
    second.close()
    assert csv_state(tmp_path / "out", "lea@exemple.fr") == "confirmed"
    assert csv_state(tmp_path / "out", "anne@exemple.fr") == "confirmed"
    assert not list((tmp_path / "out").glob(".*.tmp"))
    assert not (tmp_path / "state").exists()  # no file of its own
    journal.close()


def test_an_earlier_versions_staging_file_moves_into_the_journal(tmp_path: Path) -> None:
    """A staging SQLite file left by a version before the journal kept the rows: a dry run
    reads it and leaves it; an apply moves its rows into the journal and deletes it, and the
    files it publishes still hold the members it staged."""
    old = tmp_path / "state" / "lettre.csv-Lettre-staging.sqlite"
    old.parent.mkdir()
    anne = member("anne@exemple.fr")
    row = member_record(anne)  # the row's record, as the earlier version staged it
    with contextlib.closing(sqlite3.connect(old)) as db, db:
        db.execute("CREATE TABLE members (hash TEXT PRIMARY KEY, state TEXT NOT NULL, fp TEXT, "
                   "write_key TEXT, record TEXT)")
        db.execute("INSERT INTO members VALUES (?, 'confirmed', 'v1', 'k', ?)",
                   (address_hash(anne.key), json.dumps(row)))
    journal = Journal(tmp_path / "plan.journal.sqlite")
    dry = open_target(CsvConnector, tmp_path / "out", tmp_path / "state",
                      store=StepState(journal, "lettre", writable=False))
    assert dry.stage.fingerprints() == {address_hash(anne.key): "v1"}
    dry.close()
    assert old.exists() and step_values(journal.path, "lettre") == {}
    target = open_target(CsvConnector, tmp_path / "out", tmp_path / "state",
                         store=StepState(journal, "lettre"))
    assert not list(old.parent.iterdir())
    assert list(step_values(journal.path, "lettre", "staged:")) == [address_hash(anne.key)]
    write(target, member("lea@exemple.fr"))
    target.close()
    assert csv_state(tmp_path / "out", "anne@exemple.fr") == "confirmed"
    assert csv_state(tmp_path / "out", "lea@exemple.fr") == "confirmed"
    journal.close()


def test_a_plan_creates_nothing(tmp_path: Path) -> None:
    target = open_target(MailpoetConnector, tmp_path / "out", tmp_path / "state", store=None)
    assert target.list_entries() == []
    target.close()
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()


@pytest.mark.parametrize("kind", ["csv", "vcard", "mailpoet", "listmonk_csv"])
def test_rerun_writes_nothing(tmp_path: Path, kind: str) -> None:
    """The real command, twice: the second plan finds everything in the files (exit code 0)."""
    write_mailchimp_export(tmp_path / "export.zip")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    f"export.zip}}\n  files: {{type: {kind}, path: out}}\nsteps:\n  - id: lettre\n"
                    "    export: {from: audience, to: 'files:Lettre'}\n", encoding="utf-8")
    applied = migrate("apply", plan, "--yes")
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    again = migrate("plan", plan, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout[-2000:]
    assert migrate("apply", plan, "--yes").returncode == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
