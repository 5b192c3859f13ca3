"""The members' consent rules as the step hook every member source declares
(`step_hooks = (CONSENT,)`): suppression across steps, the archived rule and the reconciliation
(migrate/consent/__init__.py), run by the core over every step's listing before any diff."""

from __future__ import annotations

from typing import Any

from migrate.consent import apply_consent, reconciliation_lines
from migrate.i18n import _
from migrate.step_hooks import HookPass, Listed, StepHook


class ConsentHook(StepHook):
    def run(self, listed: Listed, journal: Any) -> HookPass:
        known = journal.suppressions() if journal is not None else {}
        consent = apply_consent({step: (items, listing.tally)
                                 for step, (items, listing) in listed.items()}, known)
        problems = consent.problems()
        refusal = [_("the member counts do not add up; nothing was written:"), *problems,
                   *(line for rec in consent.reconciliations.values() if rec.problems
                     for line in reconciliation_lines(rec))]

        def remember(journal: Any) -> None:
            journal.add_suppressions(consent.found)

        return HookPass(consent.items, dict(consent.reconciliations), problems, refusal,
                        [remember])


#: The one instance member sources declare (hooks run once each, compared by identity).
CONSENT = ConsentHook()
