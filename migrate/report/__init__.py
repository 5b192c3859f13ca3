"""Handover reports, read only from the journal: what moved (counts and sizes per step, with a
chart), the share map, the post map, the mailing-list reconciliation, every rename, skip and
conflict with its reason, failures with what to do next, and the date, tool version and plan
hash. The same content in three formats: a self-contained HTML page, Markdown and JSON.

Every text that goes into a report passes the redactor, no report reads a connection's
options, members appear only as counts and no suppressed address ever appears
(see `migrate/report/data.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from migrate.report import html as report_html
from migrate.report import markdown as report_markdown
from migrate.report.data import collect

__all__ = ["FORMATS", "as_html", "as_json", "as_markdown", "collect"]


def as_json(data: dict[str, Any]) -> str:
    """Everything, every item listed (the md and html reports cap long lists)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def as_markdown(data: dict[str, Any]) -> str:
    return report_markdown.render(data)


def as_html(data: dict[str, Any]) -> str:
    """A self-contained page: no external assets, no script, readable printed."""
    return report_html.render(data)


FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "md": as_markdown, "html": as_html, "json": as_json}
