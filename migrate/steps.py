"""Opening a plan's steps: connectors configured, sources and targets opened, listings diffed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate import printable, registry, retry
from migrate.connector import Listing, Source, StepContext, Target
from migrate.diff import Baseline, diff
from migrate.features import Features
from migrate.i18n import _
from migrate.journal import Journal
from migrate.journal.step_state import StepState
from migrate.model import ChangeSet, SourceItem, TargetEntry
from migrate.plan.plan_file import Plan, StepSpec
from migrate.runner.listing_thread import ListingThread


@dataclass
class OpenStep:
    """A step with its source and target open, ready to list, diff and write."""

    spec: StepSpec
    source: Source
    target: Target
    #: What the target can do and which optional hooks it has, found once as it opens.
    features: Features = field(init=False)

    #: The items `prepare_names` was given while the target was listed (None: not yet).
    _named: list[SourceItem] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.features = Features.fill(self.target)

    def list(self, name: bool = True) -> tuple[list[SourceItem], Listing, list[TargetEntry]]:
        """Both sides' listings. A target that `lists_beside_source` is listed in a thread of
        its own meanwhile, and with `name` the items are named while its answers arrive (the
        diff then does not name them again); otherwise the source, then the target."""
        if not self.features.abilities.lists_beside_source:
            listing = self.source.list_items()
            items = _storable(list(listing.items))
            # The target's listing is retried whole by the one policy, as its writes are.
            # Sources retry each page by it themselves: a Drive is hundreds of pages, not
            # worth reading again for one busy answer.
            return items, listing, retry.DEFAULT.call(lambda: list(self.target.list_entries()))
        beside = ListingThread(self.target, retry.DEFAULT)
        try:
            listing = self.source.list_items()
            items = _storable(list(listing.items))
            if name:
                self._name_early(items)
            entries = beside.entries()
        except BaseException:  # the source's error (or Ctrl-C) is said, as when listed first
            beside.stop()
            raise
        return items, listing, entries

    def _name_early(self, items: list[SourceItem]) -> None:
        """Names made now stand only if the diff gets these very items (no step hook replaced
        them). A naming error is left for the diff to raise again, where it always was: after
        the target's listing and the step hooks, whose errors come first."""
        try:
            self.target.prepare_names(items)
        except Exception:
            self._named = None
        else:
            self._named = items

    def diff(self, items: list[SourceItem], entries: list[TargetEntry],
             baselines: Mapping[str, Baseline], keep_unchanged: bool = True) -> ChangeSet:
        if items is not self._named:
            self.target.prepare_names(items)
        self._named = None  # named for one diff only
        return diff(self.spec.id, items, entries, self.target.name_for, baselines,
                    self.spec.options, self.target.name_key, keep_unchanged,
                    self.features.comparison)

    def close(self) -> None:
        self.source.close()
        self.target.close()


def _storable(items: list[SourceItem]) -> list[SourceItem]:
    """The items, each one that is not valid Unicode replaced by its skipped, readable self.
    One check of the whole listing first: per item, it would cost more than the listing."""
    if _all_storable(items):
        return items
    return [item if _is_storable(item) else _unstorable(item) for item in items]


def _all_storable(items: list[SourceItem]) -> bool:
    """Every key and path joined and encoded once (a lone surrogate in any of them fails), and
    only the items that carry meta or typed data through JSON: a JSON text of 100,000 local
    files' keys and paths cost a tenth of a re-run."""
    try:
        "".join([item.key for item in items]).encode("utf-8")
        "".join([item.path for item in items]).encode("utf-8")
    except (UnicodeEncodeError, TypeError):
        return False
    metas = [item.meta for item in items if item.meta]
    datas = [item.data.to_json() for item in items if item.data is not None]
    return (not metas or printable.is_storable(metas)) and \
        (not datas or printable.is_storable(datas))


def _is_storable(item: SourceItem) -> bool:
    return (printable.is_text(item.key) and printable.is_text(item.path)
            and (not item.meta or printable.is_storable(item.meta))
            and printable.is_storable(_data(item)))


def _data(item: SourceItem) -> dict[str, Any] | None:
    return None if item.data is None else item.data.to_json()


def _unstorable(item: SourceItem) -> SourceItem:
    """An item whose name or content is not valid text (bytes that are not UTF-8, a lone
    surrogate in a post) cannot be journaled nor sent: it is skipped, with its name made
    readable, and the other items go on."""
    if printable.is_text(item.key):
        reason = _("it holds text that is not valid Unicode (a lone surrogate or undecodable "
                   "bytes); it cannot be sent as it is")
    else:
        reason = _("its name is not valid text (bytes that are not UTF-8, shown as \\xNN); "
                   "rename it to migrate it")
    return SourceItem(printable.reversible(item.key), printable.reversible(item.path),
                      item.kind, skip_reason=reason)


def select_steps(plan: Plan, step_id: str | None) -> list[StepSpec]:
    return [plan.step(step_id)] if step_id else list(plan.steps)


def open_step(plan: Plan, spec: StepSpec, config: dict[str, dict[str, Any]], plan_id: str,
              cursor: dict[str, Any], state_dir: Path | None = None,
              journal: Journal | None = None, writable: bool = True) -> OpenStep:
    """`journal` backs the connectors' own state (`StepContext.state_store`); the dry run
    passes `writable=False`: it reads that state and writes none."""
    base_dir = Path(plan.base_dir)
    store = StepState(journal, spec.id, writable) if journal is not None else None
    context = StepContext(spec.id, spec.action, spec.options, plan_id, base_dir, cursor,
                          state_dir, store)
    source_spec = plan.connections[spec.source.connection]
    target_spec = plan.connections[spec.target.connection]
    source_connector = registry.get(source_spec.type)(config[source_spec.name], base_dir)
    target_connector = registry.get(target_spec.type)(config[target_spec.name], base_dir)
    source_connector.connection, target_connector.connection = source_spec.name, target_spec.name
    source = source_connector.open_source(spec.source.location, context)
    try:
        target = target_connector.open_target(spec.target.location, context)
    except BaseException:
        source.close()
        raise
    return OpenStep(spec, source, target)
