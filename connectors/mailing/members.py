"""Building member items from any source's rows: identity, merges, invalid rows, pending.

Every member source (Mailchimp API or export, Google Groups, CSV) feeds its rows, one by one,
to a `MemberCollector`, which gives back a `Listing` whose items follow one contract
(`MemberMeta`, migrate/member_meta.py, on `SourceItem.data`) and whose `MemberTally` lets the
core reconcile counts. Targets read only that contract.

The collector merges rows as dicts of the same fields (the form every version before
`MemberMeta` hashed into the member's fingerprint: kept, so their journals still match), and
types each member once, when it is made an item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.mailing.evidence import (
    DOCUMENTED,
    IMPORT_ADDRESS,
    NO_PERMISSION,
    UNDOCUMENTED,
    documented_at,
    evidence_class,
    has_optin_evidence,
    instant,
)
from migrate.connector import Listing
from migrate.consent import (
    InvalidAddressError,
    MemberTally,
    address_key,
    member_fingerprint,
)
from migrate.i18n import _, english, message_of, ngettext
from migrate.member_meta import MemberMeta, member_of
from migrate.model import ItemKind, SourceItem
from migrate.options import option

#: Which status wins when one person appears twice (case variants): the most protective.
PRECEDENCE = ("blocklisted", "banned", "cleaned", "unsubscribed", "subscribed", "pending",
              "transactional", "archived")
MERGE_RULE = ("addresses that differ only by case or by how the domain is written are one "
              "person: the most protective status wins (a suppression beats a subscription), "
              "tags are joined, and other fields come from the first row that has them")
#: Statuses that never carry marketing consent: not imported, said why.
NOT_MARKETING = {
    "transactional": "transactional contact: never subscribed to the newsletter",
}
#: Why a subscribed member is not imported as confirmed, and what the reconciliation says.
NOT_DOCUMENTED = {
    NO_PERMISSION: "did not grant the e-mail marketing permission (GDPR)",
    IMPORT_ADDRESS: ("opt-in address is a loopback, private or malformed one (an import, not "
                     "an opt-in)"),
    UNDOCUMENTED: "opt-in not documented (no time and IP)",
}
GROUP_NOTES = {
    DOCUMENTED: "{n} subscribed with a documented opt-in",
    NO_PERMISSION: "{n} subscribed without the e-mail marketing permission (GDPR): {what}",
    IMPORT_ADDRESS: ("{n} subscribed whose opt-in address is 127.0.0.1, private or malformed "
                     "(imports, not opt-ins): {what}"),
    UNDOCUMENTED: "{n} subscribed without opt-in time and IP: {what}",
}

@dataclass(frozen=True, kw_only=True)
class MemberPolicy:
    """What a step's options say about members without full consent: the step options
    (`SourceStepOptions`) of every member source."""

    pending: str = option(
        choices=("unconfirmed", "drop"), default="unconfirmed",
        help="Members who never confirmed their subscription (pending): import them as "
             "unconfirmed, so the target asks them to confirm (double opt-in), or drop "
             "them. They are never pre-confirmed.")
    undocumented: str = option(
        choices=("unconfirmed", "drop"), default="unconfirmed",
        help="Subscribed members whose opt-in is not documented (no time and real IP "
             "address of sign-up or confirmation: 127.0.0.1 or a private address is an "
             "import), or who did not grant the e-mail permission (GDPR): import them as "
             "unconfirmed, so the target asks them to confirm, or drop them, to ask them "
             "yourself (a re-permission campaign).")


def is_suppressed(item: SourceItem) -> bool:
    """A member no target may subscribe: marked by the core, or suppressing by its own status.
    Checked again by every target's write, whatever the plan said."""
    return member_of(item).is_suppressed()


def is_documented(item: SourceItem) -> bool:
    """Subscribed with a documented opt-in: the only members a target may write as already
    confirmed."""
    member = member_of(item)
    return member.status == "subscribed" and has_optin_evidence(member.consent)


