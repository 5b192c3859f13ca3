"""files.list: corpora and shared-drive flags, the `q` filter, ordering and paging."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .call import Call, decode_page_token, encode_page_token, query_fingerprint
from .errors import DriveApiError, invalid_parameter
from .fields import wanted_names
from .model import DriveFile
from .query import parse_query
from .resources import file_resource
from .state import DriveState

_ORDER_KEYS: dict[str, Callable[[DriveFile], Any]] = {
    "folder": lambda f: not f.is_folder,
    "name": lambda f: f.name.casefold(),
    "name_natural": lambda f: [
        int(p) if p.isdigit() else p for p in re.split(r"(\d+)", f.name.casefold())
    ],
    "modifiedTime": lambda f: f.modified_time,
    "modifiedByMeTime": lambda f: f.modified_time,
    "recency": lambda f: f.modified_time,
    "createdTime": lambda f: f.created_time,
    "quotaBytesUsed": lambda f: f.content.size if f.content else 0,
    "starred": lambda f: not f.starred,
    # Accepted by Drive; every emulated item was viewed/shared at the same moment, so no-ops.
    "viewedByMeTime": lambda f: 0,
    "sharedWithMeTime": lambda f: 0,
}
_SPACES = {"drive", "appDataFolder", "photos"}
_CORPORA = {"user", "domain", "drive", "allDrives"}
_LIST_PARAMS = (
    "q",
    "corpora",
    "corpus",
    "driveId",
    "teamDriveId",
    "orderBy",
    "spaces",
    "includeItemsFromAllDrives",
    "supportsAllDrives",
    "pageSize",
    "fields",
)


def _scope(state: DriveState, call: Call) -> Callable[[DriveFile], bool]:
    """Which items the corpora and shared-drive flags make visible."""
    corpora = call.params.get("corpora") or call.params.get("corpus") or "user"
    drive_id = call.params.get("driveId") or call.params.get("teamDriveId")
    if not set(corpora.split(",")) <= _CORPORA:
        raise invalid_parameter("corpora")
    if (corpora == "drive") != bool(drive_id):
        raise DriveApiError(
            400,
            "teamDriveIdRequiresTeamDriveCorpora",
            "The driveId parameter must be specified if and only if corpora is set to drive.",
        )
    if corpora in ("drive", "allDrives") and not call.include_all_drives:
        # Wording from the live API; Drive answers 403 here although it is a parameter mistake.
        raise DriveApiError(
            403,
            "teamDrivesParameterRequired",
            "The includeItemsFromAllDrives parameter must be set to true when driveId is "
            "specified or corpora contains drive or allDrives.",
        )
    if drive_id:
        if drive_id not in state.drives:
            raise DriveApiError(
                404, "notFound", f"Shared drive not found: {drive_id}", location="driveId"
            )
        return lambda f: f.drive_id == drive_id
    if corpora == "allDrives" or call.include_all_drives:
        return lambda f: True
    return lambda f: f.drive_id is None


def _candidates(state: DriveState, query: str) -> Iterable[DriveFile]:
    """All files, or only one folder's children when the query is a plain conjunction with
    `'ID' in parents` — what a tree walk sends, and what must not cost a full scan each time."""
    match = re.search(r"'((?:[^'\\]|\\.)*)'\s+in\s+parents", query)
    if match and not re.search(r"\b(or|not)\b", query, re.IGNORECASE):
        parent_id = state.resolve_id(match.group(1))
        return [state.files[i] for i in state.children.get(parent_id, ()) if i in state.files]
    return list(state.files.values())


def _order(items: list[DriveFile], order_by: str | None) -> list[DriveFile]:
    if not order_by:
        return items
    keys = []
    for part in order_by.split(","):
        words = part.split()
        if not words or words[0] not in _ORDER_KEYS or words[1:] not in ([], ["desc"], ["asc"]):
            raise invalid_parameter("orderBy")
        keys.append((_ORDER_KEYS[words[0]], words[1:] == ["desc"]))
    for key, descending in reversed(keys):
        items.sort(key=key, reverse=descending)
    return items


def list_files(state: DriveState, call: Call) -> dict[str, Any]:
    """files.list: one page of matching items and the token for the next one."""
    spaces = set((call.params.get("spaces") or "drive").split(","))
    if not spaces <= _SPACES:
        raise invalid_parameter("spaces")
    page_size = min(call.integer("pageSize", 100), state.page_cap or 1000)
    fingerprint = query_fingerprint(call, *_LIST_PARAMS)
    offset = decode_page_token(call.params.get("pageToken"), fingerprint)
    query = call.params.get("q", "")
    predicate = parse_query(query)
    with state.lock:
        visible = _scope(state, call)
        matches = [
            item
            for item in _candidates(state, query)
            if "drive" in spaces and visible(item) and predicate(item, state)
        ]
        corpora = call.params.get("corpora") or call.params.get("corpus") or "user"
        incomplete = state.incomplete_all_drives and corpora == "allDrives"
        if state.incomplete_next > 0 and not call.params.get("pageToken"):
            state.incomplete_next -= 1  # this whole search (its first page on) gives up
            state.incomplete_tokens.add(fingerprint)
            incomplete = True
        elif call.params.get("pageToken") and fingerprint in state.incomplete_tokens:
            incomplete = True
        elif not call.params.get("pageToken"):
            state.incomplete_tokens.discard(fingerprint)
        if incomplete:
            # Drive gave up searching some drives: their items are simply missing.
            matches = [item for item in matches if item.drive_id is None]
        matches = _order(matches, call.params.get("orderBy"))
        page = matches[offset : offset + page_size]
        wanted = wanted_names(call.mask, "files")
        files = [file_resource(state, item, call.base_url, wanted) for item in page]
    result: dict[str, Any] = {
        "kind": "drive#fileList", "incompleteSearch": incomplete, "files": files
    }
    if offset + page_size < len(matches):
        result["nextPageToken"] = encode_page_token(offset + page_size, fingerprint)
    return result
