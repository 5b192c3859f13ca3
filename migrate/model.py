"""The values that flow from listings through the diff to the runner and the journal."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from migrate.i18n import ngettext, number
from migrate.item_meta import FileMeta, PostMeta
from migrate.member_meta import MemberMeta

#: Two modification times closer than this are the same time: most servers keep them to the
#: second (as rsync and rclone compare them). Every comparison of versions uses it.
MTIME_TOLERANCE = 1.0


@dataclass(frozen=True, slots=True)  # slots: one per item of every run, 100,000s of them
class Fingerprint:
    """What identifies one version of an item. Any field may be unknown (None).

    `checksum` is "algorithm:hexdigest" (e.g. "sha256:…", "md5:…"); `etag` is the server's own
    version tag; `mtime` is seconds since the epoch (UTC).
    """

    size: int | None = None
    mtime: float | None = None
    checksum: str | None = None
    etag: str | None = None

    def to_json(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict: this runs for every item of every run.
        fields = (("size", self.size), ("mtime", self.mtime), ("checksum", self.checksum),
                  ("etag", self.etag))
        return {name: value for name, value in fields if value is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Fingerprint | None:
        return None if data is None else cls(**data)

    def same_content_as(self, other: Fingerprint) -> bool:
        """Whether two versions (possibly on different services) hold the same content.

        A shared checksum algorithm decides; otherwise size and modification time (to the
        second, as most servers keep them) stand in, as rsync and rclone do.
        """
        if self.checksum and other.checksum:
            mine, theirs = self.checksum.split(":", 1), other.checksum.split(":", 1)
            if mine[0] == theirs[0]:
                return mine[1].lower() == theirs[1].lower()
        if self.size is None or other.size is None or self.size != other.size:
            return False
        if self.mtime is None or other.mtime is None:
            return False
        return abs(self.mtime - other.mtime) < MTIME_TOLERANCE

    def same_version_as(self, other: Fingerprint) -> bool:
        """Whether a target entry is still the version we wrote (nobody changed it since).

        A changed ETag with the same checksum, size and modification time is the same
        content: a server changes a file's ETag for a lock or a share as well (Nextcloud's
        files_lock does), and that is no edit."""
        if self.etag and other.etag:
            if self.etag == other.etag:
                return True
            if not (self.checksum and other.checksum):
                return False
            if self.size is not None and other.size is not None and self.size != other.size:
                return False
            if self.mtime is not None and other.mtime is not None and (
                    abs(self.mtime - other.mtime) >= MTIME_TOLERANCE):
                return False
        return self.same_content_as(other)


class ItemKind(enum.StrEnum):
    FILE = "file"
    FOLDER = "folder"
    POST = "post"
    MEMBER = "member"


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One thing a source offers: a file, a post, a list member.

    `key` is stable across runs (a Drive file id, a tweet id, a casefolded email; never a display
    name). `path` is the name the item would naturally take on a target ("Budget/2024.ods");
    the target may sanitise it. `data` is what a target may read of it, typed
    (migrate/item_meta.py: `FileMeta`, `PostMeta`; migrate/member_meta.py: `MemberMeta`).
    `meta` is the source's own (JSON-able): what its `open` needs.
    `skip_reason` is set when the source already knows the item cannot be migrated.
    """

    key: str
    path: str
    kind: ItemKind = ItemKind.FILE
    fingerprint: Fingerprint = field(default_factory=Fingerprint)
    meta: dict[str, Any] = field(default_factory=dict)
    skip_reason: str | None = None
    data: FileMeta | PostMeta | MemberMeta | None = None


@dataclass(frozen=True, slots=True)
class TargetEntry:
    """One thing a target already holds, under the name the diff matches on."""

    name: str
    kind: ItemKind = ItemKind.FILE
    fingerprint: Fingerprint = field(default_factory=Fingerprint)
    ref: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TargetName:
    """The name a target gives a source item, and why it differs from the source's, if it does.

    `notes` are what else the user should know about this item on this target (a share that will
    be created, an identity that has no mapping): shown in the plan, kept in the report.
    """

    name: str
    rename_reason: str | None = None
    notes: tuple[str, ...] = ()
    #: Why the target will refuse to write this item, when that is known without asking it
    #: (an address syntax the service rejects, a size over its published limit): the plan
    #: skips the item with this reason, so the dry run and the apply agree.
    refusal: str | None = None
    #: The item's path as the source really names it, when `SourceItem.path` cannot show it
    #: (a '/' inside a Drive name stands in as '∕'): renames are shown from this one.
    original: str | None = None


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    CONFLICT = "conflict"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "unchanged": "=", "skip": "-", "conflict": "!"}[
            self.value
        ]

    @property
    def writes(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE)


