"""JSON methods other than files.list: about, files.get, permissions, drives, changes."""

from __future__ import annotations

from typing import Any

from .call import Call, decode_page_token, encode_page_token, query_fingerprint
from .errors import DriveApiError, invalid_parameter, not_found
from .fields import wanted_names
from .model import DriveFile, format_time
from .resources import (
    about_resource,
    drive_resource,
    file_resource,
    root_resource,
    user_role,
)
from .state import DriveState


def visible_file(state: DriveState, call: Call, file_id: str,
                 any_drive: bool = False) -> DriveFile:
    """The file, if this call may see it: shared-drive items need supportsAllDrives (else 404),
    except for methods that have no such parameter (`any_drive`: files.export)."""
    item = state.files.get(state.resolve_id(file_id))
    if item is None or (item.drive_id and not any_drive and not call.supports_all_drives):
        raise not_found(file_id)
    return item


def get_about(state: DriveState, call: Call) -> dict[str, Any]:
    """about.get; Drive v3 insists on an explicit `fields` here."""
    if call.mask is None:
        raise DriveApiError(
            400,
            "required",
            "The 'fields' parameter is required for this method.",
            location="fields",
        )
    with state.lock:
        return about_resource(state)


def get_file(state: DriveState, call: Call, file_id: str) -> dict[str, Any]:
    """files.get metadata ("root" and shared drive ids answer their root folder)."""
    with state.lock:
        resolved = state.resolve_id(file_id)
        if resolved == state.root_id:
            return root_resource(state, call.base_url)
        if resolved in state.drives and call.supports_all_drives:
            drive = state.drives[resolved]
            return {
                "kind": "drive#file",
                "id": drive.id,
                "name": drive.name,
                "driveId": drive.id,
                "mimeType": "application/vnd.google-apps.folder",
                "trashed": False,
            }
        item = visible_file(state, call, file_id)
        return file_resource(state, item, call.base_url, wanted_names(call.mask))


def _page(
    call: Call, items: list[Any], default_size: int, *names: str
) -> tuple[list[Any], str | None]:
    fingerprint = query_fingerprint(call, *names)
    offset = decode_page_token(call.params.get("pageToken"), fingerprint)
    size = call.integer("pageSize", default_size)
    token = encode_page_token(offset + size, fingerprint) if offset + size < len(items) else None
    return items[offset : offset + size], token


def list_permissions(state: DriveState, call: Call, file_id: str) -> dict[str, Any]:
    """permissions.list: direct and inherited grants, paged (pageSize 1–100)."""
    with state.lock:
        item = visible_file(state, call, file_id)
        if item.drive_id and user_role(state, item) in ("reader", "commenter"):
            # A shared drive's readers and commenters may not list who has access.
            raise DriveApiError(
                403,
                "insufficientFilePermissions",
                "The user does not have sufficient permissions for this file.",
            )
        grants = [g.to_resource(bool(item.drive_id)) for g in state.effective_permissions(item)]
    page, token = _page(call, grants, 100, "fileId", "pageSize")
    result: dict[str, Any] = {"kind": "drive#permissionList", "permissions": page}
    if token:
        result["nextPageToken"] = token
    return result


def get_permission(
    state: DriveState, call: Call, file_id: str, permission_id: str
) -> dict[str, Any]:
    """permissions.get."""
    with state.lock:
        item = visible_file(state, call, file_id)
        for grant in state.effective_permissions(item):
            if grant.id == permission_id:
                return grant.to_resource(bool(item.drive_id))
    raise DriveApiError(
        404, "notFound", f"Permission not found: {permission_id}.", location="permissionId"
    )


def list_drives(state: DriveState, call: Call) -> dict[str, Any]:
    """drives.list: the shared drives the user belongs to, paged (default 10, max 100)."""
    if call.params.get("q"):
        # Search over shared drives is not emulated; better a clear 400 than a wrong answer.
        raise invalid_parameter("q", "The Drive emulator does not support q on drives.list.")
    with state.lock:
        drives = [drive_resource(drive) for drive in state.drives.values()]
    page, token = _page(call, drives, 10, "pageSize")
    result: dict[str, Any] = {"kind": "drive#driveList", "drives": page}
    if token:
        result["nextPageToken"] = token
    return result


