"""Post reconciliation: every entry of a post source is accounted for, as members are.

A post source (`ItemKind.POST`) says in its `PostTally` how many entries its export holds and
how many it folded into another post (LinkedIn writes one row per picture of a post). After the
diff, the core checks that

    entries in the source = to post + already on the target + skipped (by reason)
                            + in conflict + merged

and shows the sum under the step in `migrate plan` (and `--json`). Statuses a source adds to
carry the pictures a status cannot hold (`PostMeta.part_of`) are counted apart: they are not
entries of the export. Pictures missing from the export (`media[i]["missing"]`) are counted
per step, so a volunteer knows before anything is posted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from migrate.i18n import _, ngettext, number
from migrate.item_meta import post_of
from migrate.model import Action, Change, ItemKind


@dataclass
class PostTally:
    """What a post source says about itself: `entries` in its files (rows, tweets, feed
    entries), `merged` entries folded into another post, and `notes` (plain sentences)."""

    entries: int = 0
    merged: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class PostCount:
    """One step's posts: the source's count against what the plan does with each."""

    step: str
    source: int | None
    to_post: int = 0
    already_there: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    merged: int = 0
    extra_statuses: int = 0
    missing_pictures: int = 0
    posts_missing_pictures: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def accounted(self) -> int:
        return (self.to_post + self.already_there + sum(self.skipped.values())
                + self.conflicts + self.merged)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "accounted": self.accounted()}


def count_posts(step: str, changes: Iterable[Change], tally: PostTally | None
                ) -> PostCount | None:
    """Count a step's posts by outcome; None for steps without posts."""
    posts = [c for c in changes if c.item.kind is ItemKind.POST]
    if not posts and tally is None:
        return None
    count = PostCount(step, tally.entries if tally is not None else None,
                      merged=tally.merged if tally is not None else 0,
                      notes=list(tally.notes) if tally is not None else [])
    skipped: Counter[str] = Counter()
    for change in posts:
        post = post_of(change.item)
        missing = sum(1 for m in post.media if m.get("missing"))
        count.missing_pictures += missing
        count.posts_missing_pictures += 1 if missing else 0
        if post.part_of:
            count.extra_statuses += change.action.writes
            continue
        if change.action.writes:
            count.to_post += 1
        elif change.action is Action.UNCHANGED:
            count.already_there += 1
        elif change.action is Action.CONFLICT:
            count.conflicts += 1
        else:
            skipped[change.reason] += 1
    count.skipped = dict(skipped.most_common())
    if count.source is not None and count.source != count.accounted():
        count.problems.append(_("the source holds {n} posts but {m} are accounted for").format(
            n=number(count.source), m=number(count.accounted())))
    return count


def post_count_lines(count: PostCount) -> list[str]:
    """The lines a plan shows for one step's posts."""
    source = "?" if count.source is None else number(count.source)
    lines = ["  " + _("Posts in the source: {source} = {post} to post + {there} already there "
                      "+ {skipped} skipped + {conflicts} in conflict + {merged} merged").format(
        source=source, post=number(count.to_post), there=number(count.already_there),
        skipped=number(sum(count.skipped.values())), conflicts=number(count.conflicts),
        merged=number(count.merged))]
    lines += ["    " + _("{n} skipped: {reason}").format(n=number(n), reason=reason)
              for reason, n in count.skipped.items()]
    if count.missing_pictures:
        lines.append("    " + ngettext(
            "{n} picture is missing from the export: its post goes without it, or is skipped "
            "when nothing else is left to post",
            "{n} pictures are missing from the export, in {posts} posts: they go without them, "
            "or are skipped when nothing else is left to post", count.missing_pictures).format(
                n=number(count.missing_pictures), posts=number(count.posts_missing_pictures)))
    if count.extra_statuses:
        lines.append("    " + ngettext(
            "{n} more status carries the pictures a post has beyond what one status holds",
            "{n} more statuses carry the pictures posts have beyond what one status holds",
            count.extra_statuses).format(n=number(count.extra_statuses)))
    lines += ["    " + note for note in count.notes]
    lines += ["    " + _("DOES NOT ADD UP: {p}").format(p=p) for p in count.problems]
    return lines


def post_count_from_json(data: Mapping[str, Any]) -> PostCount:
    fields = {k: v for k, v in data.items() if k != "accounted"}
    return PostCount(**fields)