@dataclass(frozen=True, slots=True)
class Change:
    """What the diff decided for one source item, and why.

    `expected_target` is the precondition a saved plan checks before writing: the target entry
    as it was when the plan was made (None: the name was free).
    """

    step: str
    action: Action
    item: SourceItem
    target_name: str
    reason: str
    rename_reason: str | None = None
    expected_target: Fingerprint | None = None
    notes: tuple[str, ...] = ()
    #: `TargetName.original`: the source's real path, when the item's path cannot show it.
    original_path: str | None = None

    @property
    def source_path(self) -> str:
        """The item's path as its owner knows it (what a report and a rename show)."""
        return self.original_path or self.item.path

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "action": self.action.value,
            "source_key": self.item.key,
            "source_path": self.item.path,
            "kind": self.item.kind.value,
            "target_path": self.target_name,
            "reason": self.reason,
            "rename": self.rename_reason,
            "source_fingerprint": self.item.fingerprint.to_json(),
            "expected_target": None
            if self.expected_target is None
            else self.expected_target.to_json(),
            "meta": self.item.meta,
            "data": None if self.item.data is None else self.item.data.to_json(),
            "skip_reason": self.item.skip_reason,
            "notes": list(self.notes),
            "original_path": self.original_path,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        meta = dict(data.get("meta") or {})
        typed = data.get("data")
        kind = ItemKind(data["kind"])
        item = SourceItem(
            key=data["source_key"],
            path=data["source_path"],
            kind=kind,
            fingerprint=Fingerprint(**data["source_fingerprint"]),
            meta=meta,
            skip_reason=data.get("skip_reason"),
            data=_item_data(kind, typed, meta),
        )
        return cls(
            step=data["step"],
            action=Action(data["action"]),
            item=item,
            target_name=data["target_path"],
            reason=data["reason"],
            rename_reason=data.get("rename"),
            expected_target=Fingerprint.from_json(data.get("expected_target")),
            notes=tuple(data.get("notes") or ()),
            original_path=data.get("original_path"),
        )


def _item_data(kind: ItemKind, typed: Any, meta: dict[str, Any]
               ) -> FileMeta | PostMeta | MemberMeta | None:
    """An item's typed data as journaled; written by an earlier version, it rode in `meta`
    (moved out of it here)."""
    if kind is ItemKind.MEMBER:
        return MemberMeta.from_json(typed) if typed is not None else MemberMeta.take_legacy(meta)
    if kind is ItemKind.POST:
        return PostMeta.from_json(typed) if typed is not None else PostMeta.take_legacy(meta)
    if kind in (ItemKind.FILE, ItemKind.FOLDER):
        return FileMeta.from_json(typed) if typed is not None else FileMeta.take_legacy(meta)
    return None


SUMMARY_KEYS = ("create", "update", "unchanged", "skip", "conflict")


@dataclass
class ChangeSet:
    """Every change of one or more steps, in the order they would be applied."""

    changes: list[Change] = field(default_factory=list)
    #: step → unchanged items counted but not kept (see `migrate.diff.diff`'s keep_unchanged).
    counted: dict[str, int] = field(default_factory=dict)

    def extend(self, other: ChangeSet) -> None:
        self.changes.extend(other.changes)
        for step, n in other.counted.items():
            self.counted[step] = self.counted.get(step, 0) + n

    def summary(self, step: str | None = None) -> dict[str, int]:
        """Changes by action, of every step or of one."""
        changes = self.changes if step is None else [c for c in self.changes if c.step == step]
        counts = Counter(change.action for change in changes)  # no `.value` per item
        counts[Action.UNCHANGED] += (sum(self.counted.values()) if step is None
                                     else self.counted.get(step, 0))
        return {key: counts.get(Action(key), 0) for key in SUMMARY_KEYS}

    def pending(self) -> list[Change]:
        return [change for change in self.changes if change.action.writes]

    def has_pending(self) -> bool:
        return any(change.action.writes for change in self.changes)


def summary_line(summary: dict[str, int]) -> str:
    """`Plan: 1,204 to create, 3 to update, 18,930 unchanged, 12 skipped, 2 conflicts.`"""
    return ngettext(
        "Plan: {create} to create, {update} to update, {unchanged} unchanged, "
        "{skip} skipped, {conflict} conflict.",
        "Plan: {create} to create, {update} to update, {unchanged} unchanged, "
        "{skip} skipped, {conflict} conflicts.", summary["conflict"],
    ).format(**{key: number(value) for key, value in summary.items()})
