"""Step hooks: rules the core runs over every step's listing together, once all are listed and
before any diff, declared by the sources whose items need them (`Source.step_hooks`).

The members' consent rules are one (migrate/consent/hook.py): an address unsubscribed in one
step's audience is protected in every other step, so the rule sees all steps at once, and a
member count that does not add up stops the plan before anything is written. The core knows
the hook's outcome only through `HookPass`: changed items, tables for the plan and the report,
problems that stop the run, and what to remember in the journal on an apply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migrate.errors import MigrateError

if TYPE_CHECKING:
    from migrate.connector import Listing
    from migrate.consent import Reconciliation
    from migrate.model import SourceItem

#: step → (its items, its listing)
Listed = Mapping[str, "tuple[list[SourceItem], Listing]"]
#: The name, in a step's own state (migrate/journal/step_state.py), of the table a hook made
#: of it at the last apply: the report reads it there (`Journal.hook_tables`).
TABLE = "step-hook-table"


@dataclass
class HookPass:
    """What a hook (or all of them) made of the steps' listings."""

    #: step → its items after the hook, for the steps whose items it changed.
    items: dict[str, list[SourceItem]] = field(default_factory=dict)
    #: step → its table (the members' reconciliation), shown with the plan; an apply keeps it
    #: in the step's state for the report (`table.stored()`: JSON, messages kept translatable).
    tables: dict[str, Reconciliation] = field(default_factory=dict)
    #: What does not add up: the run stops before anything is written, saying `refusal`.
    problems: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    #: What an apply or a repair keeps in the journal (never called by a dry run).
    remember: list[Callable[[Any], None]] = field(default_factory=list)

    def items_of(self, step: str, listed: list[SourceItem]) -> list[SourceItem]:
        return self.items.get(step, listed)

    def record(self, journal: Any) -> None:
        """What an apply or a repair keeps: the hooks' own memory, and each step's table in
        the step's state (`TABLE`), where the report reads it."""
        from migrate.journal.step_state import StepState

        for keep in self.remember:
            keep(journal)
        for step, table in self.tables.items():
            StepState(journal, step).put(TABLE, table.stored())

    def refuse(self) -> None:
        """Stop the run when something does not add up (nothing written yet)."""
        if self.problems:
            raise MigrateError("\n".join(self.refusal))


class StepHook(ABC):
    """One rule over every step's listing. `known` is the journal (None in a dry run made
    before any apply): what earlier runs remembered."""

    @abstractmethod
    def run(self, listed: Listed, journal: Any) -> HookPass:
        """The steps' items after the rule, its tables and problems."""


def run_hooks(sources: Sequence[Any], listed: Listed, journal: Any) -> HookPass:
    """Every hook the steps' sources declare, each once, in the order first declared; each
    sees the items as the hooks before it left them."""
    hooks: list[StepHook] = []
    for source in sources:
        hooks += [hook for hook in getattr(source, "step_hooks", ()) if hook not in hooks]
    result = HookPass()
    for hook in hooks:
        now = {step: (result.items_of(step, items), listing)
               for step, (items, listing) in listed.items()}
        one = hook.run(now, journal)
        result.items.update(one.items)
        result.tables.update(one.tables)
        result.problems += one.problems
        result.refusal += one.refusal
        result.remember += one.remember
    return result
