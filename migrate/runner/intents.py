"""Which writes the journal marks INTENT before they start (decision 0489).

An INTENT row lets the next start find a write a crash interrupted and read it back
(`Target.verify`) before anything is written again. A target whose writes are whole files on
this computer (`Capabilities.local_files`: written under a temporary name, given the source's
time, then renamed into place) needs none for an item the journal has never seen: a copy a
crash leaves under its final name is found by the next run's listing and adopted by the diff
(same size and time, "already on the target, identical"), a half-written one is a temporary
file the next run removes, and nothing else was written. An item the journal already has a
row for (a baseline, a failure, a skip) keeps its INTENT: its row says what the last
migration left, and only a verify tells a crash's copy from someone's edit.

A write without an INTENT row that fails, is skipped or is not started gets its row when that
is recorded, so the journal and the report say the same as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from migrate.features import Features
from migrate.journal import Journal
from migrate.model import Change


class Intents:
    def __init__(self, journal: Journal, run_id: int, features: Features,
                 key_of: Callable[[Change], str]) -> None:
        self.journal, self.run_id, self.key_of = journal, run_id, key_of
        abilities = features.abilities
        self.local = abilities.local_files
        #: New items need no INTENT row: whole local files, nothing read back afterwards
        #: (`settle`), no batches of several items per write.
        self.adopted = self.local and features.settle is None and not abilities.batch_size

    def record(self, keyed: Sequence[tuple[Change, str]]) -> None:
        """INTENT for the writes about to start that need it."""
        if self.adopted and keyed:
            known = self.journal.recorded_among(keyed[0][0].step,
                                                [change.item.key for change, _key in keyed])
            keyed = [(change, key) for change, key in keyed if change.item.key in known]
        if keyed:
            # Local files wait for no fsync: see `Journal.record_intents`.
            self.journal.record_intents(keyed, self.run_id, durable=not self.local)

    def failed(self, failures: Sequence[tuple[Change, str, str]],
               error_kind: str | None = None) -> None:
        """`Journal.record_failed`, giving a row first to the items written without INTENT."""
        if not failures:
            return
        if self.adopted:
            changes = [change for change, _state, _message in failures]
            known = self.journal.recorded_among(changes[0].step,
                                                [change.item.key for change in changes])
            missing = [(change, self.key_of(change)) for change in changes
                       if change.item.key not in known]
            if missing:
                self.journal.record_intents(missing, self.run_id, durable=False)
        self.journal.record_failed(failures, self.run_id, error_kind)
