"""Consent rules for mailing-list members, applied by the core to every member step.

A member item (`ItemKind.MEMBER`) is keyed by its normalised address (`address_key`) and says in
its `MemberMeta` (migrate/member_meta.py, `SourceItem.data`) its effective `status`, the
`source_status` of its own row, and the rest for the target.
The core, not the connectors, enforces the two rules that must hold across sources and targets:

- **Suppression**: every unsubscribed, cleaned, banned or blocklisted address seen in any
  source is remembered in the journal as the SHA-256 of its key (`address_hash`), and every
  member item whose hash is on that list is marked `MemberMeta.suppressed` before any target
  sees it. A target writes a suppressed member as blocked (blocklist, ban) or not at all.
- **Archived contacts**: a source may show a contact only as `archived`, hiding whether it
  unsubscribed before. Such an address is suppressed like an unsubscribe, in every step, unless
  some step holds a documented opt-in for it (`MemberMeta.documented_at`) later than the
  archiving (`archived_at`); the archived item itself is then left out, said why.
- **Reconciliation**: per source status, the source's own totals must equal what is imported,
  suppressed, dropped or merged; a count that does not add up stops the plan.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from migrate.i18n import _, number, stored
from migrate.member_meta import SUPPRESSING, member_of
from migrate.model import Fingerprint, ItemKind, SourceItem

#: Suppressing too, unless a later documented opt-in exists (see the module's docstring).
ARCHIVED = "archived"
#: Every status a member source may report, in display order.
STATUSES = ("subscribed", "pending", "transactional", "archived", "unsubscribed", "cleaned",
            "banned", "blocklisted")
#: A member's "content" as the diff compares it across services: whether the person may
#: receive mail. A target entry reports the same, so a member already on a target (written by
#: another step, or before) is unchanged when its consent class matches, and never silently
#: taken as unchanged when a suppression must be applied.
MEMBER_CHECKSUM = "consent:member"
SUPPRESSED_CHECKSUM = "consent:suppressed"
#: A grand total, for sources that count all their members but not each status.
ALL = "*"

#: No control character either: no mail server takes one (Mailman and listmonk answer 400).
_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\]\\\x00-\x1f\x7f]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidAddressError(ValueError):
    """An address that no mail server would accept; the message says why in plain words."""


def address_key(raw: str) -> str:
    """The identity of an address: trimmed, casefolded, its domain in punycode (IDN).

    Raises InvalidAddressError for what cannot be an address ("contact@asso", "a..b@x.fr").
    """
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddressError(_("no '@' between a name and a domain"))
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidAddressError(_("the part before '@' is not valid (spaces, two dots…)"))
    try:
        ascii_domain = domain.casefold().encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidAddressError(_("the domain '{d}' is not valid").format(d=domain)) from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidAddressError(_("the domain '{d}' is not complete").format(d=domain))
    return f"{local.casefold()}@{ascii_domain}"


def address_hash(key: str) -> str:
    """SHA-256 (hex) of an address key: what the journal keeps of a suppressed address."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_suppressing(status: str) -> bool:
    return status in SUPPRESSING


