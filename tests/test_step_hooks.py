"""Step hooks: the members' consent rules run because member sources declare them, not because
the core knows members (migrate/step_hooks.py, migrate/consent/hook.py)."""

from __future__ import annotations

import json
import sqlite3
import typing
from contextlib import closing
from pathlib import Path

import pytest

from connectors.mailing.members import MemberCollector
from migrate import api, registry
from migrate.connector import Listing, Source
from migrate.consent import ALL, address_hash
from migrate.consent.hook import CONSENT
from migrate.errors import MigrateError
from migrate.journal import Journal
from migrate.journal.repair import repair
from migrate.member_meta import member_of
from migrate.model import SourceItem
from migrate.plan.references import Redactor
from migrate.step_hooks import TABLE, run_hooks
from sandbox.samples_mailing import write_mailchimp_export
from tests.helpers import migrate
from tests.journal_state import step_values


class _Members(Source):
    step_hooks = (CONSENT,)

    def __init__(self, rows: list[tuple[str, str]], totals: dict[str, int] | None = None
                 ) -> None:
        collector = MemberCollector("test")
        for line, (address, status) in enumerate(rows, start=2):
            collector.add(address, status, f"line {line}")
        self.listing = collector.listing(totals)

    def list_items(self) -> Listing:
        return self.listing


class _Files(Source):
    def list_items(self) -> Listing:
        return Listing([SourceItem("a.txt", "a.txt")])


def _listed(**sources: Source) -> dict[str, tuple[list[SourceItem], Listing]]:
    return {step: (list(s.list_items().items), s.list_items()) for step, s in sources.items()}


def test_every_member_source_declares_the_consent_rules() -> None:
    """A member source that forgot them would let one audience's unsubscribe be subscribed
    from another step's audience."""
    undeclared = []
    for name in registry.names():
        connector = registry.get(name)
        if "export" in connector.source_actions:
            source = typing.get_type_hints(connector.open_source)["return"]
            if CONSENT not in source.step_hooks:
                undeclared.append(name)
    assert undeclared == []


def test_declared_once_run_once_over_every_step_and_remembered_only_when_told(
        tmp_path: Path) -> None:
    first = _Members([("Anne@X.fr", "unsubscribed"), ("paul@x.fr", "subscribed")])
    second = _Members([("anne@x.fr", "subscribed")])
    files = _Files()
    listed = _listed(a=first, b=second, files=files)
    journal = Journal(tmp_path / "journal.sqlite")
    hooked = run_hooks([first, second, files], listed, journal)
    assert member_of(hooked.items_of("b", [])[0]).suppressed
    assert hooked.items_of("files", listed["files"][0]) == listed["files"][0]
    assert set(hooked.tables) == {"a", "b"} and not hooked.problems
    assert journal.suppressions() == {}  # a dry run remembers nothing
    hooked.record(journal)
    assert journal.suppressions() == {address_hash("anne@x.fr"): "unsubscribed"}
    assert run_hooks([files], _listed(files=files), journal).tables == {}


def test_counts_that_do_not_add_up_stop_the_run_with_the_table() -> None:
    wrong = _Members([("a@x.fr", "subscribed")], totals={"subscribed": 2, ALL: 2})
    hooked = run_hooks([wrong], _listed(a=wrong), None)
    with pytest.raises(MigrateError, match="do not add up") as raised:
        hooked.refuse()
    assert "DOES NOT ADD UP" in str(raised.value)


def _member_plan(folder: Path) -> Path:
    write_mailchimp_export(folder / "export.zip")
    plan = folder / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    "export.zip}\n  files: {type: csv, path: out}\nsteps:\n  - id: lettre\n"
                    "    export: {from: audience, to: 'files:Lettre'}\n", encoding="utf-8")
    return plan


def test_repair_remembers_the_suppressions_again_and_sends_nothing(tmp_path: Path) -> None:
    """A lost journal rebuilt from the listings: the hook's suppressions are recorded again.
    The csv target's staged rows were lost with it (decision 0838): its members are left to
    write again, not adopted, so the next apply's files still hold every one of them."""
    plan = _member_plan(tmp_path)
    applied = api.apply(plan, Redactor(), confirm=lambda result: True)
    path = tmp_path / ".migrate" / "plan.journal.sqlite"
    with closing(Journal(path)) as journal:
        known = journal.suppressions()
    assert known and applied.changes.summary()["create"]
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    for companion in ("", "-wal", "-shm"):
        Path(f"{path}{companion}").unlink(missing_ok=True)
    repaired = repair(plan, Redactor())
    with closing(Journal(path)) as journal:
        assert journal.suppressions() == known
    assert sum(repaired.adopted.values()) == 0 and sum(repaired.left.values())
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before
    api.apply(plan, Redactor(), confirm=lambda result: True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_repair_carries_the_connectors_state_over_and_adopts_everything(tmp_path: Path) -> None:
    """A journal rebuilt while the old one still reads (`repair --force`): the connectors' own
    state (here the csv target's staged rows) comes along, so every member is adopted."""
    plan = _member_plan(tmp_path)
    api.apply(plan, Redactor(), confirm=lambda result: True)
    path = tmp_path / ".migrate" / "plan.journal.sqlite"
    staged = step_values(path, "lettre", "staged:")
    repaired = repair(plan, Redactor(), force=True)
    assert sum(repaired.left.values()) == 0 and sum(repaired.adopted.values()) == len(staged)
    assert step_values(path, "lettre", "staged:") == staged
    assert repaired.kept and staged  # the old journal kept aside, untouched


def test_the_hook_table_reaches_the_report_through_the_steps_state(tmp_path: Path) -> None:
    """The members' reconciliation is kept as the step's own state (`step_hooks.TABLE`), not in
    a table the core names; a journal written before that still shows its table."""
    plan = _member_plan(tmp_path)
    api.apply(plan, Redactor(), confirm=lambda result: True)
    path = tmp_path / ".migrate" / "plan.journal.sqlite"
    table = step_values(path, "lettre")[TABLE]
    assert table["rows"]["unsubscribed"]["suppressed"] > 0
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM reconciliations").fetchone() == (0,)
    shown = json.loads(migrate("report", plan, "--json").stdout)["reconciliations"]
    assert shown["lettre"]["rows"] == table["rows"]
    # As an earlier version left it: in its own table, nothing in the step's state.
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM step_state WHERE name = ?", (TABLE,))
        db.execute("INSERT INTO reconciliations VALUES ('lettre', ?)", (json.dumps(table),))
    shown = json.loads(migrate("report", plan, "--json").stdout)["reconciliations"]
    assert shown["lettre"]["rows"] == table["rows"]
