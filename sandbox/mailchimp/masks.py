"""Mailchimp's `fields` and `exclude_fields` query parameters.

Both take comma-separated dotted paths; the first segment of a collection path names the
collection key (`members.email_address`), and a path through an array applies to every element.
"""

from __future__ import annotations

from typing import Any

Tree = dict[str, "Tree"]


def parse_paths(value: str | None) -> Tree:
    """Turn "members.email_address,total_items" into a nested tree of keys."""
    tree: Tree = {}
    for path in (value or "").split(","):
        node = tree
        for part in filter(None, path.strip().split(".")):
            node = node.setdefault(part, {})
    return tree


def include(document: Any, tree: Tree) -> Any:
    """Keep only the paths in `tree`; a leaf keeps the whole value under it."""
    if not tree:
        return document
    if isinstance(document, list):
        return [include(item, tree) for item in document]
    if not isinstance(document, dict):
        return document
    return {key: include(document[key], sub) for key, sub in tree.items() if key in document}


def exclude(document: Any, tree: Tree) -> Any:
    """Drop the paths in `tree`; everything else is kept."""
    if not tree:
        return document
    if isinstance(document, list):
        return [exclude(item, tree) for item in document]
    if not isinstance(document, dict):
        return document
    result = {}
    for key, value in document.items():
        if key not in tree:
            result[key] = value
        elif tree[key]:
            result[key] = exclude(value, tree[key])
    return result


def apply_masks(document: Any, fields: str | None, exclude_fields: str | None) -> Any:
    """Apply `fields` first, then `exclude_fields`, as Mailchimp does when both are given."""
    return exclude(include(document, parse_paths(fields)), parse_paths(exclude_fields))
