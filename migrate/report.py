"""Reports read only the journal: what was done, renamed, skipped, in conflict, failed, and why.

Every text that goes into a report passes the redactor, and no report reads a connection's
options, so secrets cannot reach one.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from migrate import __version__
from migrate.consent import Reconciliation, reconciliation_lines
from migrate.i18n import _
from migrate.journal import Journal
from migrate.plan import Plan

#: Done items listed one by one in md/html before the rest are only counted (JSON lists all).
DONE_LISTED = 200

_SECTIONS = (
    ("failed", "Failed — what to do next", "last_error"),
    ("conflict", "In conflict — not overwritten", "reason"),
    ("stale", "Stale — the saved plan no longer matched", "reason"),
    ("skipped", "Skipped", "reason"),
    ("planned", "Not finished yet", "last_error"),
    ("intent", "Interrupted, to be checked on the next run", "reason"),
)


def collect(plan: Plan, journal: Journal, redact: Callable[[str], str]) -> dict[str, Any]:
    rows = [{k: redact(v) if isinstance(v, str) else v for k, v in row.items()}
            for row in journal.rows()]
    for row in rows:
        row.pop("target_ref", None)
    steps: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        steps[row["step"]][row["state"]] += 1
    return {
        "organisation": plan.organisation,
        "plan": str(plan.path),
        "plan_sha256": plan.digest,
        "tool_version": __version__,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "last_run": journal.last_run(),
        "steps": {step: dict(counts) for step, counts in steps.items()},
        "renamed": [r for r in rows if r["rename_reason"]],
        "noted": [r for r in rows if r["notes"]],
        "reconciliations": journal.reconciliations(),
        "items": rows,
    }


def _generated_line(data: dict[str, Any]) -> str:
    return _("Generated {when} by Transhumance {version}; plan {plan} (sha256 {digest}).").format(
        when=data["generated"], version=data["tool_version"], plan=data["plan"],
        digest=data["plan_sha256"][:12])


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def as_markdown(data: dict[str, Any]) -> str:
    out = [f"# {_('Migration report')} — {data['organisation']}", "",
           _generated_line(data), "", f"## {_('Summary')}", "",
           f"| {_('step')} | {_('state')} | {_('items')} |", "|---|---|---:|"]
    for step, counts in data["steps"].items():
        out += [f"| {step} | {_(state)} | {n:,} |" for state, n in sorted(counts.items())]
    out += _reconciliation_markdown(data)
    done = [r for r in data["items"] if r["state"] == "done"]
    out += ["", f"## {_('Done')} ({len(done):,})", ""]
    out += [f"- `{r['target_name']}` ({_(r['action'] or '')})" for r in done[:DONE_LISTED]]
    if len(done) > DONE_LISTED:
        out.append("- " + _("… and {n} more (the JSON report lists every item)").format(
            n=f"{len(done) - DONE_LISTED:,}"))
    if data["renamed"]:
        out += ["", f"## {_('Renamed')} ({len(data['renamed']):,})", ""]
        out += [f"- `{r['source_path']}` → `{r['target_name']}`: {r['rename_reason']}"
                for r in data["renamed"]]
    if data["noted"]:
        out += ["", f"## {_('Notes')} ({len(data['noted']):,})", ""]
        out += [f"- `{r['target_name']}`: {'; '.join(r['notes'])}" for r in data["noted"]]
    for state, title, field in _SECTIONS:
        rows = [r for r in data["items"] if r["state"] == state]
        if rows:
            out += ["", f"## {_(title)} ({len(rows):,})", ""]
            out += [f"- `{r['source_path']}`: {r[field] or r['reason'] or ''}" for r in rows]
    return "\n".join(out) + "\n"


def _reconciliation_markdown(data: dict[str, Any]) -> list[str]:
    """Mailing-list steps: the counts per status checked before apply, repeated here."""
    out: list[str] = []
    for step, rec in (data.get("reconciliations") or {}).items():
        out += ["", f"## {_('Reconciliation')} — {step}", "", "```",
                *reconciliation_lines(Reconciliation.from_json(rec)), "```"]
    return out


def as_html(data: dict[str, Any]) -> str:
    """A self-contained page: no external assets, readable printed."""
    e = html.escape
    body = [f"<h1>{e(_('Migration report'))} — {e(data['organisation'])}</h1>",
            f"<p class=meta>{e(_generated_line(data))}</p>",
            f"<h2>{e(_('Summary'))}</h2><table><tr><th>{e(_('step'))}</th>"
            f"<th>{e(_('state'))}</th><th>{e(_('items'))}</th></tr>"]
    for step, counts in data["steps"].items():
        body += [f"<tr><td>{e(step)}</td><td>{e(_(s))}</td><td class=n>{n:,}</td></tr>"
                 for s, n in sorted(counts.items())]
    body.append("</table>")
    if data.get("reconciliations"):
        body.append(f"<h2>{e(_('Reconciliation'))}</h2><pre>"
                    f"{e(chr(10).join(_reconciliation_markdown(data)))}</pre>")
    if data["renamed"]:
        body.append(f"<h2>{e(_('Renamed'))} ({len(data['renamed']):,})</h2><ul>")
        body += [f"<li><code>{e(r['source_path'])}</code> → <code>{e(r['target_name'])}</code>: "
                 f"{e(r['rename_reason'])}</li>" for r in data["renamed"]]
        body.append("</ul>")
    if data["noted"]:
        body.append(f"<h2>{e(_('Notes'))} ({len(data['noted']):,})</h2><ul>")
        body += [f"<li><code>{e(r['target_name'])}</code>: {e('; '.join(r['notes']))}</li>"
                 for r in data["noted"]]
        body.append("</ul>")
    for state, title, field in _SECTIONS:
        rows = [r for r in data["items"] if r["state"] == state]
        if rows:
            body.append(f"<h2>{e(_(title))} ({len(rows):,})</h2><ul>")
            body += [f"<li><code>{e(r['source_path'] or '')}</code>: "
                     f"{e(r[field] or r['reason'] or '')}</li>" for r in rows]
            body.append("</ul>")
    style = ("body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;"
             "padding:0 1em;color:#222}table{border-collapse:collapse}td,th{border:1px solid "
             "#ccc;padding:.2em .6em}.n{text-align:right}.meta{color:#555}code{font-size:.95em}")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>"
            f"{e(_('Migration report'))} — {e(data['organisation'])}</title><style>{style}"
            f"</style></head><body>{''.join(body)}</body></html>\n")


FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "md": as_markdown, "html": as_html, "json": as_json}
