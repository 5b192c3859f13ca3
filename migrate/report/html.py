"""The handover report as one self-contained HTML page: inline CSS, an inline SVG chart, no
script, no external asset; long lists folded in `<details>` (no JS needed); printable (print
CSS, page breaks, light background). The only links leaving the page are the migrated items'
own addresses (the post map)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from migrate.i18n import _, ngettext
from migrate.post_counts import post_count_from_json, post_count_lines
from migrate.report.chart import chart, legend
from migrate.report.format import (
    moment,
    number,
    reconciliation_headers,
    reconciliation_rows,
    size,
)
from migrate.report.markdown import generated_line
from migrate.report.sections import action_label, sections, state_label

#: Rows shown before the rest of a list is folded into `<details>`.
SHOWN = 15

e = html.escape

STYLE = """
:root{color-scheme:light}
body{font:15px/1.5 system-ui,"Segoe UI",Roboto,sans-serif;max-width:62em;margin:2em auto;
padding:0 1.2em;color:#1d1d1f;background:#fff}
h1{font-size:1.7em;margin:.2em 0}h2{margin-top:2em;border-bottom:2px solid #d8dee4;
padding-bottom:.2em}h3{margin-bottom:.3em}
.meta{color:#555}nav.toc{background:#f5f7f9;border:1px solid #d8dee4;border-radius:6px;
padding:.6em 1em}nav.toc ol{margin:.3em 0;padding-left:1.4em;columns:2}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #d0d7de;
padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f0f3f6}
td.n,th.n{text-align:right;white-space:nowrap}
code{font-size:.92em;overflow-wrap:break-word;word-break:normal}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}.card{border:1px solid #d0d7de;
border-radius:6px;padding:.5em 1em;min-width:9em}.card b{display:block;font-size:1.5em}
.next{border-left:4px solid #bf8700;background:#fff8c5;padding:.4em 1em}
.ok{border-left:4px solid #1a7f37;background:#dafbe1;padding:.4em 1em}
.advice{font-weight:600}details{margin:.4em 0}summary{cursor:pointer;color:#0550ae}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6em;white-space:pre-wrap;
word-break:break-word}
svg{max-width:100%;height:auto}.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;
-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:#0550ae}
@media print{body{margin:0;max-width:none;font-size:11pt}nav.toc ol{columns:2}
h2{break-before:auto;break-after:avoid}table,figure,.cards,pre{break-inside:avoid}
tr{break-inside:avoid}details>summary{color:#555}a{color:#1d1d1f}
#failures,#mailing,#done{break-before:page}@page{margin:1.6cm}}
"""


def render(data: dict[str, Any]) -> str:
    found = sections(data)
    title = f"{_('Migration report')} — {data['organisation']}"
    toc = "".join(f'<li><a href="#{s.anchor}">{e(s.heading)}</a></li>' for s in found)
    body = [f"<header><h1>{e(title)}</h1><p class=meta>{e(generated_line(data))}</p></header>",
            f'<nav class=toc aria-label="{e(_("Contents"))}"><b>{e(_("Contents"))}</b>'
            f"<ol>{toc}</ol></nav>"]
    for section in found:
        body.append(f'<section id="{section.anchor}"><h2>{e(section.heading)}</h2>'
                    f"{_BODIES[section.anchor](data)}</section>")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f'<meta name=viewport content="width=device-width,initial-scale=1">'
            f"<title>{e(title)}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def _table(headers: list[str], rows: list[list[str]], numeric: frozenset[int] = frozenset()
           ) -> str:
    """A table whose rows beyond SHOWN fold into `<details>`; cells are already HTML."""
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{e(h)}</th>"
                   for i, h in enumerate(headers))

    def block(part: list[list[str]]) -> str:
        lines = "".join("<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{c}</td>"
                                         for i, c in enumerate(row)) + "</tr>" for row in part)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"

    if len(rows) <= SHOWN:
        return block(rows)
    more = _("Show the other {n}").format(n=number(len(rows) - SHOWN))
    return (block(rows[:SHOWN]) + f"<details><summary>{e(more)}</summary>"
            f"{block(rows[SHOWN:])}</details>")


def _code(text: str | None) -> str:
    return f"<code>{e(text)}</code>" if text else "—"


def _link(url: str | None) -> str:
    if not url or not url.startswith(("http://", "https://")):
        return e(url or "—")
    return f'<a href="{e(url)}" rel="noopener">{e(url)}</a>'


def _summary(data: dict[str, Any]) -> str:
    details = data["step_details"]
    moved = sum(s["counts"].get("done", 0) for s in details)
    moved_size = sum(s["sizes"].get("done", 0) for s in details)
    skipped = sum(s["counts"].get("skipped", 0) for s in details)
    cards = [(number(moved), _("items moved")), (size(moved_size), _("moved in all")),
             (number(skipped), _("skipped, with a reason")),
             (number(data["to_look_at"]), _("to look at"))]
    out = ["<div class=cards>" + "".join(f"<div class=card><b>{e(v)}</b>{e(label)}</div>"
                                         for v, label in cards) + "</div>"]
    if data["attention"]:
        rows = [[e(number(a["count"])), e(a["text"]),
                 f'{e(a["todo"])} <a href="#{e(a["anchor"])}">{e(_("see below"))}</a>']
                for a in data["attention"]]
        out.append(f"<h3 id=look>{e(_('To look at'))}</h3>"
                   + _table([_("how many"), _("what"), _("what to do")], rows, frozenset({0})))
    if data["next_steps"]:
        items = "".join(f"<li>{e(line)}</li>" for line in data["next_steps"])
        out.append(f"<div class=next><b>{e(_('What to do next'))}</b><ul>{items}</ul></div>")
    elif not data["attention"]:
        out.append(f"<p class=ok>{e(_('Nothing to do: everything planned was migrated.'))}</p>")
    return "".join(out)


def _steps(data: dict[str, Any]) -> str:
    rows = []
    for step in data["step_details"]:
        others = ", ".join(f"{state_label(s)} {number(n)}" for s, n in step["counts"].items()
                           if s != "done")
        rows.append([e(step["id"]), _code(step["from"]), _code(step["to"]),
                     e(number(step["counts"].get("done", 0))),
                     e(size(step["sizes"].get("done"))), e(others or "—")])
    figure = (f"<figure>{chart(data['step_details'])}<figcaption class=legend>"
              f"{legend(data['step_details'])}</figcaption></figure>")
    return figure + _table([_("step"), _("from"), _("to"), _("moved"), _("size moved"),
                            _("other")], rows, frozenset({3, 4}))


def _shares(data: dict[str, Any]) -> str:
    rows = [[_code(r["source_path"]), _code(r["target_name"]),
             "<br>".join(e(note) for note in r["shares"])] for r in data["share_map"]]
    labels = data.get("labels") or {}
    return _table([_("in {service}").format(service=labels.get("shares_from", "?")),
                   _("in {service}").format(service=labels.get("shares_to", "?")),
                   _("sharing")], rows)


def _posts(data: dict[str, Any]) -> str:
    counts = "".join(
        f"<h3>{e(step)}</h3><pre>"
        f"{e(chr(10).join(post_count_lines(post_count_from_json(count))))}</pre>"
        for step, count in (data.get("post_counts") or {}).items())
    rows = [[_link(r["original_url"]) if r["original_url"] else _code(r["source_path"]),
             _link(r["target_url"])] for r in data["post_map"]]
    on = _("on {service}").format(service=(data.get("labels") or {}).get("posts_to", "?"))
    return counts + (_table([_("original post"), on], rows) if rows else "")


def _mailing(data: dict[str, Any]) -> str:
    note = _("Counts only: this report never lists members, nor any address on the "
             "suppression list.")
    out = [f"<p>{e(note)}</p>"]
    for group in data["reconciliation_groups"]:
        out.append(f"<h3>{e(', '.join(group['steps']))}</h3>")
        out.append(_table(reconciliation_headers(), [[e(c) for c in row] for row in
                                                     reconciliation_rows(group)],
                          frozenset(range(1, 6))))
        notes = [*group["notes"], *(_("DOES NOT ADD UP: {p}").format(p=p)
                                    for p in group["problems"])]
        if notes:
            out.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    if data["member_skips"]:
        rows = [[e(s["step"]), e(number(s["count"])), e(s["reason"])]
                for s in data["member_skips"]]
        out.append(_table([_("step"), _("members"), _("not imported because")], rows,
                          frozenset({1})))
    return "".join(out)


def _renamed(data: dict[str, Any]) -> str:
    rows = [[_code(r["source_path"]), _code(r["target_name"]), e(r["rename_reason"])]
            for r in data["renamed"]]
    return _table([_("original name"), _("new name"), _("why")], rows)


def _reasoned(key: str) -> Callable[[dict[str, Any]], str]:
    def body(data: dict[str, Any]) -> str:
        rows = [[_code(r["source_path"]), e(r["step"]), e(r["last_error"] or r["reason"] or "")]
                for r in data[key]]
        return _table([_("item"), _("step"), _("reason")], rows)
    return body


def _failures(data: dict[str, Any]) -> str:
    rows = []
    for failure in data["failures"]:
        what = (_code(failure["source_path"]) if failure["source_path"] is not None else
                e(ngettext("{n} member", "{n} members", failure["count"]).format(
                    n=number(failure["count"]))))
        rows.append([what, e(f"{failure['step']}, {state_label(failure['state'])}"),
                     e(failure["message"]), f"<span class=advice>{e(failure['next_step'])}"
                                            "</span>"])
    return _table([_("item"), _("step"), _("what happened"), _("what to do next")], rows)


def _done(data: dict[str, Any]) -> str:
    rows = [[_code(r["target_name"]), e(r["step"]), e(action_label(r["action"])),
             e(size(r["size"]))] for r in data["done"]]
    return _table([_("item"), _("step"), _("action"), _("size")], rows, frozenset({3}))


def _about(data: dict[str, Any]) -> str:
    run = data["last_run"] or {}
    facts = [(_("Organisation"), e(data["organisation"])),
             (_("Generated"), e(moment(data["generated"]))),
             (_("Tool version"), e(f"Transhumance {data['tool_version']}")),
             (_("Plan"), _code(data["plan_name"])),
             (_("Plan fingerprint (sha256)"), _code(data["plan_sha256"])),
             (_("Last run"), e(f"{moment(run.get('started'))} → {moment(run.get('finished'))} "
                               f"({run.get('outcome') or _('unfinished')})"))]
    return "<table>" + "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in facts) + \
        "</table>"


_BODIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "summary": _summary, "steps": _steps, "shares": _shares, "posts": _posts,
    "mailing": _mailing, "renamed": _renamed, "skipped": _reasoned("skipped"),
    "conflicts": _reasoned("conflicts"), "stale": _reasoned("stale"), "failures": _failures,
    "done": _done, "about": _about}