class MemberCollector:
    """Rows in, member items out: merged by identity, invalid rows kept with their line."""

    def __init__(self, origin: str, policy: MemberPolicy | None = None) -> None:
        self.origin, self.policy = origin, policy or MemberPolicy()
        self.members: dict[str, dict[str, Any]] = {}
        self.invalid: list[SourceItem] = []
        self.tally = MemberTally()
        self.rows: dict[str, int] = {}

    def add(self, address: str, status: str, row: str, *, name: str = "",
            fields: Mapping[str, Any] | None = None, tags: list[str] | None = None,
            consent: Mapping[str, Any] | None = None, language: str = "",
            vip: bool | None = None, last_changed: str = "") -> None:
        """One source row. `row` says where it is ("line 12", "member 3f2a…") for reports."""
        self.rows[status] = self.rows.get(status, 0) + 1
        try:
            key = address_key(address)
        except InvalidAddressError as error:
            self.invalid.append(self._invalid(address, status, row, message_of(error)))
            return
        person = {"email": address.strip(), "status": status, "source_status": status,
                  "name": name.strip(), "fields": dict(fields or {}), "tags": list(tags or []),
                  "consent": _consent(consent or {}),
                  "language": language, "origin": self.origin, "row": english(row)}
        if vip is not None:
            person["vip"] = bool(vip)
        if last_changed:
            person["last_changed"] = last_changed
        if status == "archived":
            person["archived_at"] = instant(last_changed)
        existing = self.members.get(key)
        if existing is None:
            self.members[key] = person
            return
        self.tally.merged[status] = self.tally.merged.get(status, 0) + 1
        _merge(existing, person)

    def _invalid(self, address: str, status: str, row: str, why: str) -> SourceItem:
        reason = _("invalid address '{a}' ({row}): {why}").format(a=address, row=row, why=why)
        key = f"invalid:{self.origin}:{english(row)}"  # the same key in every language
        # Its path is where it is in the source, in the reader's words ("… line 30").
        return SourceItem(key, row, ItemKind.MEMBER, skip_reason=reason,
                          data=MemberMeta(email=address, status=status, source_status=status))

    def listing(self, totals: Mapping[str, int] | None = None) -> Listing:
        """The items, and the tally: `totals` as the source states them, else the rows read."""
        self.tally.totals = dict(totals) if totals is not None else dict(self.rows)
        merged = sum(self.tally.merged.values())
        if merged:
            self.tally.notes.append(ngettext("{n} duplicate row merged: {rule}",
                                             "{n} duplicate rows merged: {rule}", merged).format(
                n=merged, rule=_(MERGE_RULE)))
        self._count_evidence()
        self.tally.notes += [item.skip_reason or "" for item in self.invalid[:20]]
        if len(self.invalid) > 20:
            self.tally.notes.append(_("… and {n} more invalid addresses (see the report)")
                                    .format(n=len(self.invalid) - 20))
        items = [self._item(key, person) for key, person in self.members.items()]
        return Listing(items + self.invalid, tally=self.tally)

    def _count_evidence(self) -> None:
        """How many subscribed members are documented, and why the others are not."""
        counts: dict[str, int] = {}
        for person in self.members.values():
            if person["status"] == "subscribed":
                kind = evidence_class(person["consent"])
                counts[kind] = counts.get(kind, 0) + 1
        self.tally.groups.update(counts)
        what = (_("dropped (undocumented: drop)") if self.policy.undocumented == "drop"
                else _("imported as unconfirmed, never as confirmed"))
        for kind in GROUP_NOTES:
            if counts.get(kind):
                self.tally.notes.append(_(GROUP_NOTES[kind]).format(n=counts[kind], what=what))

    def _item(self, key: str, person: dict[str, Any]) -> SourceItem:
        status = person["status"]
        documented = documented_at(person["consent"])
        if documented:
            person["documented_at"] = documented
        skip = None
        if status in NOT_MARKETING:
            skip = _(NOT_MARKETING[status])
        elif status == "pending" and self.policy.pending == "drop":
            skip = _("never confirmed the subscription; dropped (pending: drop)")
        elif (status == "subscribed" and self.policy.undocumented == "drop"
              and not has_optin_evidence(person["consent"])):
            skip = _("{why}; dropped (undocumented: drop)").format(
                why=_(NOT_DOCUMENTED[evidence_class(person["consent"])]))
        return SourceItem(key, key, ItemKind.MEMBER, member_fingerprint(person), skip_reason=skip,
                          data=MemberMeta(**person))


def _consent(given: Mapping[str, Any]) -> dict[str, Any]:
    """Empty values left out; times in one form (UTC ISO 8601), whatever the source wrote, so
    one person's evidence reads the same from every source. An unreadable time is kept as
    written (it then documents nothing)."""
    consent = {k: v for k, v in given.items() if v not in ("", None, [])}
    for key, value in consent.items():
        if key.endswith("_time"):
            consent[key] = instant(value) or value
    return consent


def _merge(kept: dict[str, Any], other: dict[str, Any]) -> None:
    if PRECEDENCE.index(other["status"]) < PRECEDENCE.index(kept["status"]):
        kept["status"] = other["status"]
    for tag in other["tags"]:
        if tag not in kept["tags"]:
            kept["tags"].append(tag)
    for field in ("name", "language"):
        kept[field] = kept[field] or other[field]
    for field in ("vip", "last_changed", "archived_at"):
        if field in other:
            kept.setdefault(field, other[field])
    for name, value in other["fields"].items():
        kept["fields"].setdefault(name, value)
    for name, value in other["consent"].items():
        kept["consent"].setdefault(name, value)
    kept.setdefault("merged_rows", []).append(other["row"])
