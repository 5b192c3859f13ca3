"""Human-readable text for plans, results and status. Pure functions returning strings."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from migrate.api import ApplyResult, PlanResult
from migrate.consent import reconciliation_lines
from migrate.i18n import _, date_time, ngettext, number
from migrate.model import Action, Change, summary_line
from migrate.post_counts import post_count_lines
from migrate.printable import one_line

#: How many lines of each kind a step shows before "… and N more" (all with --all).
LINES_PER_KIND = 25
_ORDER = (Action.CONFLICT, Action.UPDATE, Action.CREATE, Action.SKIP, Action.UNCHANGED)


def _heading(action: Action, n: int) -> str:
    """`3 to create`, `1 unchanged`: the count with its words, in the plural the language wants."""
    headings = {
        Action.CREATE: ngettext("{n} to create", "{n} to create", n),
        Action.UPDATE: ngettext("{n} to update", "{n} to update", n),
        Action.CONFLICT: ngettext("{n} in conflict", "{n} in conflict", n),
        Action.SKIP: ngettext("{n} skipped", "{n} skipped", n),
        Action.UNCHANGED: ngettext("{n} unchanged", "{n} unchanged", n),
    }
    return headings[action].format(n=number(n))


def plan_text(result: PlanResult, show_all: bool = False) -> str:
    by_step: dict[str, list[Change]] = defaultdict(list)
    for change in result.changes.changes:
        by_step[change.step].append(change)
    lines: list[str] = []
    for step_id in result.steps:
        spec = result.plan.step(step_id)
        lines.append(_("Step '{id}': {action} {source} → {target}").format(
            id=step_id, action=spec.action, source=spec.source, target=spec.target))
        lines.extend(_step_lines(by_step[step_id], show_all,
                                 result.changes.counted.get(step_id, 0)))
        if step_id in result.reconciliations:
            lines.extend(reconciliation_lines(result.reconciliations[step_id]))
        if step_id in result.post_counts:
            lines.extend(post_count_lines(result.post_counts[step_id]))
        lines.extend("  " + note for note in result.notes.get(step_id, []))
        lines.append("")
    lines.append(summary_line(result.changes.summary()))
    return "\n".join(lines)


def _step_lines(changes: list[Change], show_all: bool, counted: int = 0) -> list[str]:
    """`counted`: unchanged items an apply counted without keeping them (`ChangeSet.counted`)."""
    by_action: dict[Action, list[Change]] = defaultdict(list)
    for change in changes:
        by_action[change.action].append(change)
    if not changes and not counted:
        return ["  " + _("nothing in scope")]
    lines: list[str] = []
    for action in _ORDER:
        group = by_action.get(action, [])
        if action is Action.UNCHANGED and (counted or group) and (counted or not show_all):
            lines.append("  = " + _heading(action, len(group) + counted))
            continue
        if not group:
            continue
        lines.append("  " + _("{heading}:").format(heading=_heading(action, len(group))))
        # Renames and notes (shares, unmapped identities) are always listed: nothing is
        # changed or left behind without the plan saying so.
        shown = group if show_all else [c for i, c in enumerate(group) if i < LINES_PER_KIND
                                        or c.rename_reason or c.notes]
        lines.extend(_change_line(change) for change in shown)
        if len(group) > len(shown):
            lines.append("    " + _("… and {n} more (add --all to list every item, or use "
                                    "--json)").format(n=number(len(group) - len(shown))))
    return lines


def _change_line(change: Change) -> str:
    line = f"    {change.action.symbol} {one_line(change.target_name or change.item.path)}"
    notes = []
    if change.rename_reason:
        notes.append(_("renamed from '{old}': {why}").format(old=one_line(change.source_path),
                                                            why=change.rename_reason))
    if change.action is not Action.CREATE or change.reason != _("new"):
        notes.append(change.reason)
    notes.extend(change.notes)
    return line + (f"  ({one_line('; '.join(notes))})" if notes else "")


def plan_json(result: PlanResult) -> dict[str, Any]:
    return {
        "plan": str(result.plan.path),
        "organisation": result.plan.organisation,
        "steps": result.steps,
        "summary": result.changes.summary(),
        "changes": [_change_json(c) for c in result.changes.changes],
        "reconciliations": {k: r.to_json() for k, r in result.reconciliations.items()},
        "post_counts": {k: c.to_json() for k, c in result.post_counts.items()},
        "notes": [{"step": step, "note": note} for step, notes in result.notes.items()
                  for note in notes],
    }


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "step": change.step,
        "action": change.action.value,
        "symbol": change.action.symbol,
        "source_key": change.item.key,
        "source_path": change.item.path,
        "target_path": change.target_name,
        "reason": change.reason,
        "rename": change.rename_reason,
        "notes": list(change.notes),
    }


def apply_text(result: ApplyResult) -> str:
    counts = result.counts()
    # The reconciliation was shown with the plan just before: not again (the JSON keeps it).
    lines: list[str] = []
    for step_id, outcome in result.outcomes.items():
        # The reason that stopped the step (a full account) is said once, not per item.
        failures = [(c, m) for c, m in outcome.failures if m != outcome.fatal]
        for change, message in failures[:LINES_PER_KIND]:
            lines.append(_("  failed: {path} — {why}").format(
                path=one_line(change.item.path), why=one_line(message)))
        if outcome.fatal:
            lines.append(_("Step '{id}' stopped: {why}").format(id=step_id, why=outcome.fatal))
        lines.extend(_("Step '{id}': {note}").format(id=step_id, note=note)
                     for note in outcome.notes)
    for change, why in result.stale[:LINES_PER_KIND]:
        lines.append(_("  stale, not applied: {path} — {why}").format(
            path=one_line(change.item.path), why=why))
    lines.append(ngettext("Applied: {done} done, {failed} failed, {conflict} conflict, "
                          "{skipped} skipped, {stale} stale, {unchanged} unchanged.",
                          "Applied: {done} done, {failed} failed, {conflict} conflicts, "
                          "{skipped} skipped, {stale} stale, {unchanged} unchanged.",
                          counts["conflict"]).format(
        **{k: number(v) for k, v in counts.items()}))
    if counts["marked_seen"]:
        lines.append(ngettext("{n} item marked as seen: it will never be written (apply "
                              "--mark-seen).", "{n} items marked as seen: they will never be "
                              "written (apply --mark-seen).", counts["marked_seen"])
                     .format(n=number(counts["marked_seen"])))
    if counts["not_started"]:
        lines.append(ngettext("{n} item was not started; run 'migrate apply' again to finish.",
                              "{n} items were not started; run 'migrate apply' again to finish.",
                              counts["not_started"]).format(n=number(counts["not_started"])))
    if counts["failed"]:
        lines.append(_("Run 'migrate apply' again to retry what failed; 'migrate report' lists "
                       "every failure with its reason."))
    return "\n".join(lines)


def apply_json(result: ApplyResult) -> dict[str, Any]:
    return {
        "plan": str(result.plan.path),
        "confirmed": result.confirmed,
        "counts": result.counts(),
        "summary": result.changes.summary(),
        "failures": [{"step": c.step, "source_path": c.item.path, "error": m}
                     for o in result.outcomes.values() for c, m in o.failures],
        "stale": [{"step": c.step, "source_path": c.item.path, "reason": why}
                  for c, why in result.stale],
        "notes": [{"step": step, "note": note} for step, o in result.outcomes.items()
                  for note in o.notes],
        "post_counts": {k: c.to_json() for k, c in result.post_counts.items()},
        "exit_code": result.exit_code,
    }


#: The journal's states in the order `migrate status` lists them, most useful first.
STATUS_ORDER = ["done", "failed", "conflict", "stale", "intent", "planned", "skipped", "seen",
                "unchanged"]


def _state_words(state: str, n: int) -> str:
    """`3 done`, `1 waiting to be written`: a journal state in the words of `migrate status`."""
    words = {
        "done": lambda: ngettext("{n} done", "{n} done", n),
        "failed": lambda: ngettext("{n} failed", "{n} failed", n),
        "conflict": lambda: ngettext("{n} in conflict", "{n} in conflict", n),
        "stale": lambda: ngettext("{n} changed since the plan was saved",
                                  "{n} changed since the plan was saved", n),
        "intent": lambda: ngettext(
            "{n} being written when the last run stopped (checked on the next run)",
            "{n} being written when the last run stopped (checked on the next run)", n),
        "planned": lambda: ngettext("{n} waiting to be written", "{n} waiting to be written", n),
        "skipped": lambda: ngettext("{n} skipped", "{n} skipped", n),
        "seen": lambda: ngettext("{n} marked as seen", "{n} marked as seen", n),
        "unchanged": lambda: ngettext("{n} unchanged", "{n} unchanged", n),
    }
    text = words[state]() if state in words else "{n} " + _(state)
    return text.format(n=number(n))


def status_text(status: dict[str, Any]) -> str:
    lines = [_("Plan: {plan} ({org})").format(plan=status["plan"], org=status["organisation"])]
    if not status["steps"] and status["last_run"] is None:
        lines.append(_("Nothing has been applied yet."))
    for step, counts in status["steps"].items():
        ordered = sorted(counts.items(), key=lambda pair: (
            STATUS_ORDER.index(pair[0]) if pair[0] in STATUS_ORDER else len(STATUS_ORDER),
            pair[0]))
        parts = ", ".join(_state_words(state, n) for state, n in ordered)
        lines.append(_("  step '{step}': {parts}").format(step=step, parts=parts))
    run = status["last_run"]
    if run:
        when = date_time(datetime.datetime.fromtimestamp(run["started"]))
        outcome = _(run["outcome"] or "running or stopped abruptly")
        lines.append(_("Last run: {when}, {outcome}").format(when=when, outcome=outcome))
    scheduled = status.get("last_scheduled_run")
    if scheduled:
        when = date_time(datetime.datetime.fromtimestamp(scheduled["started"]))
        outcome = _(scheduled["outcome"] or "running or stopped abruptly")
        lines.append(_("Last scheduled run: {when}, {outcome}").format(when=when,
                                                                       outcome=outcome))
    if status["lock"]:
        lines.append(_("Locked by {holder}").format(holder=status["lock"]["description"]))
    return "\n".join(lines)