@dataclass
class MemberTally:
    """What a member source says about itself, for reconciliation.

    `totals`: the source's own count per status (an audience's stats, a file's rows), with
    `ALL` for a grand total. `merged`: rows folded into another row of the same person (case
    variants), per source status. `notes`: the merge rule, invalid rows with their line…
    """

    totals: dict[str, int] = field(default_factory=dict)
    merged: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Named groups of members with their count (e.g. why subscribed members are not
    #: confirmed), shown beside the table and kept in the JSON.
    groups: dict[str, int] = field(default_factory=dict)


def suppressions_in(items: Iterable[SourceItem]) -> dict[str, str]:
    """hash → reason for every member whose own status forbids subscribing it again."""
    found: dict[str, str] = {}
    for item in items:
        if item.kind is not ItemKind.MEMBER:
            continue
        status = member_of(item).status
        if is_suppressing(status) or (status == ARCHIVED and not item.skip_reason):
            found.setdefault(address_hash(item.key), status)
    return found


def reopened_archives(listed: Iterable[list[SourceItem]]) -> dict[str, str]:
    """hash → when, for archived addresses that some step documents an opt-in for later than
    the archiving: those are not suppressed."""
    archived: dict[str, str | None] = {}
    latest: dict[str, str] = {}
    for items in listed:
        for item in items:
            if item.kind is not ItemKind.MEMBER or item.skip_reason:
                continue
            digest, member = address_hash(item.key), member_of(item)
            if member.status == ARCHIVED:
                archived.setdefault(digest, member.archived_at)
            elif member.documented_at:
                latest[digest] = max(latest.get(digest, ""), member.documented_at)
    return {digest: latest[digest] for digest, when in archived.items()
            if when and digest in latest and latest[digest] > str(when)}


def mark_suppressed(items: list[SourceItem], hashes: Mapping[str, str]) -> list[SourceItem]:
    """Mark every member on the suppression list; its fingerprint changes so targets update it."""
    marked: list[SourceItem] = []
    for item in items:
        reason = hashes.get(address_hash(item.key)) if item.kind is ItemKind.MEMBER else None
        member = member_of(item)
        if reason is None or member.suppressed:
            marked.append(item)
            continue
        data = replace(member, suppressed=True, suppressed_because=reason)
        etag = f"{item.fingerprint.etag or ''}+suppressed"
        fingerprint = replace(item.fingerprint, etag=etag, checksum=SUPPRESSED_CHECKSUM)
        marked.append(replace(item, data=data, fingerprint=fingerprint))
    return marked


@dataclass
class Reconciliation:
    """Per source status: the source's total against imported, suppressed, dropped, merged."""

    step: str
    rows: dict[str, dict[str, int | None]]
    notes: list[str]
    problems: list[str]

    groups: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "rows": self.rows, "notes": self.notes,
                "problems": self.problems, "groups": self.groups}

    def stored(self) -> dict[str, Any]:
        """As the journal keeps it for the report: notes and problems as messages, shown in
        the language of whoever reads them."""
        return {**self.to_json(), "notes": [stored(text) for text in self.notes],
                "problems": [stored(text) for text in self.problems]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reconciliation:
        return cls(data["step"], dict(data["rows"]), list(data["notes"]), list(data["problems"]),
                   dict(data.get("groups") or {}))


def reconcile(step: str, items: Iterable[SourceItem], tally: MemberTally | None
              ) -> Reconciliation | None:
    """Count a member step's items by source status; None for steps without members."""
    members = [i for i in items if i.kind is ItemKind.MEMBER]
    if not members and tally is None:
        return None
    tally = tally or MemberTally()
    rows: dict[str, dict[str, int | None]] = {}
    for item in members:
        member = member_of(item)
        status = member.source_status or member.status or "?"
        row = rows.setdefault(status, _row())
        outcome = ("dropped" if item.skip_reason else
                   "suppressed" if member.suppressed else "imported")
        row[outcome] = (row[outcome] or 0) + 1
    for status, merged in tally.merged.items():
        rows.setdefault(status, _row())["merged"] = merged
    for status, total in tally.totals.items():
        if status != ALL:
            rows.setdefault(status, _row())["source"] = total
    problems = _check(rows, tally)
    ordered = {s: rows[s] for s in sorted(rows, key=_status_order)}
    groups = dict(tally.groups)
    notes = list(tally.notes)
    archived = sum(1 for i in members if member_of(i).source_status == ARCHIVED
                   and member_of(i).suppressed and not i.skip_reason)
    if archived:
        groups["archived_suppressed"] = archived
        notes.append(_("{n} archived contacts suppressed: an archived contact may have "
                       "unsubscribed before being archived, and no later documented opt-in "
                       "exists").format(n=archived))
    reopened = sum(1 for i in members if member_of(i).archived_reopened)
    if reopened:
        groups["archived_reopened"] = reopened
        notes.append(_("{n} archived contacts left out: a later documented opt-in for the "
                       "same address is imported instead").format(n=reopened))
    return Reconciliation(step, ordered, notes, problems, groups)


def _leave_out_reopened(items: list[SourceItem], reopened: Mapping[str, str],
                        hashes: Mapping[str, str]) -> list[SourceItem]:
    """An archived item whose address opted in again later is not written: the later opt-in
    is (unless something else suppresses the address)."""
    kept = []
    for item in items:
        digest = address_hash(item.key) if item.kind is ItemKind.MEMBER else ""
        if (member_of(item).status == ARCHIVED and not item.skip_reason
                and digest in reopened and digest not in hashes):
            reason = _("archived at the source, but opted in again later ({when}), "
                       "documented: that opt-in is imported").format(when=reopened[digest])
            item = replace(item, data=replace(member_of(item), archived_reopened=True),
                           skip_reason=reason)
        kept.append(item)
    return kept


def _row() -> dict[str, int | None]:
    return {"source": None, "imported": 0, "suppressed": 0, "dropped": 0, "merged": 0}


def _accounted(row: Mapping[str, int | None]) -> int:
    return sum(int(row[k] or 0) for k in ("imported", "suppressed", "dropped", "merged"))


def _check(rows: Mapping[str, Mapping[str, int | None]], tally: MemberTally) -> list[str]:
    problems = []
    for status, row in rows.items():
        if row["source"] is not None and row["source"] != _accounted(row):
            problems.append(_("'{s}': the source counts {n} but {m} are accounted for").format(
                s=status, n=row["source"], m=_accounted(row)))
    if ALL in tally.totals:
        accounted = sum(_accounted(row) for row in rows.values())
        if accounted != tally.totals[ALL]:
            problems.append(_("the source counts {n} members in all but {m} are accounted "
                              "for").format(n=tally.totals[ALL], m=accounted))
    return problems


def _status_order(status: str) -> tuple[int, str]:
    return (STATUSES.index(status) if status in STATUSES else len(STATUSES), status)


def member_fingerprint(person: Mapping[str, Any]) -> Fingerprint:
    """A version tag for a member: the hash of what a target would write (the source's row as
    every version before `MemberMeta` hashed it, so their journals still match)."""
    digest = hashlib.sha256(json.dumps(person, sort_keys=True, ensure_ascii=False,
                                       default=str).encode("utf-8")).hexdigest()
    blocked = person.get("status") in SUPPRESSING
    return Fingerprint(etag=f"m:{digest[:32]}",
                       checksum=SUPPRESSED_CHECKSUM if blocked else MEMBER_CHECKSUM)


def must_suppress(item: SourceItem, on_target: Fingerprint) -> bool:
    """Whether a member the source says must never be mailed is still mailable on the target
    (subscribed there before the migration, or since): the diff then updates it whatever its
    overwrite policy, because consent wins over the conflict rule for suppression."""
    return (item.kind is ItemKind.MEMBER and not item.skip_reason
            and item.fingerprint.checksum == SUPPRESSED_CHECKSUM
            and on_target.checksum != SUPPRESSED_CHECKSUM)


def reconciliation_lines(rec: Reconciliation) -> list[str]:
    """The table a plan shows for one step, its columns as wide as their widest cell (French
    status names are longer than English ones)."""
    header = [_("status"), _("source"), _("import"), _("suppress"), _("drop"), _("merged")]
    rows = [[_(status), "?" if row["source"] is None else number(row["source"]),
             number(row["imported"] or 0), number(row["suppressed"] or 0),
             number(row["dropped"] or 0), number(row["merged"] or 0)]
            for status, row in rec.rows.items()]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "    " + "  ".join([cells[0].ljust(widths[0]),
                                   *(c.rjust(w) for c, w in zip(cells[1:], widths[1:],
                                                                 strict=True))])

    lines = ["  " + _("Reconciliation (per status at the source):"), line(header)]
    lines += [line(row) for row in rows]
    lines += ["    " + note for note in rec.notes]
    lines += ["    " + _("DOES NOT ADD UP: {p}").format(p=p) for p in rec.problems]
    return lines


@dataclass
class ConsentPass:
    """Every step's member items after suppression, what was newly suppressed, and the counts."""

    items: dict[str, list[SourceItem]]
    found: dict[str, tuple[str, str]]
    reconciliations: dict[str, Reconciliation]

    def problems(self) -> list[str]:
        return [f"{step}: {p}" for step, rec in self.reconciliations.items() for p in rec.problems]


def apply_consent(listed: Mapping[str, tuple[list[SourceItem], MemberTally | None]],
                  known: Mapping[str, str]) -> ConsentPass:
    """Gather suppressions from every step's source (all of them before any target is written,
    so one audience's unsubscribe protects the address in every other), mark, reconcile."""
    found: dict[str, tuple[str, str]] = {}
    reopened = reopened_archives(items for items, _tally in listed.values())
    for step, (items, _tally) in listed.items():
        for digest, reason in suppressions_in(items).items():
            if digest not in known and not (reason == ARCHIVED and digest in reopened):
                found.setdefault(digest, (reason, step))
    hashes = {**{digest: reason for digest, (reason, _s) in found.items()}, **known}
    marked = {step: mark_suppressed(_leave_out_reopened(items, reopened, hashes), hashes)
              for step, (items, _t) in listed.items()}
    reconciliations = {}
    for step, (_items, tally) in listed.items():
        rec = reconcile(step, marked[step], tally)
        if rec is not None:
            reconciliations[step] = rec
    return ConsentPass(marked, found, reconciliations)
