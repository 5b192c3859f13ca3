"""Human-readable text for plans, results and status. Pure functions returning strings."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from migrate.api import ApplyResult, PlanResult
from migrate.consent import reconciliation_lines
from migrate.i18n import _
from migrate.model import Action, Change, summary_line

#: How many lines of each kind a step shows before "… and N more" (all with --all).
LINES_PER_KIND = 25
_ORDER = (Action.CONFLICT, Action.UPDATE, Action.CREATE, Action.SKIP, Action.UNCHANGED)
_HEADINGS = {
    Action.CREATE: "to create",
    Action.UPDATE: "to update",
    Action.CONFLICT: "in conflict",
    Action.SKIP: "skipped",
    Action.UNCHANGED: "unchanged",
}


def plan_text(result: PlanResult, show_all: bool = False) -> str:
    by_step: dict[str, list[Change]] = defaultdict(list)
    for change in result.changes.changes:
        by_step[change.step].append(change)
    lines: list[str] = []
    for step_id in result.steps:
        spec = result.plan.step(step_id)
        lines.append(_("Step '{id}': {action} {source} → {target}").format(
            id=step_id, action=spec.action, source=spec.source, target=spec.target))
        lines.extend(_step_lines(by_step[step_id], show_all))
        if step_id in result.reconciliations:
            lines.extend(reconciliation_lines(result.reconciliations[step_id]))
        lines.append("")
    lines.append(summary_line(result.changes.summary()))
    return "\n".join(lines)


def _step_lines(changes: list[Change], show_all: bool) -> list[str]:
    by_action: dict[Action, list[Change]] = defaultdict(list)
    for change in changes:
        by_action[change.action].append(change)
    if not changes:
        return ["  " + _("nothing in scope")]
    lines: list[str] = []
    for action in _ORDER:
        group = by_action.get(action, [])
        if not group:
            continue
        if action is Action.UNCHANGED and not show_all:
            lines.append(f"  = {len(group):,} " + _("unchanged"))
            continue
        lines.append(f"  {len(group):,} " + _(_HEADINGS[action]) + ":")
        shown = group if show_all else group[:LINES_PER_KIND]
        lines.extend(_change_line(change) for change in shown)
        if len(group) > len(shown):
            lines.append("    " + _("… and {n} more (add --all to list every item, or use "
                                    "--json)").format(n=f"{len(group) - len(shown):,}"))
    return lines


def _change_line(change: Change) -> str:
    line = f"    {change.action.symbol} {change.target_name or change.item.path}"
    notes = []
    if change.rename_reason:
        notes.append(_("renamed from '{old}': {why}").format(old=change.item.path,
                                                            why=change.rename_reason))
    if change.action is not Action.CREATE or change.reason != _("new"):
        notes.append(change.reason)
    notes.extend(change.notes)
    return line + (f"  ({'; '.join(notes)})" if notes else "")


def plan_json(result: PlanResult) -> dict[str, Any]:
    return {
        "plan": str(result.plan.path),
        "organisation": result.plan.organisation,
        "steps": result.steps,
        "summary": result.changes.summary(),
        "changes": [_change_json(c) for c in result.changes.changes],
        "reconciliations": {k: r.to_json() for k, r in result.reconciliations.items()},
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
    lines = [line for rec in result.reconciliations.values() for line in
             [_("Step '{id}':").format(id=rec.step), *reconciliation_lines(rec)]]
    for step_id, outcome in result.outcomes.items():
        for change, message in outcome.failures[:LINES_PER_KIND]:
            lines.append(_("  failed: {path} — {why}").format(path=change.item.path, why=message))
        if outcome.fatal:
            lines.append(_("Step '{id}' stopped: {why}").format(id=step_id, why=outcome.fatal))
    for change, why in result.stale[:LINES_PER_KIND]:
        lines.append(_("  stale, not applied: {path} — {why}").format(path=change.item.path,
                                                                     why=why))
    lines.append(_("Applied: {done} done, {failed} failed, {conflict} conflicts, {skipped} "
                   "skipped, {stale} stale, {unchanged} unchanged.").format(
        **{k: f"{v:,}" for k, v in counts.items()}))
    if counts["marked_seen"]:
        lines.append(_("{n} items marked as seen: they will never be written (apply "
                       "--mark-seen).").format(n=f"{counts['marked_seen']:,}"))
    if counts["not_started"]:
        lines.append(_("{n} items were not started; run 'migrate apply' again to finish.")
                     .format(n=f"{counts['not_started']:,}"))
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
        "exit_code": result.exit_code,
    }


def status_text(status: dict[str, Any]) -> str:
    lines = [_("Plan: {plan} ({org})").format(plan=status["plan"], org=status["organisation"])]
    if not status["steps"] and status["last_run"] is None:
        lines.append(_("Nothing has been applied yet."))
    for step, counts in status["steps"].items():
        parts = ", ".join(f"{n:,} {_(state)}" for state, n in sorted(counts.items()))
        lines.append(_("  step '{step}': {parts}").format(step=step, parts=parts))
    run = status["last_run"]
    if run:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started"]))
        outcome = _(run["outcome"] or "running or stopped abruptly")
        lines.append(_("Last run: {when}, {outcome}").format(when=when, outcome=outcome))
    scheduled = status.get("last_scheduled_run")
    if scheduled:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(scheduled["started"]))
        outcome = _(scheduled["outcome"] or "running or stopped abruptly")
        lines.append(_("Last scheduled run: {when}, {outcome}").format(when=when,
                                                                       outcome=outcome))
    if status["lock"]:
        lines.append(_("Locked by {holder}").format(holder=status["lock"]["description"]))
    return "\n".join(lines)
