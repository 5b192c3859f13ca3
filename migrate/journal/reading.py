"""What a report reads back from the journal: counts, rows, the notes and hook tables (the
members' reconciliation) of each step, every text in the reader's language (`Journal` inherits
these)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from migrate.i18n import count_of, is_to_do, shown


class JournalReading:
    db: Any

    def step_notes(self) -> dict[str, list[tuple[str, int]]]:
        """step → the notes its target gave at the last apply, in the reader's language, each
        with how many people or items it is about (1 unless the message says a count)."""
        return {step: [(shown(n) or "", count_of(n) or 1) for n in json.loads(notes)]
                for step, notes in
                self.db.execute("SELECT step, notes FROM step_notes ORDER BY step")}

    def hook_tables(self) -> dict[str, dict[str, Any]]:
        """step → the table its step hook made at the last apply (the members'
        reconciliation), kept in the step's own state (`migrate.step_hooks.TABLE`).

        Journals written before decision 0838 kept it in a table of its own
        (`reconciliations`): read there for the steps no apply has recorded since."""
        from migrate.step_hooks import TABLE

        found = {step: json.loads(data) for step, data in self.db.execute(
            "SELECT step, data FROM reconciliations ORDER BY step")}
        found.update((step, json.loads(value)) for step, value in self.db.execute(
            "SELECT step, value FROM step_state WHERE name = ? ORDER BY step", (TABLE,)))
        for data in found.values():
            for key in ("notes", "problems"):
                data[key] = [shown(text) or "" for text in data.get(key) or ()]
        return found

    def post_counts(self) -> dict[str, dict[str, Any]]:
        return {step: json.loads(data) for step, data in
                self.db.execute("SELECT step, data FROM post_counts ORDER BY step")}

    # -- reading back ---------------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for step, state, n in self.db.execute(
                "SELECT step, state, COUNT(*) FROM items GROUP BY step, state ORDER BY step"):
            counts.setdefault(step, {})[state] = n
        return counts

    def rows(self) -> Iterator[dict[str, Any]]:
        cursor = self.db.execute(
            "SELECT step, key, state, action, source_path, target_name, reason, rename_reason, "
            "notes, attempts, last_error, target_ref, updated, kind, size, source_fp, error_kind "
            "FROM items "
            "ORDER BY step, source_path")
        names = [d[0] for d in cursor.description]
        for row in cursor:
            found = dict(zip(names, row, strict=True))
            found["notes"] = json.loads(found["notes"]) if found["notes"] else []
            # Reasons and notes in the reader's language, whatever the writer's; which notes
            # a person must act on is kept beside them.
            found["notes_to_do"] = [is_to_do(note) for note in found["notes"]]
            found["reason_to_do"] = is_to_do(found["reason"])
            found["notes"] = [shown(note) for note in found["notes"]]
            for column in ("reason", "rename_reason", "last_error"):
                found[column] = shown(found[column])
            yield found
