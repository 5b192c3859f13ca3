"""`migrate repair PLAN`: a new journal rebuilt from what the targets already hold.

A journal may be lost or damaged (truncated by a full disk, overwritten, a folder in its place).
Its content cannot be trusted, so it is kept aside under a dated name and a fresh journal is
filled from the only other truth: each step's source and target listings. What already stands
on the target, identical to the source, is adopted as done (as the first apply of a plan does
with a fresh journal); suppressions found in the sources are recorded again. Nothing is written
to any service: what is missing is left for the next `apply`, which sends it once.

The connectors' own state (migrate/journal/step_state.py: rate-limit buckets, a list's member
records, staged rows) is carried over from the journal kept aside as far as it can be read:
it is what the connectors know of their own writes, which no listing can give back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from migrate.api import locked_journal, step_hooks_over
from migrate.errors import JournalDamagedError, MigrateError
from migrate.i18n import _
from migrate.journal import Journal, journal_path
from migrate.plan.plan_file import load_plan
from migrate.plan.references import Redactor
from migrate.plan.secrets import resolve_connections
from migrate.runner.apply_steps import record_quiet_outcomes
from migrate.steps import OpenStep, open_step

#: The journal's own files: SQLite keeps its write-ahead log and shared memory beside it.
COMPANIONS = ("", "-wal", "-shm")


@dataclass
class RepairResult:
    journal: Path
    kept: list[Path] = field(default_factory=list)
    adopted: dict[str, int] = field(default_factory=dict)
    left: dict[str, int] = field(default_factory=dict)


def repair(path: str | Path, redactor: Redactor, state_dir: Path | None = None,
           force: bool = False) -> RepairResult:
    """Keep the damaged journal aside and rebuild one from the steps' listings.

    A journal that opens and checks fine is left alone unless `force`."""
    loaded = load_plan(path)
    location = journal_path(loaded.path, state_dir)
    if not force and _is_sound(location):
        raise MigrateError(_("the journal {path} is not damaged; nothing to repair (add --force "
                             "to rebuild it anyway from what the targets hold)").format(
            path=location))
    result = RepairResult(location, kept=_keep_aside(location))
    config = resolve_connections(loaded, redactor)
    with locked_journal(loaded, state_dir, "repair") as journal:
        _carry_state(result.kept, journal)
        run_id = journal.start_run("repair")
        opened: list[OpenStep] = []
        try:
            for spec in loaded.steps:
                opened.append(open_step(loaded, spec, config, journal.plan_id, {},
                                        journal.path.parent, journal))
            listed = {one.spec.id: one.list() for one in opened}
            hooked = step_hooks_over(opened, listed, journal)  # a fresh journal: nothing known yet
            hooked.record(journal)
            for one in opened:
                items, _listing, entries = listed[one.spec.id]
                changes = one.diff(hooked.items_of(one.spec.id, items), entries, {})
                record_quiet_outcomes(journal, one.spec.id, changes, run_id)
                summary = changes.summary()
                result.adopted[one.spec.id] = summary["unchanged"]
                result.left[one.spec.id] = summary["create"] + summary["update"]
        finally:
            for one in opened:
                one.close()
        journal.finish_run(run_id, "ok", {"adopted": sum(result.adopted.values())})
    return result


def _is_sound(location: Path) -> bool:
    if not location.exists():
        return False
    try:
        Journal(location).close()
    except JournalDamagedError:
        return False
    return True


def _keep_aside(location: Path) -> list[Path]:
    """Rename the journal and its companions to `<name>.damaged-<UTC time>`; never delete."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = []
    for suffix in COMPANIONS:
        current = location.with_name(location.name + suffix)
        if os.path.lexists(current):
            aside = location.with_name(f"{location.name}.damaged-{stamp}{suffix}")
            os.replace(current, aside)
            kept.append(aside)
    return kept


def _carry_state(kept: list[Path], journal: Journal) -> None:
    """The step states of the journal kept aside, each value that still reads as JSON, into the
    new journal; nothing when the old one cannot be opened at all (lost, or not SQLite)."""
    main = [path for path in kept if not path.name.endswith(("-wal", "-shm"))]
    if not main:
        return
    try:
        # Read only: the kept journal stays as it was found, its log (renamed with it) read too.
        uri = main[0].resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as old:
            rows = old.execute("SELECT step, name, value FROM step_state").fetchall()
    except sqlite3.Error:
        return
    readable = []
    for step, name, value in rows:
        with contextlib.suppress(TypeError, ValueError):
            json.loads(value)
            readable.append((str(step), str(name), value))
    with journal.transaction() as db:
        db.executemany("INSERT OR REPLACE INTO step_state VALUES (?, ?, ?)", readable)
