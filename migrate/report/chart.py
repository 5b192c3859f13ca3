"""A small inline SVG chart for the report: one bar per step, split by state.

Each bar is the step's whole (100 %), so a 20-post step reads as well as a 5,000-member one;
the count and the size moved are written beside it. Plain SVG in HTML: no script, no font or
image to fetch, prints as vectors.
"""

from __future__ import annotations

import html
from typing import Any

from migrate.i18n import _
from migrate.report.format import number, size
from migrate.report.sections import state_label

COLOURS = {"done": "#2da44e", "seen": "#8c959f", "skipped": "#afb8c1", "conflict": "#d4a72c",
           "stale": "#bc4c00", "failed": "#cf222e", "intent": "#8250df", "planned": "#54aeff"}
WIDTH, LABEL, BAR, ROW = 760, 150, 400, 30

e = html.escape


def chart(steps: list[dict[str, Any]]) -> str:
    """The SVG element (empty string when there is nothing to draw)."""
    if not steps:
        return ""
    height = ROW * len(steps) + 8
    title = _("Items per step, by state")
    parts = [f'<svg viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
             f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>']
    for row, step in enumerate(steps):
        y = 4 + row * ROW
        total = sum(step["counts"].values()) or 1
        parts.append(f'<text x="{LABEL - 8}" y="{y + 16}" text-anchor="end" font-size="13" '
                     f'fill="#1d1d1f">{e(_short(step["id"]))}</text>')
        x = float(LABEL)
        for state, count in step["counts"].items():
            width = BAR * count / total
            label = f"{step['id']}: {state_label(state)} {number(count)}"
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{max(width, 0.8):.1f}" height="22" '
                         f'fill="{COLOURS.get(state, "#6e7781")}"><title>{e(label)}</title>'
                         "</rect>")
            x += width
        moved = step["sizes"].get("done")
        note = _("{n} items").format(n=number(sum(step["counts"].values())))
        if moved:
            note += " · " + _("{size} moved").format(size=size(moved))
        parts.append(f'<text x="{LABEL + BAR + 8}" y="{y + 16}" font-size="12" '
                     f'fill="#444">{e(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(steps: list[dict[str, Any]]) -> str:
    """The colours of the states present, as HTML (kept out of the SVG so it wraps)."""
    present = {state for step in steps for state in step["counts"]}
    return "".join(f'<span><i style="background:{colour}"></i>{e(state_label(state))}</span>'
                   for state, colour in COLOURS.items() if state in present)


def _short(name: str, limit: int = 20) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
