"""From two bulk listings and what the journal remembers, decide what each item needs.

A pure function: no I/O, so the dry run and the real run can never disagree about what to do.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from migrate.consent import must_suppress
from migrate.features import UNKNOWN, Comparison
from migrate.i18n import _, to_do
from migrate.model import (
    MTIME_TOLERANCE,
    Action,
    Change,
    ChangeSet,
    Fingerprint,
    ItemKind,
    SourceItem,
    TargetEntry,
    TargetName,
)
from migrate.options import option, typed
from migrate.runner import gcpause


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the last successful migration of an item left: the state both sides were in."""

    target_name: str
    source: Fingerprint
    target: Fingerprint | None
    #: Recorded by `apply --mark-seen`: known, deliberately never written.
    seen: bool = False
    #: The journal's row is done (not failed, skipped or seen since): nothing to adopt.
    done: bool = False


@dataclass(frozen=True, kw_only=True)
class CoreStepOptions:
    """Options every step accepts, whatever its connectors: what the diff decides with."""

    overwrite: str = option(
        choices=("conflict", "never", "newer", "always"), default="conflict",
        help="What to do when the target's copy was changed after the last migration: "
             "report a conflict (default), never overwrite it, overwrite it when the source "
             "is newer, or always overwrite it.")
    include: tuple[str, ...] = option(
        "list", item_kind="string",
        help="Only items whose path matches one of these glob patterns (e.g. 'Rapports/**').")
    exclude: tuple[str, ...] = option(
        "list", item_kind="string",
        help="Leave out items whose path matches one of these glob patterns (e.g. "
             "'**/*.tmp').")
    max_per_run: int | None = option(
        "integer", help="Write at most this many items per run; the rest wait for the next "
                        "run (useful to spread a large import of posts over days).")


def diff(
    step: str,
    items: Iterable[SourceItem],
    entries: Iterable[TargetEntry],
    name_for: Callable[[SourceItem], TargetName],
    baselines: Mapping[str, Baseline],
    options: Mapping[str, Any],
    name_key: Callable[[str], str] = str,
    keep_unchanged: bool = True,
    comparison: Comparison = UNKNOWN,
) -> ChangeSet:
    """One change per source item, in source order (parents before children, oldest post first).

    Names are compared by `name_key`, as the target compares them (`Target.name_key`).
    `keep_unchanged=False` (an apply) only counts the unchanged items the journal already has
    as done, other than posts: nothing is done with them, and a re-run of a finished plan of
    100,000 files need not hold 100,000 changes (`ChangeSet.counted`).
    `comparison` says how a file found on the target is compared with the source's, from what
    the target keeps (`Features.comparison`)."""
    with gcpause.paused():  # pure, no I/O but the journal's: see migrate/runner/gcpause.py
        return _diff(step, items, entries, name_for, baselines, options, name_key,
                     keep_unchanged, comparison)


_WRITES = frozenset((Action.CREATE, Action.UPDATE))
_NO_FINGERPRINT = Fingerprint()
#: Stands for the baseline of an item `_Decider.plainly` found unchanged: the loop reads only
#: its `done`.
_PLAIN = Baseline("", _NO_FINGERPRINT, None, done=True)


