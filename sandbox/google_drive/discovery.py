"""The Drive v3 discovery document that google-api-python-client ships, as the emulator's spec.

Parameter names, their types and ranges, and the field names of each resource are read from it
rather than kept by hand, so the emulator rejects exactly what the client library would not send.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient


@cache
def document() -> dict[str, Any]:
    """The parsed `drive.v3.json` from the installed googleapiclient."""
    path = Path(googleapiclient.__file__).parent / "discovery_cache/documents/drive.v3.json"
    return json.loads(path.read_text(encoding="utf-8"))


def method(resource: str, name: str) -> dict[str, Any]:
    """The description of one method, e.g. method("files", "list")."""
    return document()["resources"][resource]["methods"][name]


def parameters(resource: str, name: str) -> dict[str, dict[str, Any]]:
    """Every query parameter a method accepts: its own plus the API-wide ones (alt, fields…)."""
    return {**document()["parameters"], **method(resource, name).get("parameters", {})}


def schema(name: str) -> dict[str, Any]:
    """A resource schema by name, e.g. schema("File")."""
    return document()["schemas"][name]


def response_schema(resource: str, name: str) -> dict[str, Any] | None:
    """The schema of a method's JSON response, or None for media-only methods."""
    reference = method(resource, name).get("response", {}).get("$ref")
    return schema(reference) if reference else None
