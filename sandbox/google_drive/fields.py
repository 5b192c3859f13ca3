"""Partial responses: parse the `fields` mask, check it against the schema, apply it.

The syntax is Google's: `a,b/c,d(e,f)`, `*`, nesting to any depth, e.g.
`nextPageToken,files(id,name,parents,permissions(role,type))`.
"""

from __future__ import annotations

from typing import Any

from . import discovery
from .errors import DriveApiError

#: A parsed mask: field name -> sub-mask, or None when the whole value is wanted.
Mask = dict[str, "Mask | None"]


def _invalid(text: str) -> DriveApiError:
    return DriveApiError(
        400, "invalidParameter", f"Invalid field selection {text}", location="fields"
    )


def parse_mask(text: str) -> Mask:
    """Parse a `fields` value; 400 invalidParameter on unbalanced or empty selections."""
    mask, rest = _parse_list(text.replace(" ", ""), 0, text)
    if rest != len(text.replace(" ", "")):
        raise _invalid(text)
    return mask


def _parse_list(text: str, position: int, original: str) -> tuple[Mask, int]:
    mask: Mask = {}
    while True:
        start = position
        while position < len(text) and text[position] not in ",()":
            position += 1
        path = text[start:position]
        if not path:
            raise _invalid(original)
        sub: Mask | None = None
        if position < len(text) and text[position] == "(":
            sub, position = _parse_list(text, position + 1, original)
            if position >= len(text) or text[position] != ")":
                raise _invalid(original)
            position += 1
        _merge(mask, path.split("/"), sub)
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return mask, position


def _merge(mask: Mask, names: list[str], sub: Mask | None) -> None:
    head, rest = names[0], names[1:]
    if not head:
        raise _invalid("/".join(names))
    if not rest:
        existing = mask.get(head, {}) if head in mask else {}
        mask[head] = None if sub is None or existing is None else {**existing, **sub}
        return
    child = mask.setdefault(head, {})
    if child is not None:
        _merge(child, rest, sub)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in schema:
            schema = discovery.schema(schema["$ref"])
        elif schema.get("type") == "array":
            schema = schema.get("items", {})
        else:
            return schema


def validate(mask: Mask, schema: dict[str, Any], path: str = "") -> None:
    """Reject names the resource does not have, as Drive does (400 invalidParameter)."""
    schema = _resolve(schema)
    if "additionalProperties" in schema:
        return  # maps such as exportLinks accept any key
    properties = schema.get("properties", {})
    for name, sub in mask.items():
        if name == "*":
            continue
        if name not in properties:
            raise _invalid(path + name)
        if sub is not None:
            validate(sub, properties[name], f"{path}{name}/")


def apply(value: Any, mask: Mask | None) -> Any:
    """Keep only the masked parts of a JSON value (lists are filtered element by element)."""
    if mask is None or ("*" in mask and len(mask) == 1):
        return value
    if isinstance(value, list):
        return [apply(element, mask) for element in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        return {key: apply(item, mask.get(key)) for key, item in value.items()}
    return {key: apply(value[key], sub) for key, sub in mask.items() if key in value}


def wanted_names(mask: Mask | None, collection: str | None = None) -> set[str] | None:
    """Top-level names asked of each item (of `collection` in a list); None means all of them.

    Renderers use this to skip costly fields (permissions, checksums) nobody asked for.
    """
    if mask is None:
        return None
    if collection is not None:
        if "*" in mask:
            return None
        if collection not in mask:
            return set()
        mask = mask[collection]
        if mask is None:
            return None
    return None if "*" in mask else set(mask)
