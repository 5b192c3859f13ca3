"""The handover report as Markdown: same sections as the HTML page, long lists capped with
"… and N more" (the JSON report lists everything)."""

from __future__ import annotations

from typing import Any

from migrate.i18n import _, ngettext
from migrate.post_counts import post_count_from_json, post_count_lines
from migrate.report.format import (
    moment,
    number,
    reconciliation_headers,
    reconciliation_rows,
    size,
)
from migrate.report.sections import Section, action_label, sections, state_label

#: Rows listed per section before the rest are only counted.
LISTED = 50
#: Done items are many and matter less one by one.
DONE_LISTED = 200


def render(data: dict[str, Any]) -> str:
    found = sections(data)
    out = [f"# {_('Migration report')} — {data['organisation']}", "", generated_line(data), "",
           "**" + _("{label}:").format(label=_("Contents")) + "** "
           + " · ".join(f"[{s.title}](#{s.anchor})" for s in found)]
    for section in found:
        out += ["", f'<a id="{section.anchor}"></a>', "", f"## {section.heading}", ""]
        out += _BODIES[section.anchor](data, section)
    return "\n".join(out).rstrip("\n") + "\n"


def generated_line(data: dict[str, Any]) -> str:
    return _("Generated {when} by Transhumance {version}; plan {plan} (sha256 {digest}).").format(
        when=moment(data["generated"]), version=data["tool_version"], plan=data["plan_name"],
        digest=data["plan_sha256"][:12])


def _code(text: str | None) -> str:
    """Inline code that survives backticks and table pipes in names."""
    value = (text or "").replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in value else "`"
    return f"{fence}{value}{fence}" if value else "—"


