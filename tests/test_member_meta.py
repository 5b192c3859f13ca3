"""Typed member data (`MemberMeta`): what a target reads of a list member, in names no service
owns, and journals or saved plans written before it (the same fields inside `meta`) still read
right."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from connectors.mailing.members import MemberCollector
from migrate.consent import address_hash, mark_suppressed
from migrate.journal import Journal
from migrate.member_meta import MEMBER_NAMES, MemberMeta, member_of
from migrate.model import Action, Change, ItemKind, SourceItem
from migrate.plan import saved
from sandbox.listmonk import ListmonkServer
from tests.conformance.member_target_suite import EVIDENCE
from tests.conformance.samples import MemorySource, change_for
from tests.test_listmonk_connector import open_target, state

ROOT = Path(__file__).resolve().parent.parent


def _members() -> dict[str, SourceItem]:
    collector = MemberCollector("csv:membres.csv")
    collector.add("Helene@Exemple.fr", "subscribed", "line 2", name=" Hélène ",
                  fields={"VILLE": "Saint-Étienne"}, tags=["AG"], consent=EVIDENCE,
                  language="fr", vip=False, last_changed="2024-01-02 10:00:00")
    collector.add("helene@exemple.fr", "unsubscribed", "line 3", tags=["CA"])
    collector.add("ancien@exemple.fr", "archived", "line 4")  # no date: archived_at unknown
    collector.add("contact@asso", "subscribed", "line 5")
    return {item.key: item for item in collector.listing().items}


def as_previous_version_wrote_it(change: Change) -> dict:
    """The change's JSON as the version before `MemberMeta` journaled it: fields in `meta`."""
    data = change.to_json()
    data["meta"] = {**data["meta"], **(data.pop("data") or {})}
    return data


def test_every_member_source_gives_typed_data_in_neutral_names() -> None:
    members = _members()
    helene = member_of(members["helene@exemple.fr"])
    assert isinstance(helene, MemberMeta) and members["helene@exemple.fr"].meta == {}
    assert (helene.email, helene.status, helene.source_status) == (
        "Helene@Exemple.fr", "unsubscribed", "subscribed")
    assert (helene.name, helene.tags, helene.vip, helene.merged_rows) == (
        "Hélène", ["AG", "CA"], False, ["line 3"])
    assert helene.consent["optin_ip"] == "192.0.2.7" and helene.is_suppressed()
    invalid = next(item for item in members.values() if item.skip_reason)
    assert member_of(invalid) == MemberMeta("contact@asso", "subscribed", "subscribed")


def test_a_member_keeps_its_data_through_json() -> None:
    for item in _members().values():
        change = Change("membres", Action.CREATE, item, item.key, "new")
        again = Change.from_json(json.loads(json.dumps(change.to_json())))
        assert again.item.data == item.data and again.item.meta == {}


def test_every_field_travels_and_an_empty_one_is_left_out() -> None:
    full = MemberMeta("a@x.fr", "archived", "archived", "A", {"F": 1}, ["t"], {"source": "s"},
                      "fr", "o", "line 2", False, "2024", ["line 3"], "2023-01-01",
                      "2024-01-01", True, "cleaned", True)
    assert tuple(full.to_json()) != () and set(full.to_json()) == set(MEMBER_NAMES)
    assert MemberMeta.from_json(full.to_json()) == full
    assert MemberMeta(email="a@x.fr").to_json() == {"email": "a@x.fr"}


def _previous_fingerprint(meta: dict) -> str:
    """How the previous version tagged a member: its whole `meta` dict, hashed."""
    text = json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str)
    return "m:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def test_members_keep_their_fingerprint_so_a_journal_of_the_previous_version_still_matches(
        ) -> None:
    """The meta dicts the previous version built and hashed, written out by hand: an unknown
    archiving date was a key holding null, an unknown vip no key at all."""
    members = _members()
    assert members["helene@exemple.fr"].fingerprint.etag == _previous_fingerprint({
        "email": "Helene@Exemple.fr", "status": "unsubscribed", "source_status": "subscribed",
        "name": "Hélène", "fields": {"VILLE": "Saint-Étienne"}, "tags": ["AG", "CA"],
        "consent": {**EVIDENCE, "optin_time": "2021-03-04T10:00:00+00:00"}, "language": "fr",
        "origin": "csv:membres.csv", "row": "line 2", "vip": False,
        "last_changed": "2024-01-02 10:00:00", "merged_rows": ["line 3"],
        "documented_at": "2021-03-04T10:00:00+00:00"})
    assert members["ancien@exemple.fr"].fingerprint.etag == _previous_fingerprint({
        "email": "ancien@exemple.fr", "status": "archived", "source_status": "archived",
        "name": "", "fields": {}, "tags": [], "consent": {}, "language": "",
        "origin": "csv:membres.csv", "row": "line 4", "archived_at": None})