def get_drive(state: DriveState, call: Call, drive_id: str) -> dict[str, Any]:
    """drives.get."""
    drive = state.drives.get(drive_id)
    if drive is None:
        raise DriveApiError(
            404, "notFound", f"Shared drive not found: {drive_id}", location="driveId"
        )
    return drive_resource(drive)


def get_start_page_token(state: DriveState, call: Call) -> dict[str, Any]:
    """changes.getStartPageToken: where a client starting now should read the feed from."""
    drive_id = call.params.get("driveId") or call.params.get("teamDriveId")
    if drive_id and not call.supports_all_drives:
        raise invalid_parameter(
            "driveId", "The supportsAllDrives parameter must be true when driveId is set."
        )
    return {"kind": "drive#startPageToken", "startPageToken": str(state.next_change_number)}


def _change_token(call: Call, state: DriveState) -> int:
    token = call.params.get("pageToken", "")
    if not token.isdigit() or not state.oldest_change <= int(token) <= state.next_change_number:
        raise invalid_parameter("pageToken")
    return int(token)


def list_changes(state: DriveState, call: Call) -> dict[str, Any]:
    """changes.list: the latest change of each item since the token, paged.

    Like Drive, an item changed several times appears once, at its latest change; trashing is
    a change with `file.trashed` true, deletion a change with `removed` true and no file.
    """
    start = _change_token(call, state)
    drive_id = call.params.get("driveId") or call.params.get("teamDriveId")
    include_removed = call.flag("includeRemoved", default=True)
    with state.lock:
        scoped = [c for c in state.changes[start - 1 :] if _in_scope(c, call, drive_id)]
        if call.flag("restrictToMyDrive"):
            scoped = [c for c in scoped if c.drive_id is None]
        latest = {(c.change_type, c.file_id or c.drive_id): c.number for c in scoped}
        kept = [c for c in scoped if latest[(c.change_type, c.file_id or c.drive_id)] == c.number]
        if not include_removed:
            kept = [
                c
                for c in kept
                if (not c.removed and c.file_id in state.files) or c.change_type == "drive"
            ]
        size = call.integer("pageSize", 100)
        wanted = _change_file_fields(call)
        changes = [_change_resource(state, call, c, wanted) for c in kept[:size]]
    result: dict[str, Any] = {"kind": "drive#changeList", "changes": changes}
    if len(kept) > size:
        result["nextPageToken"] = str(kept[size].number)
    else:
        result["newStartPageToken"] = str(state.next_change_number)
    return result


def _in_scope(change: Any, call: Call, drive_id: str | None) -> bool:
    if drive_id:
        return call.supports_all_drives and change.drive_id == drive_id
    return change.drive_id is None or call.include_all_drives


def _change_file_fields(call: Call) -> set[str] | None:
    changes_mask = (call.mask or {}).get("changes", None) if call.mask else None
    if call.mask is None or "*" in call.mask or changes_mask is None:
        return None
    return wanted_names(changes_mask, "file")


def _change_resource(
    state: DriveState, call: Call, change: Any, wanted: set[str] | None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "kind": "drive#change",
        "changeType": change.change_type,
        "time": format_time(change.time),
    }
    if change.change_type == "drive":
        drive = state.drives.get(change.drive_id)
        resource.update(driveId=change.drive_id, removed=drive is None)
        if drive is not None:
            resource["drive"] = drive_resource(drive)
        return resource
    item = state.files.get(change.file_id)
    resource.update(fileId=change.file_id, removed=change.removed or item is None)
    if change.drive_id:
        resource["driveId"] = change.drive_id
    if item is not None and not resource["removed"]:
        resource["file"] = file_resource(state, item, call.base_url, wanted)
    return resource
