"""What a step's writes came to (`Runner.run`), in a module of its own: a run that has nothing
to write reports an empty one without importing the runner, its thread pools and
`concurrent.futures` (about 3 ms of a re-run's start)."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrate.model import Change


@dataclass
class StepOutcome:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    not_started: int = 0
    failures: list[tuple[Change, str]] = field(default_factory=list)
    fatal: str | None = None
    interrupted: bool = False
    #: What the target says about the step as a whole (`Target.notes`), printed after it.
    notes: list[str] = field(default_factory=list)
