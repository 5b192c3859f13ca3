"""The core's consent rules: identity, suppression across steps, reconciliation."""

from __future__ import annotations

import pytest

from connectors.mailing.members import MemberCollector
from migrate.consent import (
    ALL,
    InvalidAddressError,
    address_hash,
    address_key,
    apply_consent,
)


def test_identity_is_trimmed_casefolded_and_punycoded() -> None:
    assert address_key("  Anne.Dupré@Café-Associatif.FR ") == "anne.dupré@xn--caf-associatif-dkb.fr"
    same = address_key("ANNE.DUPRÉ@CAFÉ-associatif.fr")
    assert address_key("anne.dupré@café-associatif.fr") == same


@pytest.mark.parametrize("bad", ["contact@asso", "jean..dupont@x.fr", "marie@x.fr.",
                                 "bénévole 3@x.fr", "sans-arobase.fr", "@x.fr"])
def test_invalid_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidAddressError):
        address_key(bad)


def _listing(rows: list[tuple[str, str]], totals: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    collector = MemberCollector("test")
    for line, (address, status) in enumerate(rows, start=2):
        collector.add(address, status, f"line {line}")
    listing = collector.listing(totals)
    return list(listing.items), listing.tally


def test_an_unsubscribe_in_one_source_suppresses_the_address_everywhere() -> None:
    first = _listing([("Anne@X.fr", "unsubscribed"), ("paul@x.fr", "subscribed")])
    second = _listing([("anne@x.fr", "subscribed"), ("PAUL@x.fr", "subscribed")])
    result = apply_consent({"a": first, "b": second}, {})
    marked = {i.key: i.data.suppressed for i in result.items["b"]}
    assert marked == {"anne@x.fr": True, "paul@x.fr": False}
    assert set(result.found) == {address_hash("anne@x.fr")}
    assert not result.problems()


def test_suppressions_remembered_from_earlier_runs_apply() -> None:
    later = _listing([("anne@x.fr", "subscribed")])
    result = apply_consent({"b": later}, {address_hash("anne@x.fr"): "cleaned"})
    assert result.items["b"][0].data.suppressed_because == "cleaned"
    assert result.reconciliations["b"].rows["subscribed"]["suppressed"] == 1


def test_case_duplicates_merge_with_the_most_protective_status() -> None:
    items, tally = _listing([("anne@x.fr", "subscribed"), ("ANNE@x.fr", "unsubscribed")])
    assert len(items) == 1 and items[0].data.status == "unsubscribed"
    assert tally.merged == {"unsubscribed": 1}
    result = apply_consent({"a": (items, tally)}, {})
    assert not result.problems()
    assert any("merged" in note for note in result.reconciliations["a"].notes)


def test_counts_that_do_not_add_up_are_an_error() -> None:
    listed = _listing([("a@x.fr", "subscribed"), ("b@x.fr", "cleaned")],
                      totals={"subscribed": 2, "cleaned": 1, ALL: 3})
    problems = apply_consent({"a": listed}, {}).problems()
    assert len(problems) == 2 and "subscribed" in problems[0]


def test_invalid_rows_are_dropped_and_counted() -> None:
    items, tally = _listing([("ok@x.fr", "subscribed"), ("contact@asso", "subscribed")])
    result = apply_consent({"a": (items, tally)}, {})
    row = result.reconciliations["a"].rows["subscribed"]
    assert (row["imported"], row["dropped"], row["source"]) == (1, 1, 2)
    assert "line 3" in next(i.skip_reason for i in items if i.skip_reason)


@pytest.mark.parametrize("policy", ["conflict", "never", "newer", "always"])
def test_consent_wins_over_the_conflict_rule_for_suppression_only(policy: str) -> None:
    from migrate.consent import MEMBER_CHECKSUM, SUPPRESSED_CHECKSUM
    from migrate.diff import diff
    from migrate.model import Action, Fingerprint, ItemKind, TargetEntry, TargetName

    items, tally = _listing([("left@x.fr", "unsubscribed"), ("stays@x.fr", "subscribed")])
    marked = apply_consent({"a": (items, tally)}, {}).items["a"]
    # Both were on the target before the migration: one still subscribed, one blocked there.
    entries = [TargetEntry("left@x.fr", ItemKind.MEMBER, Fingerprint(
                   etag="foreign|confirmed", checksum=MEMBER_CHECKSUM)),
               TargetEntry("stays@x.fr", ItemKind.MEMBER, Fingerprint(
                   etag="foreign|blocked", checksum=SUPPRESSED_CHECKSUM))]
    changes = diff("a", marked, entries, lambda i: TargetName(i.key), {}, {"overwrite": policy})
    actions = {c.item.key: c.action for c in changes.changes}
    assert actions["left@x.fr"] is Action.UPDATE
    assert "consent" in next(c.reason for c in changes.changes if c.item.key == "left@x.fr")
    # Never the other way: a block on the target is not lifted by the conflict rule.
    if policy != "always":
        assert actions["stays@x.fr"] in (Action.CONFLICT, Action.SKIP)


def _member(address: str, status: str, **consent: str) -> tuple[list, object]:  # type: ignore[type-arg]
    collector = MemberCollector("test")
    collector.add(address, status, "line 2", consent=consent,
                  last_changed="2023-05-01T10:00:00+00:00")
    listing = collector.listing()
    return list(listing.items), listing.tally


def test_an_archived_contact_is_suppressed_in_every_step() -> None:
    archived = _member("anne@x.fr", "archived")
    # Another step: the same address, "subscribed", its opt-in older than the archiving.
    older = _member("ANNE@x.fr", "subscribed", optin_time="2021-01-01 10:00:00",
                    optin_ip="203.0.113.5")
    result = apply_consent({"api": archived, "csv": older}, {})
    assert result.items["csv"][0].data.suppressed_because == "archived"
    assert result.items["api"][0].data.suppressed and not result.items["api"][0].skip_reason
    assert set(result.found) == {address_hash("anne@x.fr")}
    rec = result.reconciliations["api"]
    assert rec.rows["archived"]["suppressed"] == 1 and rec.groups["archived_suppressed"] == 1
    assert any("archived" in note for note in rec.notes)


def test_a_later_documented_opt_in_lifts_the_archived_rule_but_not_an_import() -> None:
    archived = _member("anne@x.fr", "archived")
    later = _member("anne@x.fr", "subscribed", confirm_time="2024-02-03 10:00:00",
                    confirm_ip="203.0.113.5")
    result = apply_consent({"api": archived, "csv": later}, {})
    assert not result.items["csv"][0].data.suppressed
    assert "opted in again" in (result.items["api"][0].skip_reason or "")
    assert not result.found and not result.problems()
    imported = _member("anne@x.fr", "subscribed", confirm_time="2024-02-03 10:00:00",
                       confirm_ip="127.0.0.1")
    result = apply_consent({"api": archived, "csv": imported}, {})
    assert result.items["csv"][0].data.suppressed