def test_in_doubt_members_journaled_by_the_previous_version_are_verified_and_suppressed(
        listmonk_server: ListmonkServer, tmp_path: Path) -> None:
    """The previous version subscribed one member, then stopped before its DONE and before the
    next write (a suppression). The new version reads both from the old rows' `meta`: it finds
    the first on listmonk as written, and blocklists the second — never subscribes it."""
    target = open_target(listmonk_server)
    collector = MemberCollector("csv:membres.csv")
    collector.add("anne@exemple.fr", "subscribed", "line 2", consent=EVIDENCE, name="Anne")
    collector.add("paul@exemple.fr", "subscribed", "line 3", name="Paul")
    anne, subscribed_paul = collector.listing().items
    (paul,) = mark_suppressed([subscribed_paul], {address_hash(subscribed_paul.key): "cleaned"})
    target.write(change_for(anne, anne.key), MemorySource(), "a" * 32)
    target.write(change_for(subscribed_paul, paul.key), MemorySource(), "b" * 32)
    assert state(listmonk_server, "paul@exemple.fr") == "unconfirmed"  # before it bounced
    changes = {anne.key: change_for(anne, anne.key), paul.key: change_for(paul, paul.key)}
    path = tmp_path / "journal.sqlite"
    journal = Journal(path)
    journal.record_intents([(changes[anne.key], "a" * 32), (changes[paul.key], "c" * 32)],
                           journal.start_run("apply"))
    with journal.transaction() as db:
        for key, change in changes.items():
            db.execute("UPDATE items SET change = ? WHERE key = ?", (json.dumps(
                as_previous_version_wrote_it(change), ensure_ascii=False), key))
    journal.close()

    doubts = {d.change.item.key: d.change for d in Journal(path).in_doubt("conformance")}
    assert doubts[anne.key].item.data == anne.data and doubts[anne.key].item.meta == {}
    assert member_of(doubts[paul.key].item).suppressed_because == "cleaned"
    entry = target.verify(doubts[anne.key], MemorySource(), "a" * 32)
    assert entry is not None and entry.ref["state"] == "confirmed"
    assert target.verify(doubts[paul.key], MemorySource(), "c" * 32) is None
    target.write(doubts[paul.key], MemorySource(), "c" * 32)
    assert state(listmonk_server, "paul@exemple.fr") == "blocked"
    record = listmonk_server.subscriber("anne@exemple.fr")
    assert record is not None and record["name"] == "Anne"


def test_a_suppressed_member_is_saved_by_hash_only_and_old_saved_plans_still_read() -> None:
    members = _members()
    helene = members["helene@exemple.fr"]
    text = json.dumps(saved._private(Change("membres", Action.CREATE, helene, helene.key, "new")),
                      ensure_ascii=False)
    assert "exemple.fr" not in text.lower() and "Hélène" not in text
    again = Change.from_json(json.loads(text))
    assert saved.is_hidden(again.item.key) and member_of(again.item).is_suppressed()
    previous = {**json.loads(text), "data": None,
                "meta": {"status": "unsubscribed", "suppressed": True,
                         "suppressed_because": "unsubscribed"}}
    assert member_of(Change.from_json(previous).item) == MemberMeta(
        status="unsubscribed", suppressed=True, suppressed_because="unsubscribed")


@pytest.mark.parametrize("damaged", [{"tags": "AG"}, {"vip": "yes"}, {"colour": "red"},
                                     {"suppressed": 1}, {"email": 3}, "x"])
def test_member_data_of_the_wrong_shape_is_refused_as_a_damaged_saved_plan(damaged) -> None:
    item = SourceItem("a@x.fr", "a@x.fr", ItemKind.MEMBER, data=MemberMeta(email="a@x.fr"))
    change = Change("membres", Action.CREATE, item, "a@x.fr", "new").to_json()
    with pytest.raises((TypeError, AttributeError)):
        Change.from_json({**change, "data": damaged})


MEMBER_MODULES = ["connectors/listmonk.py", "connectors/listmonk_csv.py", "connectors/mailman3.py",
                  "connectors/mailpoet.py", "connectors/vcard.py", "connectors/csv.py",
                  "connectors/mailchimp.py", "connectors/mailchimp_export.py",
                  "connectors/google_groups_export.py", *sorted(
                      str(p.relative_to(ROOT)) for p in (ROOT / "connectors/mailing").glob("*.py")),
                  "migrate/consent/__init__.py", "migrate/runner/events.py",
                  "migrate/plan/saved.py", "migrate/api.py"]


def test_no_member_connector_nor_the_core_reads_a_member_field_from_meta() -> None:
    """Targets and the consent rules read `MemberMeta`; a `meta` key named like one of its
    fields is a leftover."""
    pattern = re.compile(rf"""meta(\.get\(|\[)\s*["']({"|".join(MEMBER_NAMES)})\b""")
    found = [f"{name}:{number}" for name in MEMBER_MODULES
             for number, line in enumerate((ROOT / name).read_text(encoding="utf-8")
                                           .splitlines(), 1) if pattern.search(line)]
    assert found == []
