"""Pioneers: the first change under each folder the target does not have yet, written before
the others so that no two workers create one folder at once (decision 0902)."""

from __future__ import annotations

from migrate.model import Change


def pioneers(pending: list[Change], folders: set[str]) -> tuple[list[list[Change]],
                                                                 list[Change]]:
    """Pioneers by level, and the other changes (see `levels_of`)."""
    levels, rest = levels_of(pending, folders)
    return [level for _depth, level in levels], rest


def levels_of(pending: list[Change], folders: set[str]) -> tuple[list[tuple[int, list[Change]]],
                                                               list[Change]]:
    """Pioneers by level (with its depth), and the other changes.

    Each folder the target does not have yet gets one pioneer: the first change under it, at
    any depth. A pioneer's level is the depth of the shallowest folder it opens. Two workers
    creating one folder at the same moment make some servers answer 403 to one of them
    (Apache's mod_dav did, in the fleet benchmark), where one process serialises its own
    MKCOLs: `phases` says which pioneers may run side by side."""
    level_of: dict[int, int] = {}  # id(change) -> its level
    opened = set(folders)
    for change in pending:
        parts = change.target_name.split("/")[:-1]
        for depth in range(len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in opened:
                opened.add(folder)
                level_of[id(change)] = min(level_of.get(id(change), depth), depth)
    levels: list[list[Change]] = [[] for _ in range(max(level_of.values(), default=-1) + 1)]
    rest = []
    for change in pending:
        if id(change) in level_of:
            levels[level_of[id(change)]].append(change)
        else:
            rest.append(change)
    return [(depth, level) for depth, level in enumerate(levels) if level], rest


def phases(levels: list[tuple[int, list[Change]]], width: int,
           size: int) -> list[list[list[Change]]]:
    """The pioneers' batches, in phases run one after another, a phase's batches side by side.

    The first levels run one after another, each spread over `width` batches: they open
    folders in disjoint subtrees, whose ancestors earlier levels opened. As soon as the
    pioneers left (this level and deeper) fall in `width` subtrees or more, by their folder at
    this level's depth, they all run in one last phase, one subtree's pioneers in one batch in
    the order of their levels: a subtree's folders are opened by its batch alone. (Level by
    level to the bottom, a 20-files-a-folder tree spent a third of a fleet run in its ~6
    levels of small batches, each waiting for the one before.)"""
    found: list[list[list[Change]]] = []
    for index, (depth, level) in enumerate(levels):
        left = [change for _depth, later in levels[index:] for change in later]
        subtrees: dict[str, list[Change]] = {}
        for change in left:
            subtrees.setdefault("/".join(change.target_name.split("/")[:depth]),
                                []).append(change)
        if len(subtrees) >= width or index == len(levels) - 1:
            found.append(pack(list(subtrees.values()), min(size, -(-len(left) // width))))
            break
        wide = min(size, -(-len(level) // width))
        found.append([level[i:i + wide] for i in range(0, len(level), wide)])
    return found


def pack(groups: list[list[Change]], size: int) -> list[list[Change]]:
    """Whole groups into batches of about `size` changes (a larger group is a batch alone)."""
    batches: list[list[Change]] = []
    for group in groups:
        if batches and len(batches[-1]) + len(group) <= size:
            batches[-1] = batches[-1] + group
        else:
            batches.append(list(group))
    return batches