def _text(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _capped(rows: list[str], total: int, limit: int = LISTED) -> list[str]:
    if total <= limit:
        return rows
    return [*rows[:limit], "- " + _("… and {n} more (the JSON report lists every item)").format(
        n=number(total - limit))]


def _summary(data: dict[str, Any], _section: Section) -> list[str]:
    out = [f"| {_('step')} | {_('state')} | {_('items')} | {_('size')} |", "|---|---|---:|---:|"]
    for step in data["step_details"]:
        out += [f"| {step['id']} | {state_label(s)} | {number(n)} | "
                f"{size(step['sizes'].get(s))} |" for s, n in step["counts"].items()]
    out += ["", "**" + _("{label}: {n}").format(label=_("To look at"),
                                             n=number(data["to_look_at"])) + "**", ""]
    if data["attention"]:
        out += [f"| {_('how many')} | {_('what')} | {_('what to do')} |", "|---:|---|---|"]
        out += [f"| {number(a['count'])} | {_text(a['text'])} | {_text(a['todo'])} "
                f"([{_('see below')}](#{a['anchor']})) |" for a in data["attention"]]
    if data["next_steps"] or not data["attention"]:
        out += ["", "**" + _("{label}:").format(label=_("What to do next")) + "**", ""]
        out += [f"- {line}" for line in data["next_steps"]] or [
            "- " + _("Nothing: everything planned was migrated.")]
    return out


def _steps(data: dict[str, Any], _section: Section) -> list[str]:
    out = [f"| {_('step')} | {_('from')} | {_('to')} | {_('moved')} | {_('size moved')} | "
           f"{_('other')} |", "|---|---|---|---:|---:|---|"]
    for step in data["step_details"]:
        others = ", ".join(f"{state_label(s)} {number(n)}" for s, n in step["counts"].items()
                           if s != "done")
        out.append(f"| {step['id']} | {_code(step['from'])} | {_code(step['to'])} | "
                   f"{number(step['counts'].get('done', 0))} | "
                   f"{size(step['sizes'].get('done'))} | {others or '—'} |")
    return out


def _shares(data: dict[str, Any], _section: Section) -> list[str]:
    rows = [f"- {_code(r['source_path'])} → {_code(r['target_name'])}: "
            f"{'; '.join(r['shares'])}" for r in data["share_map"]]
    return _capped(rows, len(rows))


def _posts(data: dict[str, Any], _section: Section) -> list[str]:
    out: list[str] = []
    for step, count in (data.get("post_counts") or {}).items():
        out += [f"### {step}", "", "```",
                *post_count_lines(post_count_from_json(count)), "```", ""]
    rows = [f"- {r['original_url'] or _code(r['source_path'])} → {r['target_url']}"
            for r in data["post_map"]]
    return out + _capped(rows, len(rows))


def _mailing(data: dict[str, Any], _section: Section) -> list[str]:
    out = [_("Counts only: this report never lists members, nor any address on the "
             "suppression list."), ""]
    for group in data["reconciliation_groups"]:
        out += [f"### {', '.join(group['steps'])}", "",
                "| " + " | ".join(reconciliation_headers()) + " |",
                "|---|---:|---:|---:|---:|---:|"]
        out += ["| " + " | ".join(_text(c) for c in row) + " |"
                for row in reconciliation_rows(group)]
        out += [""] + [f"- {_text(n)}" for n in group["notes"]]
        out += [f"- {_('DOES NOT ADD UP: {p}').format(p=_text(p))}" for p in group["problems"]]
        out.append("")
    for skip in data["member_skips"]:
        out.append("- " + ngettext("{step}: {n} member not imported: {reason}",
                                   "{step}: {n} members not imported: {reason}",
                                   skip["count"]).format(
            step=skip["step"], n=number(skip["count"]), reason=skip["reason"]))
    return out


def _renamed(data: dict[str, Any], _section: Section) -> list[str]:
    rows = [f"- {_code(r['source_path'])} → {_code(r['target_name'])}: {r['rename_reason']}"
            for r in data["renamed"]]
    return _capped(rows, len(rows))


def _reasoned(key: str) -> Any:
    def body(data: dict[str, Any], _section: Section) -> list[str]:
        rows = [f"- {_code(r['source_path'])}: {_text(r['last_error'] or r['reason'])}"
                for r in data[key]]
        return _capped(rows, len(rows))
    return body


def _failures(data: dict[str, Any], _section: Section) -> list[str]:
    rows = []
    for failure in data["failures"]:
        what = (_code(failure["source_path"]) if failure["source_path"] is not None else
                ngettext("{n} member", "{n} members", failure["count"]).format(
                    n=number(failure["count"])))
        rows.append(f"- {what} ({failure['step']}, {state_label(failure['state'])}): "
                    f"{_text(failure['message'])} — **{failure['next_step']}**")
    return _capped(rows, len(rows))


def _done(data: dict[str, Any], _section: Section) -> list[str]:
    rows = [f"- {_code(r['target_name'])} ({action_label(r['action'])}, {size(r['size'])})"
            for r in data["done"]]
    return _capped(rows, len(rows), DONE_LISTED)


def _about(data: dict[str, Any], _section: Section) -> list[str]:
    run = data["last_run"] or {}
    return [f"- {_('Organisation')}: {data['organisation']}",
            f"- {_('Generated')}: {moment(data['generated'])}",
            f"- {_('Tool version')}: Transhumance {data['tool_version']}",
            f"- {_('Plan')}: {_code(data['plan_name'])}, sha256 {_code(data['plan_sha256'])}",
            f"- {_('Last run')}: {moment(run.get('started'))} → {moment(run.get('finished'))}"
            f" ({run.get('outcome') or _('unfinished')})"]


_BODIES = {"summary": _summary, "steps": _steps, "shares": _shares, "posts": _posts,
           "mailing": _mailing, "renamed": _renamed, "skipped": _reasoned("skipped"),
           "conflicts": _reasoned("conflicts"), "stale": _reasoned("stale"),
           "failures": _failures, "done": _done, "about": _about}
