"""What an opened target can do, found once (rclone's `Features.Fill`, fs/features.go).

A target declares its abilities in `Capabilities` and implements the optional hooks of
`Target` it needs (`settle`, `write_batch`, `write_order`, `notes`, `plan_notes`). The core
fills one `Features` when it opens the target, and from then on reads abilities and hooks only
from it: `features.settle is None` means "nothing to read back", never a probe at the call site.

A hook counts as implemented when the target's class defines it other than `Target` does (the
base's version does nothing); a target that does not derive from `Target` (a test double) has
the hooks it defines. Connector hooks (`Connector.login`) are found the same way, here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from migrate.connector import Capabilities, Connector, Source, Target
from migrate.i18n import ngettext, number
from migrate.item_meta import FileMeta
from migrate.model import MTIME_TOLERANCE, Change, Fingerprint, TargetEntry

Settle = Callable[[Sequence[TargetEntry]], list[TargetEntry]]
WriteBatch = Callable[[Sequence[Change], Source, Sequence[str]], list[TargetEntry | Exception]]
Login = Callable[..., None]


def implemented(obj: object, base: type, name: str) -> Any:
    """`obj`'s bound method `name` if its class defines it other than `base` does, else None."""
    defined = getattr(type(obj), name, None)
    if defined is None or defined is getattr(base, name, None):
        return None
    return getattr(obj, name)


@dataclass(frozen=True)
class Comparison:
    """How the diff tells whether a file already on the target holds the source's content,
    chosen once per step from the target's abilities (rclone's `Equal`: a checksum both sides
    have, else size and modification time where the target keeps times).

    `checksums`: the algorithms the target keeps (None: unknown, any shared one counts).
    `mtime`: whether the target keeps the source's modification time (None: unknown, trusted
    when both sides give one). A target that keeps neither checksums nor times cannot show
    that a file is the same: its files count as different (the step's `overwrite` decides),
    never as identical on size alone."""

    checksums: frozenset[str] | None = None
    mtime: bool | None = None

    def chosen(self) -> Callable[[Fingerprint, Fingerprint], bool]:
        """The test itself, picked once for a step's 100,000s of files."""
        if self.checksums is None and self.mtime is None:
            return Fingerprint.same_content_as
        return self.same_content

    def same_content(self, source: Fingerprint, target: Fingerprint) -> bool:
        if self.checksums is None and self.mtime is None:
            return source.same_content_as(target)
        if source.checksum and target.checksum and self.checksums:
            mine, _sep, digest = source.checksum.partition(":")
            theirs, _sep, their_digest = target.checksum.partition(":")
            if mine == theirs and mine in self.checksums:
                return digest.lower() == their_digest.lower()
        if not self.mtime or source.size is None or source.size != target.size:
            return False
        if source.mtime is None or target.mtime is None:
            return False
        return abs(source.mtime - target.mtime) < MTIME_TOLERANCE


#: For a diff with no target to ask (tests of its rules): whatever both fingerprints give.
UNKNOWN = Comparison()


@dataclass(frozen=True)
class Features:
    """A target's declared abilities and the optional hooks it implements (None: it has not)."""

    abilities: Capabilities
    settle: Settle | None = None
    write_batch: WriteBatch | None = None
    write_order: Callable[[Change], int] | None = None
    notes: Callable[[], list[str]] | None = None
    plan_notes: Callable[[Sequence[Change]], list[str]] | None = None

    @classmethod
    def fill(cls, target: object) -> Features:
        abilities = getattr(target, "capabilities", None) or Capabilities()
        batch = implemented(target, Target, "write_batch")
        return cls(
            abilities=abilities,
            settle=implemented(target, Target, "settle"),
            # Writing in groups needs both: the group size declared and the hook written.
            write_batch=batch if abilities.batch_size else None,
            write_order=implemented(target, Target, "write_order"),
            notes=implemented(target, Target, "notes"),
            plan_notes=implemented(target, Target, "plan_notes"),
        )

    @property
    def batch_size(self) -> int | None:
        return self.abilities.batch_size if self.write_batch is not None else None

    @property
    def comparison(self) -> Comparison:
        """How the diff compares files with this target's (see `Comparison`)."""
        return Comparison(frozenset(self.abilities.checksum_algorithms),
                          self.abilities.preserves_mtime)


def unshared_note(features: Features, changes: Sequence[Change]) -> list[str]:
    """The plan's sentence for a step whose target cannot share (`can_share` false) while
    files it will write are shared at the source: that sharing is not recreated. Said once
    for the step, so it is not lost in silence (each target may say more per item)."""
    if features.abilities.can_share:
        return []
    shared = sum(1 for change in changes if change.action.writes
                 and isinstance(change.item.data, FileMeta)
                 and any(grant.get("role") != "owner" for grant in change.item.data.permissions))
    if not shared:
        return []
    return [ngettext("{n} item is shared with other people at the source; this target "
                     "cannot share, so it arrives shared with no one: share it again by hand "
                     "if they still need it.",
                     "{n} items are shared with other people at the source; this target "
                     "cannot share, so they arrive shared with no one: share them again by "
                     "hand if those people still need them.", shared).format(n=number(shared))]


def login_of(connector: Connector) -> Login | None:
    """The connector's interactive sign-in (`Connector.login`), if it has one."""
    return implemented(connector, Connector, "login")
