"""The sections of a handover report, in order, with their anchors: one list for md and html,
so both formats have the same table of contents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrate.i18n import _, number


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    count: int | None = None  # shown after the title when it is a list

    @property
    def heading(self) -> str:
        return self.title if self.count is None else f"{self.title} ({number(self.count)})"


def sections(data: dict[str, Any]) -> list[Section]:
    """The sections this report has (an empty list is left out, except the summary)."""
    member_lists = bool(data["reconciliations"] or data["member_skips"])
    labels = data.get("labels") or {"shares_from": "?", "shares_to": "?", "posts_to": "?"}
    candidates = [
        (True, Section("summary", _("Summary"))),
        (bool(data["step_details"]), Section("steps", _("What moved, step by step"))),
        (bool(data["share_map"]), Section("shares", _("Share map: {source} to {target}").format(
            source=labels["shares_from"], target=labels["shares_to"]), len(data["share_map"]))),
        (bool(data["post_map"] or data.get("post_counts")),
         Section("posts", _("Post map: original → {target}").format(target=labels["posts_to"]),
                 len(data["post_map"]))),
        (member_lists, Section("mailing", _("Mailing lists: reconciliation"))),
        (bool(data["renamed"]), Section("renamed", _("Renamed"), len(data["renamed"]))),
        (bool(data["skipped"]), Section("skipped", _("Skipped"), len(data["skipped"]))),
        (bool(data["conflicts"]), Section("conflicts", _("In conflict — not overwritten"),
                                          len(data["conflicts"]))),
        (bool(data["stale"]), Section("stale", _("Stale — the saved plan no longer matched"),
                                      len(data["stale"]))),
        (bool(data["failures"]), Section("failures", _("Failed or unfinished — what to do "
                                                       "next"),
                                         sum(f["count"] for f in data["failures"]))),
        (bool(data["done"]), Section("done", _("Done"), len(data["done"]))),
        (True, Section("about", _("About this report"))),
    ]
    return [section for present, section in candidates if present]


def state_label(state: str) -> str:
    """A journal state in words."""
    labels = {"done": _("done"), "seen": _("marked as seen"), "skipped": _("skipped"),
              "conflict": _("in conflict"), "stale": _("stale"), "failed": _("failed"),
              "intent": _("interrupted"), "planned": _("not started")}
    return labels.get(state, state)


def action_label(action: str | None) -> str:
    """What was done to a done item, in words: created, updated."""
    labels = {"create": _("created"), "update": _("updated"), "unchanged": _("unchanged")}
    return labels.get(action or "", action or "")