def _diff(step: str, items: Iterable[SourceItem], entries: Iterable[TargetEntry],
          name_for: Callable[[SourceItem], TargetName], baselines: Mapping[str, Baseline],
          options: Mapping[str, Any], name_key: Callable[[str], str],
          keep_unchanged: bool, comparison: Comparison) -> ChangeSet:
    # `str`: names compared exactly (Linux), each name its own key: no call per name.
    exact = name_key is str
    on_target = ({entry.name: entry for entry in entries} if exact
                 else {name_key(entry.name): entry for entry in entries})
    claimed: dict[str, str] = {}
    seen_keys: set[str] = set()
    core = typed(CoreStepOptions, options)
    decide = _Decider(core, comparison)
    limit = core.max_per_run
    writes = 0
    changes = ChangeSet()
    kept = changes.changes
    counted = 0
    skip, conflict, unchanged, post = (Action.SKIP, Action.CONFLICT, Action.UNCHANGED,
                                       ItemKind.POST)
    # A journal's baselines (`StreamedBaselines`) say which are plain: see `_Decider.plainly`.
    plain = getattr(baselines, "plain", None) if decide.plain_allowed else None
    for item in items:
        named = name_for(item)
        key = named.name if exact else name_key(named.name)
        entry = on_target.get(key)
        numbers = plain(item.key) if plain is not None else None
        if numbers is not None and decide.plainly(item, named, key, entry, numbers, claimed,
                                                  seen_keys):
            base, action, reason = _PLAIN, unchanged, decide.unchanged_since
        else:
            base = baselines.get(item.key)
            action, reason = decide(item, named, key, entry, base, claimed, seen_keys)
        seen_keys.add(item.key)
        if action in _WRITES:
            if named.refusal:
                action, reason = skip, to_do(named.refusal)
            elif limit is not None:
                if writes >= limit:
                    action, reason = skip, _("left for a later run (max_per_run: {n})").format(
                        n=limit)
                else:
                    writes += 1
        if action is not skip and action is not conflict:
            claimed[key] = item.path
        if (action is unchanged and not keep_unchanged and base is not None and base.done
                and item.kind is not post):
            counted += 1  # its reason is "unchanged": no Change made, nothing kept
            continue
        kept.append(Change(step, action, item, named.name, reason, named.rename_reason,
                           entry.fingerprint if entry else None, named.notes,
                           named.original if named.original != item.path else None))
    if counted:
        changes.counted[step] = counted
    return changes


