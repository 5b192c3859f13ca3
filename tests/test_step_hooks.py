"""Step hooks: the members' consent rules run because member sources declare them, not because
the core knows members (migrate/step_hooks.py, migrate/consent/hook.py)."""

from __future__ import annotations

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
from migrate.step_hooks import run_hooks
from sandbox.samples_mailing import write_mailchimp_export


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


def test_repair_remembers_the_suppressions_again_and_sends_nothing(tmp_path: Path) -> None:
    """A lost journal rebuilt from the listings: the hook's suppressions are recorded again, the
    members already in the files adopted."""
    write_mailchimp_export(tmp_path / "export.zip")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    "export.zip}\n  files: {type: csv, path: out}\nsteps:\n  - id: lettre\n"
                    "    export: {from: audience, to: 'files:Lettre'}\n", encoding="utf-8")
    applied = api.apply(plan, Redactor(), confirm=lambda result: True)
    path = tmp_path / ".migrate" / "plan.journal.sqlite"
    with closing(Journal(path)) as journal:
        known = journal.suppressions()
    assert known and applied.changes.summary()["create"]
    for companion in ("", "-wal", "-shm"):
        Path(f"{path}{companion}").unlink(missing_ok=True)
    repaired = repair(plan, Redactor())
    with closing(Journal(path)) as journal:
        assert journal.suppressions() == known
    assert sum(repaired.left.values()) == 0 and sum(repaired.adopted.values())
