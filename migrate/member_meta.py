"""`MemberMeta`: what a target may read of a mailing-list member, in service-neutral names (the
member counterpart of migrate/item_meta.py's `FileMeta` and `PostMeta`).

Every member source builds it (connectors/mailing/members.py `MemberCollector`); every member
target and the core's consent rules (migrate/consent/) read it from `SourceItem.data`, never
from `meta` keys. Journals and saved plans written before it carried the same fields inside the
item's `meta`: `take_legacy` moves them out of there (`Change.from_json`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict

#: Statuses whose address must never be subscribed again (migrate/consent/__init__.py's rule).
SUPPRESSING = frozenset({"unsubscribed", "cleaned", "banned", "blocklisted"})


class Consent(TypedDict, total=False):
    """Proof that a person asked to be mailed (connectors/mailing/evidence.py, decision 0530)."""

    optin_time: str  # when and from where the person signed up
    optin_ip: str
    confirm_time: str  # when and from where they confirmed
    confirm_ip: str
    permissions: list[str]  # GDPR marketing permissions granted…
    permissions_refused: list[str]  # … and not granted
    email_permission: str  # "granted" or "refused"
    source: str
    unsubscribe_reason: str
    unsubscribe_time: str
    cleaned_time: str
    cleaned_reason: str


@dataclass(slots=True)
class MemberMeta:
    """One person on a list, as every member source gives them."""

    #: The address as the source wrote it (the item's key is its normalised form).
    email: str = ""
    #: Effective status, after merging the person's rows: "subscribed", "pending",
    #: "transactional", "archived", "unsubscribed", "cleaned", "banned", "blocklisted".
    status: str = ""
    #: The status of the person's own (first) row, as the source counts it.
    source_status: str = ""
    name: str = ""
    #: The source's own extra fields (merge fields, columns), JSON-able.
    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    consent: Consent = field(default_factory=lambda: Consent())
    #: As the source gives it ("fr"), or "".
    language: str = ""
    #: Which source and list, as the source names them ("csv:membres.csv").
    origin: str = ""
    #: Where the row is in the source ("line 12", "member 3f2a…"), in English.
    row: str = ""
    vip: bool | None = None
    #: When the source last changed the person, as it wrote it, or "".
    last_changed: str = ""
    #: The rows folded into this one (case variants of the address).
    merged_rows: list[str] = field(default_factory=list)
    #: For the core's archived rule: when a row archived the contact (UTC ISO)…
    archived_at: str | None = None
    #: … and the latest documented opt-in (UTC ISO).
    documented_at: str | None = None
    #: Set by the core (migrate/consent/__init__.py): no target may subscribe this person, and why.
    suppressed: bool = False
    suppressed_because: str | None = None
    #: Set by the core: archived, left out for a later documented opt-in.
    archived_reopened: bool = False

    def is_suppressed(self) -> bool:
        """Marked by the core, or suppressing by its own status: never subscribed by a target
        (checked again by every target's write, whatever the plan said)."""
        return self.suppressed or self.status in SUPPRESSING

    def to_json(self) -> dict[str, Any]:
        """Every field that is not empty (a journal holds one per member)."""
        # By hand, one pass: a journal and a listing's check take it for every member.
        data = {"email": self.email, "status": self.status, "source_status": self.source_status,
                "name": self.name, "fields": self.fields, "tags": self.tags,
                "consent": self.consent, "language": self.language, "origin": self.origin,
                "row": self.row, "last_changed": self.last_changed,
                "merged_rows": self.merged_rows, "archived_at": self.archived_at,
                "documented_at": self.documented_at, "suppressed": self.suppressed,
                "suppressed_because": self.suppressed_because,
                "archived_reopened": self.archived_reopened}
        found = {name: value for name, value in data.items() if value}
        if self.vip is not None:  # `vip: False` says something: the source has the flag, off
            found["vip"] = self.vip
        return found

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberMeta:
        """TypeError for a field it does not have or of the wrong shape (a saved plan edited
        by hand is then reported damaged)."""
        member = cls(**{key: value for key, value in data.items() if value is not None})
        for f in MEMBER_FIELDS:
            if not isinstance(getattr(member, f.name), _TYPES[f.name]):
                raise TypeError(f.name)
        if not all(isinstance(t, str) for t in (*member.tags, *member.merged_rows)):
            raise TypeError("tags")
        return member

    @classmethod
    def take_legacy(cls, meta: dict[str, Any]) -> MemberMeta:
        """From a member's `meta` saved by an earlier version: its fields moved out of it.
        Keys no member has stay in `meta`."""
        return cls.from_json({name: meta.pop(name) for name in MEMBER_NAMES if name in meta})


MEMBER_FIELDS = fields(MemberMeta)
MEMBER_NAMES = tuple(f.name for f in MEMBER_FIELDS)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "fields": dict, "tags": list, "consent": dict, "merged_rows": list, "vip": (bool, type(None)),
    "suppressed": bool, "archived_reopened": bool, "archived_at": (str, type(None)),
    "documented_at": (str, type(None)), "suppressed_because": (str, type(None)),
    **{name: str for name in ("email", "status", "source_status", "name", "language", "origin",
                              "row", "last_changed")}}
#: For items that carry none (a member built by hand, read back empty); never changed.
NO_MEMBER_META = MemberMeta()


def member_of(item: Any) -> MemberMeta:
    """A member item's `MemberMeta` (`SourceItem.data`)."""
    data = item.data
    return data if isinstance(data, MemberMeta) else NO_MEMBER_META
