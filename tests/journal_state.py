"""Reading a connector's own state (`StepContext.state_store`) out of a SQLite journal with
plain sqlite3, not with the code that wrote it."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from migrate.journal import Journal
from migrate.journal.step_state import StepState


def step_values(journal_file: Path, step: str, prefix: str = "") -> dict[str, Any]:
    """name (without `prefix`) → value of the step's state whose name starts with `prefix`."""
    with contextlib.closing(sqlite3.connect(journal_file)) as db:
        rows = db.execute("SELECT name, value FROM step_state WHERE step = ?", (step,)).fetchall()
    return {name[len(prefix):]: json.loads(value) for name, value in rows
            if name.startswith(prefix)}


def store_in(folder: Path, step: str = "lettre") -> StepState:
    """A step's state in a fresh SQLite journal in `folder` (what `migrate apply` hands a
    target), for tests that open a target by hand."""
    return StepState(Journal(folder / "plan.journal.sqlite"), step)
