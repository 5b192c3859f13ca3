"""What to do next, in plain words, for each thing a migration left unfinished.

The advice depends on the item's state and on the kind of error the runner recorded
(`Journal.record_failed(error_kind=…)`), never on the error's text: the message itself (written
by the connector, e.g. "create a new app password…") is shown beside it.
"""

from __future__ import annotations

from typing import Any

from migrate.i18n import _, ngettext, number


def advice_for(state: str, error_kind: str | None) -> str:
    """One sentence: what the user should do about an item in `state`."""
    if state == "planned":
        return _("Not started yet: run 'migrate apply' again to finish.")
    if state == "intent":
        return _("Interrupted while being written: run 'migrate apply' again; it checks the "
                 "target first, so nothing is copied twice.")
    if state == "conflict":
        return _("Someone changed it on the target after the migration: compare both versions; "
                 "to replace theirs, set 'overwrite: newer' or 'always' on the step.")
    if state == "stale":
        return _("The saved plan no longer matched: make a new plan ('migrate plan -o'), "
                 "review it, then apply it.")
    if error_kind == "transient":
        return _("The service was busy or unreachable: run 'migrate apply' again later; only "
                 "what is missing is written.")
    if error_kind == "fatal":
        return _("The step stopped here: do what the message says (for example create a new "
                 "app password or token, or free space on the server), then run 'migrate "
                 "apply' again.")
    if error_kind == "unexpected":
        return _("An unexpected error in Transhumance: run 'migrate apply --debug' again and "
                 "send the output to whoever supports you.")
    return _("Fix what the message says for this item, then run 'migrate apply' again.")


def overall_next_steps(data: dict[str, Any]) -> list[str]:
    """The few actions, with counts, that finish the migration; empty when all is done."""
    steps: list[str] = []
    failures = data["failures"]
    by_kind: dict[str, int] = {}
    for failure in failures:
        key = failure["state"] if failure["state"] != "failed" else (
            failure["error_kind"] or "item")
        by_kind[key] = by_kind.get(key, 0) + int(failure["count"])
    if by_kind.get("fatal"):
        steps.append(ngettext(
            "{n} item stopped a step: read its message below (credentials, space), fix it, "
            "then run 'migrate apply' again.",
            "{n} items stopped a step: read their message below (credentials, space), fix it, "
            "then run 'migrate apply' again.", by_kind["fatal"]).format(
                n=number(by_kind["fatal"])))
    retry = sum(by_kind.get(k, 0) for k in ("transient", "planned", "intent"))
    if retry:
        steps.append(ngettext("{n} item is not finished: run 'migrate apply' again.",
                              "{n} items are not finished: run 'migrate apply' again.",
                              retry).format(n=number(retry)))
    other = by_kind.get("item", 0) + by_kind.get("unexpected", 0)
    if other:
        steps.append(ngettext("{n} item failed on its own: see its message below.",
                              "{n} items failed on their own: see each message below.",
                              other).format(n=number(other)))
    if data["conflicts"]:
        steps.append(ngettext(
            "{n} item was changed on the target by someone and was not overwritten: decide "
            "which version to keep.",
            "{n} items were changed on the target by someone and were not overwritten: decide "
            "which version to keep.", len(data["conflicts"])).format(
                n=number(len(data["conflicts"]))))
    if data["stale"]:
        steps.append(ngettext(
            "{n} item of a saved plan no longer matched: make and review a new plan.",
            "{n} items of a saved plan no longer matched: make and review a new plan.",
            len(data["stale"])).format(n=number(len(data["stale"]))))
    for step, rec in data["reconciliations"].items():
        if rec.get("problems"):
            steps.append(_("The member counts of step '{step}' do not add up: see the "
                           "reconciliation.").format(step=step))
    run = data.get("last_run")
    if run and run.get("finished") is None:
        steps.append(_("The last run did not finish (stopped or crashed): run 'migrate apply' "
                       "again."))
    return steps


def attention(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Everything a person must act on or know, each with its count, what it is, what to do
    and the section that lists it: the report's "to look at" is the sum of the counts."""
    found: list[dict[str, Any]] = []

    def add(count: int, text: str, todo: str, anchor: str) -> None:
        if count:
            found.append({"count": count, "text": text, "todo": todo, "anchor": anchor})

    failures = sum(int(f["count"]) for f in data["failures"])
    add(failures, ngettext("{n} item failed or is unfinished.",
                           "{n} items failed or are unfinished.", failures).format(
        n=number(failures)), _("See what to do for each one below."), "failures")
    add(len(data["conflicts"]), ngettext(
        "{n} item was changed on the target and was not overwritten.",
        "{n} items were changed on the target and were not overwritten.",
        len(data["conflicts"])).format(n=number(len(data["conflicts"]))),
        _("Compare both versions and keep the right one."), "conflicts")
    add(len(data["stale"]), ngettext(
        "{n} item of a saved plan no longer matched.",
        "{n} items of a saved plan no longer matched.", len(data["stale"])).format(
        n=number(len(data["stale"]))), _("Make and review a new plan."), "stale")
    shares = sum(1 for share in data["share_map"] if share["to_do"])
    add(shares, ngettext("The sharing of {n} item was not recreated.",
                         "The sharing of {n} items was not recreated.", shares).format(
        n=number(shares)),
        _("Share them by hand with the right people or groups, or map those people in "
          "'identities' and run 'migrate apply' again."), "shares")
    refused = [r for r in data["skipped"] if r.get("last_error") or r.get("reason_to_do")]
    add(len(refused), ngettext(
        "{n} item was not written: the target refused it, or a file it needs is missing.",
        "{n} items were not written: the target refused them, or a file they need is missing.",
        len(refused)).format(n=number(len(refused))),
        _("Read each reason in the skipped list; fix the item at the source if it matters."),
        "skipped")
    people = sum(int(s["count"]) for s in data["member_skips"] if s["refused"])
    add(people, ngettext("{n} member was refused by the list server.",
                         "{n} members were refused by the list server.", people).format(
        n=number(people)), _("Read the reason in the reconciliation; contact them another way "
                             "if needed."), "mailing")
    for step, notes in data.get("step_notes", {}).items():
        for note, count in notes:
            add(count, _("Step '{step}': {note}").format(step=step, note=note),
                _("Keep it in mind: nothing to fix in the plan."), "steps")
    return found