class _Decider:
    """Decides an item's action and says why; the diff makes the `Change` only for what it
    keeps (a re-run of 100,000 unchanged files makes none)."""

    def __init__(self, options: CoreStepOptions, comparison: Comparison) -> None:
        self.same_file = comparison.chosen()
        self.policy = options.overwrite
        self.include, self.exclude = options.include, options.exclude
        # The same words for every unchanged item: made once, not 100,000 times.
        self.on_target = _("already on the target")
        self.unchanged_since = _("unchanged since the last migration")
        self.new = _("new")  # most items of a first copy
        #: `plainly` is a shortcut of `__call__` without include/exclude patterns only.
        self.plain_allowed = not (self.include or self.exclude)

    def plainly(self, item: SourceItem, named: TargetName, key: str, entry: TargetEntry | None,
                numbers: tuple[int, float, int, float, str | None], claimed: dict[str, str],
                seen: set[str]) -> bool:
        """Whether `__call__` would say "unchanged since the last migration", told from a plain
        baseline's numbers (`StreamedBaselines.plain`: done, named as its key, no checksum or
        ETag at the source) without making the baseline: a re-run of 100,000 unchanged files
        made 300,000 objects for it (decision 0499).

        The same tests as `__call__` then `against_baseline`, in their order; False sends the
        item through them. With no ETag and no checksum on the baseline's source,
        `same_version_as` compares sizes and times. At the target, when the entry has no
        checksum (one with a checksum is left to `__call__`): an ETag on both sides decides
        alone, equal or not (a different one is a change: the full rules say which, 0488);
        otherwise sizes and times."""
        if (item.kind is not ItemKind.FILE or item.skip_reason or entry is None
                or named.name != item.key or item.key in seen or key in claimed):
            return False
        size, mtime, target_size, target_mtime, target_etag = numbers
        found, mine = entry.fingerprint, item.fingerprint
        close = MTIME_TOLERANCE
        if found.checksum is not None:
            return False
        if found.etag and target_etag:  # `same_version_as`: the same ETag is the same version
            if found.etag != target_etag:
                return False
        elif not (found.size == target_size and found.mtime is not None
                  and abs(found.mtime - target_mtime) < close):
            return False
        return (mine.size == size and mine.mtime is not None
                and abs(mine.mtime - mtime) < close)

    def __call__(self, item: SourceItem, named: TargetName, key: str, entry: TargetEntry | None,
                 base: Baseline | None, claimed: dict[str, str],
                 seen: set[str]) -> tuple[Action, str]:
        if item.key in seen:
            return Action.CONFLICT, _("the source lists this item twice")
        if item.skip_reason:
            return Action.SKIP, item.skip_reason
        if (self.include or self.exclude) and not self.is_selected(item.path):
            return Action.SKIP, _("left out by the step's include/exclude patterns")
        if base is not None and base.seen:
            return Action.UNCHANGED, _("marked as seen (apply --mark-seen); not copied")
        if key in claimed:
            return Action.CONFLICT, _("would take the same name on the target as '{o}'").format(
                o=claimed[key])
        if entry is None:
            if base is not None:
                return Action.CREATE, _("migrated before but missing on the target now; "
                                        "copying it again")
            return Action.CREATE, self.new
        found = entry.fingerprint
        if item.kind is ItemKind.FOLDER or (found.size is None and found == _NO_FINGERPRINT):
            return Action.UNCHANGED, self.on_target
        if base is not None and base.target_name == named.name:
            return self.against_baseline(item, entry, base)
        if (self.same_file(item.fingerprint, entry.fingerprint) if item.kind is ItemKind.FILE
                else item.fingerprint.same_content_as(entry.fingerprint)):
            return Action.UNCHANGED, _("already on the target, identical")
        return self.by_policy(item, entry, _("a different version already exists on the target"))

    def against_baseline(self, item: SourceItem, entry: TargetEntry,
                         base: Baseline) -> tuple[Action, str]:
        source_changed = not item.fingerprint.same_version_as(base.source)
        target_untouched = base.target is None or entry.fingerprint.same_version_as(base.target)
        if target_untouched:
            if source_changed:
                return Action.UPDATE, _("changed at the source since the last migration")
            return Action.UNCHANGED, self.unchanged_since
        return self.by_policy(item, entry, _("changed on the target since the last migration"))

    def by_policy(self, item: SourceItem, entry: TargetEntry, why: str) -> tuple[Action, str]:
        if must_suppress(item, entry.fingerprint):
            # Consent beats the conflict rule, one way only: a member the source says left
            # (or bounced) is suppressed on the target whatever the policy; never subscribed.
            return Action.UPDATE, why + _("; suppressing it anyway: an unsubscribe or a "
                                          "bounce at the source always wins (consent)")
        if self.policy == "always":
            return Action.UPDATE, why + _("; overwriting it (overwrite: always)")
        if self.policy == "never":
            return Action.SKIP, why + _("; keeping the target's version (overwrite: never)")
        if self.policy == "newer":
            source_time, target_time = item.fingerprint.mtime, entry.fingerprint.mtime
            if source_time is not None and target_time is not None and source_time > target_time:
                return Action.UPDATE, why + _("; the source is newer (overwrite: newer)")
            return Action.SKIP, why + _("; the target is as new or newer (overwrite: newer)")
        return Action.CONFLICT, why + _(" — not overwritten; set 'overwrite' in the "
                                        "step's 'with:' to decide")

    def is_selected(self, path: str) -> bool:
        if not self.include and not self.exclude:
            return True
        if self.include and not any(_matches(path, p) for p in self.include):
            return False
        return not any(_matches(path, p) for p in self.exclude)


def _matches(path: str, pattern: str) -> bool:
    """Glob on the item's path; `**/` also matches at the top level, as users expect."""
    path = path.strip("/")
    return fnmatch.fnmatchcase(path, pattern) or (
        pattern.startswith("**/") and fnmatch.fnmatchcase(path, pattern[3:])
    )
