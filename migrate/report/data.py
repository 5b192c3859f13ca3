"""What a handover report says, gathered from the journal alone (never a connection's options).

Privacy rules, enforced here once for every format:
- every text passes the redactor (resolved secrets become `********`);
- mailing-list members appear only as counts (per step, per state, and the reconciliation):
  never a member list; addresses in their messages are masked;
- no address on the suppression list appears anywhere: every address-shaped text is hashed and
  checked against the journal's suppression list before the report is returned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from migrate import __version__, registry
from migrate.consent import InvalidAddressError, address_hash, address_key
from migrate.errors import MigrateError
from migrate.i18n import _
from migrate.journal import Journal
from migrate.plan.plan_file import Plan
from migrate.plan.references import Redactor
from migrate.plan.secrets import resolve_connections
from migrate.printable import one_line
from migrate.report.advice import advice_for, attention, overall_next_steps

#: States in the order a report shows them (and the chart stacks them).
STATES = ("done", "seen", "skipped", "conflict", "stale", "failed", "intent", "planned")
#: States that leave something for the user to do.
TO_FIX = ("failed", "conflict", "stale", "intent", "planned")
#: Anything shaped like an address, valid or not (an invalid one is still someone's).
ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")

Redact = Callable[[str], str]


def collect(plan: Plan, journal: Journal, redact: Redact) -> dict[str, Any]:
    """Everything the md, html and json reports show, already redacted and privacy-checked."""
    _learn_secrets(plan, redact)
    reconciliations = journal.hook_tables()  # the members' reconciliation, per step
    rows = [_clean(row, redact) for row in journal.rows()]
    member_steps = {r["step"] for r in rows if r["kind"] == "member"} | set(reconciliations)
    members = [r for r in rows if r["step"] in member_steps]
    items = [r for r in rows if r["step"] not in member_steps]
    data: dict[str, Any] = {
        "organisation": plan.organisation,
        "plan": str(plan.path),
        "plan_name": plan.path.name,
        "plan_sha256": plan.digest,
        "tool_version": __version__,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "last_run": journal.last_run(),
        "steps": _counts(rows),
        "step_details": _step_details(plan, rows, member_steps),
        "renamed": [r for r in items if r["rename_reason"]],
        "share_map": [_share(r) for r in items if r["notes"]],
        "post_map": [_post(r) for r in items if r["kind"] == "post" and r["state"] == "done"
                     and r["target_url"]],
        "skipped": [r for r in items if r["state"] == "skipped"],
        "conflicts": [r for r in items if r["state"] == "conflict"],
        "stale": [r for r in items if r["state"] == "stale"],
        "failures": [_failure(r) for r in items if r["state"] in ("failed", "intent", "planned")]
        + _member_failures(members, redact),
        "member_skips": _member_skips(members),
        "reconciliations": {step: _masked_reconciliation(rec, redact)
                            for step, rec in reconciliations.items()},
        "post_counts": {step: {**count, "skipped": {redact(reason): n for reason, n in
                                                    count["skipped"].items()}}
                        for step, count in journal.post_counts().items()},
        "done": [r for r in items if r["state"] == "done"],
        "items": items,
        "step_notes": journal.step_notes(),
    }
    data["labels"] = _labels(plan, data)
    data["reconciliation_groups"] = _grouped(data["reconciliations"])
    data["attention"] = attention(data)
    data["to_look_at"] = sum(entry["count"] for entry in data["attention"])
    data["next_steps"] = overall_next_steps(data)
    return _without_suppressed(data, set(journal.suppressions()))


def _learn_secrets(plan: Plan, redact: Redact) -> None:
    """Teach the redactor the plan's secret values when they can be resolved now, so a value
    a service echoed into the journal (an address, a URL) is masked as it is in `apply`. A
    secret that cannot be resolved at report time is not an error: the report needs none."""
    if isinstance(redact, Redactor):
        with contextlib.suppress(MigrateError):
            resolve_connections(plan, redact)


def _clean(row: dict[str, Any], redact: Redact) -> dict[str, Any]:
    """One journal row as the report keeps it: redacted, sized, its target's address only."""
    found = {k: redact(v) if isinstance(v, str) else v for k, v in row.items()}
    for name in ("key", "source_path", "target_name", "reason"):  # one line each, always
        if isinstance(found.get(name), str):
            found[name] = one_line(found[name])
    found["notes"] = [redact(n) for n in found["notes"]]
    reference = _json(found.pop("target_ref", None))
    source_fp = _json(found.pop("source_fp", None))
    found["target_url"] = reference.get("url") if isinstance(reference.get("url"), str) else None
    found["parts"] = reference.get("parts")
    if found.get("size") is None:
        found["size"] = source_fp.get("size")
    return found


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _counts(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    steps: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        steps[row["step"]][row["state"]] += 1
    return {step: dict(counts) for step, counts in steps.items()}


def _step_details(plan: Plan, rows: list[dict[str, Any]], member_steps: set[str]
                  ) -> list[dict[str, Any]]:
    """Per step, in plan order: where from and to, counts and sizes per state."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: dict[str, Counter[str]] = defaultdict(Counter)
    sized: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        counts[row["step"]][row["state"]] += 1
        if row["size"] is not None:
            sizes[row["step"]][row["state"]] += int(row["size"])
            sized[row["step"]].add(row["state"])
    specs = {spec.id: spec for spec in plan.steps}
    order = [s.id for s in plan.steps if s.id in counts] + sorted(set(counts) - set(specs))
    details = []
    for step in order:
        spec = specs.get(step)
        details.append({
            "id": step,
            "action": spec.action if spec else None,
            "from": str(spec.source) if spec else None,
            "to": str(spec.target) if spec else None,
            "from_type": _type_of(plan, spec.source.connection) if spec else None,
            "to_type": _type_of(plan, spec.target.connection) if spec else None,
            "members": step in member_steps,
            "counts": {s: counts[step][s] for s in _ordered(counts[step])},
            "sizes": {s: sizes[step][s] for s in _ordered(counts[step]) if s in sized[step]},
        })
    return details


def _labels(plan: Plan, data: dict[str, Any]) -> dict[str, str]:
    """The services the share and post maps speak of, as their connectors name them."""
    specs = {spec.id: spec for spec in plan.steps}

    def named(rows: list[dict[str, Any]], end: str) -> str:
        steps = [specs[r["step"]] for r in rows if r["step"] in specs]
        found = {registry.label(_type_of(plan, getattr(spec, end).connection)) for spec in steps}
        return " / ".join(sorted(found)) or "?"

    return {"shares_from": named(data["share_map"], "source"),
            "shares_to": named(data["share_map"], "target"),
            "posts_to": named(data["post_map"], "target")}


def _type_of(plan: Plan, connection: str) -> str | None:
    spec = plan.connections.get(connection)
    return spec.type if spec else None


def _ordered(states: Iterable[str]) -> list[str]:
    return sorted(states, key=lambda s: (STATES.index(s) if s in STATES else len(STATES), s))


def _share(row: dict[str, Any]) -> dict[str, Any]:
    return {"step": row["step"], "source_path": row["source_path"],
            "target_name": row["target_name"], "state": row["state"], "shares": row["notes"],
            "to_do": any(row.get("notes_to_do") or ())}


def _post(row: dict[str, Any]) -> dict[str, Any]:
    name = row["target_name"] or ""
    return {"step": row["step"], "source_path": row["source_path"],
            "original_url": name if name.startswith(("http://", "https://")) else None,
            "target_url": row["target_url"], "parts": row["parts"]}


def _failure(row: dict[str, Any]) -> dict[str, Any]:
    message = row["last_error"] or row["reason"] or ""
    return {"step": row["step"], "source_path": row["source_path"],
            "target_name": row["target_name"], "state": row["state"], "count": 1,
            "error_kind": row["error_kind"], "message": message,
            "next_step": advice_for(row["state"], row["error_kind"])}


def _member_failures(members: list[dict[str, Any]], redact: Redact) -> list[dict[str, Any]]:
    """Members that failed, grouped by (masked) message: counts, never a list of people."""
    groups: Counter[tuple[str, str, str, str | None]] = Counter()
    for row in members:
        if row["state"] in ("failed", "intent", "planned"):
            message = mask_addresses(redact(row["last_error"] or row["reason"] or ""))
            groups[(row["step"], row["state"], message, row["error_kind"])] += 1
    return [{"step": step, "source_path": None, "target_name": None, "state": state,
             "count": n, "error_kind": kind, "message": message,
             "next_step": advice_for(state, kind)}
            for (step, state, message, kind), n in sorted(groups.items(), key=str)]


def _member_skips(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members skipped, by step and (masked) reason: counts only."""
    groups: Counter[tuple[str, str]] = Counter()
    refused: set[tuple[str, str]] = set()
    for row in members:
        if row["state"] == "skipped":
            key = (row["step"], mask_addresses(row["last_error"] or row["reason"] or ""))
            groups[key] += 1
            if row["last_error"] or row.get("reason_to_do"):  # the target said no
                refused.add(key)
    return [{"step": step, "reason": reason, "count": n, "refused": (step, reason) in refused}
            for (step, reason), n in sorted(groups.items())]


def _grouped(reconciliations: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps that export one audience share one reconciliation: shown once, naming them all."""
    groups: list[dict[str, Any]] = []
    for step, rec in reconciliations.items():
        same = next((g for g in groups if (g["rows"], g["notes"], g["problems"])
                     == (rec["rows"], rec["notes"], rec["problems"])), None)
        if same is None:
            groups.append({"steps": [step], "rows": rec["rows"], "notes": rec["notes"],
                           "problems": rec["problems"]})
        else:
            same["steps"].append(step)
    return groups


def _masked_reconciliation(rec: dict[str, Any], redact: Redact) -> dict[str, Any]:
    """Counts as they are; notes and problems with every address masked."""
    return {**rec, "notes": [mask_addresses(redact(n)) for n in rec.get("notes", [])],
            "problems": [mask_addresses(redact(p)) for p in rec.get("problems", [])]}


def mask_addresses(text: str) -> str:
    """`jeanne.dupont@asso.org` → `j…@asso.org`: enough to recognise a row, not to reuse it."""
    return ADDRESS.sub(lambda m: m.group(0)[0] + "…@" + m.group(0).rsplit("@", 1)[1], text)


def _without_suppressed(data: Any, suppressed: set[str]) -> Any:
    """The last guard: any address on the suppression list, wherever it hides, is replaced."""
    if not suppressed:
        return data
    if isinstance(data, str):
        return ADDRESS.sub(lambda m: _unless_suppressed(m.group(0), suppressed), data)
    if isinstance(data, dict):
        return {k: _without_suppressed(v, suppressed) for k, v in data.items()}
    if isinstance(data, list):
        return [_without_suppressed(v, suppressed) for v in data]
    return data


def _unless_suppressed(address: str, suppressed: set[str]) -> str:
    # A quote before the address ('jo@x.fr') is allowed in a local part: try without it too.
    for candidate in dict.fromkeys((address, address.lstrip("'`"))):
        try:
            digest = address_hash(address_key(candidate))
        except InvalidAddressError:
            continue
        if digest in suppressed:
            return _("[an address on the suppression list]")
    return address
