"""JSON renderings of emulated records as Drive v3 returns them (before the fields mask)."""

from __future__ import annotations

from typing import Any

from .exports import EXPORT_FORMATS, EXPORT_LINK_SEGMENTS, ODS, ODS_LEGACY, export_formats
from .model import DriveFile, SharedDrive, format_time
from .state import DriveState

_EDITOR_ROLES = {"owner", "organizer", "fileOrganizer", "writer"}

#: Fields whose computation walks ancestors or hashes content: only computed when asked.
_COSTLY = {
    "permissions",
    "permissionIds",
    "md5Checksum",
    "sha1Checksum",
    "sha256Checksum",
    "capabilities",
    "shared",
}


def user_role(state: DriveState, item: DriveFile) -> str:
    """The emulated user's role on an item: owner, organizer (shared drives) or a granted role."""
    if item.drive_id:
        drive = state.drives.get(item.drive_id)
        return drive.user_role if drive else "reader"
    if item.owner == state.user:
        return "owner"
    roles = [
        p.role
        for p in state.effective_permissions(item)
        if p.email_address == state.user.email or p.type == "anyone" or p.domain == state.domain
    ]
    order = ["writer", "commenter", "reader"]
    return next((role for role in order if role in roles), "reader")


def download_restriction(item: DriveFile) -> dict[str, dict[str, bool]]:
    """`downloadRestrictions`: the owner's own setting, and the effective one, which also
    counts `copyRequiresWriterPermission` and the organisation's DLP rules."""
    own = {
        "restrictedForReaders": item.restricted_for_readers or item.restricted_for_writers,
        "restrictedForWriters": item.restricted_for_writers,
    }
    effective = {
        "restrictedForReaders": own["restrictedForReaders"]
        or item.copy_requires_writer_permission
        or item.dlp_restricted,
        "restrictedForWriters": own["restrictedForWriters"] or item.dlp_restricted,
    }
    return {"itemDownloadRestriction": own, "effectiveDownloadRestrictionWithContext": effective}


def can_download(state: DriveState, item: DriveFile) -> bool:
    """Whether this user may download (or export, or copy) the item, restrictions counted:
    readers and commenters are held back by reader restrictions, everyone but owners and
    organizers by writer restrictions."""
    if item.is_folder or item.dlp_restricted:
        return False  # an organisation's DLP rule holds owners back too
    effective = download_restriction(item)["effectiveDownloadRestrictionWithContext"]
    role = user_role(state, item)
    if effective["restrictedForWriters"] and role not in ("owner", "organizer"):
        return False
    return not (effective["restrictedForReaders"] and role in ("reader", "commenter"))


def capabilities(state: DriveState, item: DriveFile) -> dict[str, bool]:
    """The subset of `capabilities` a migration tool reads."""
    role = user_role(state, item)
    can_edit = role in _EDITOR_ROLES
    folder = item.is_folder
    return {
        "canDownload": can_download(state, item),
        "canCopy": can_download(state, item),
        "canEdit": can_edit,
        "canComment": can_edit or role == "commenter",
        "canShare": can_edit,
        "canRename": can_edit,
        "canTrash": role in ("owner", "organizer", "fileOrganizer"),
        "canDelete": role in ("owner", "organizer"),
        "canListChildren": folder,
        "canAddChildren": folder and can_edit,
        "canRemoveChildren": folder and can_edit,
        "canReadRevisions": not folder and can_edit,
        "canModifyContent": not folder and can_edit,
    }


def export_links(base_url: str, item: DriveFile, legacy_ods: bool = False) -> dict[str, str]:
    """exportLinks served by the emulator, like docs.google.com's (no 10 MB limit on them)."""
    segment = EXPORT_LINK_SEGMENTS.get(item.mime_type)
    if segment is None:
        return {}
    links = {
        mime: f"{base_url}/feeds/download/{segment}/export/Export?id={item.id}&exportFormat={ext}"
        for mime, ext in export_formats(item.mime_type).items()
    }
    if legacy_ods and ODS_LEGACY in links:
        links.pop(ODS, None)
    return links


def file_resource(
    state: DriveState, item: DriveFile, base_url: str, wanted: set[str] | None = None
) -> dict[str, Any]:
    """The full `drive#file` for an item; costly fields only if in `wanted` (None = all)."""
    resource: dict[str, Any] = {
        "kind": "drive#file",
        "id": item.id,
        "name": item.name,
        "mimeType": item.mime_type,
        "starred": item.starred,
        "trashed": item.trashed,
        "explicitlyTrashed": item.explicitly_trashed,
        "spaces": ["drive"],
        "version": str(item.version),
        "webViewLink": f"{base_url}/file/d/{item.id}/view",
        "createdTime": format_time(item.created_time),
        "modifiedTime": format_time(item.modified_time),
        "viewedByMe": True,
        "modifiedByMe": item.owner in (None, state.user),
        "ownedByMe": item.owner == state.user,
        "lastModifyingUser": (item.owner or state.user).to_resource(state.user),
        "isAppAuthorized": False,
        "copyRequiresWriterPermission": item.copy_requires_writer_permission,
        "downloadRestrictions": download_restriction(item),
        "writersCanShare": True,
        "viewersCanCopyContent": True,
        "hasThumbnail": False,
        "quotaBytesUsed": "0",
    }
    if item.parents:
        # Drive leaves `parents` out when the user can see no parent: "Computers" roots,
        # orphans, items shared from a folder the user cannot see.
        resource["parents"] = list(item.parents)
    if item.description is not None:
        resource["description"] = item.description
    if item.owner is not None:
        resource["owners"] = [item.owner.to_resource(state.user)]
    if item.drive_id:
        resource["driveId"] = item.drive_id
        resource["teamDriveId"] = item.drive_id
        # Only shared-drive items say whether they have grants of their own.
        resource["hasAugmentedPermissions"] = bool(item.permissions)
    _add_kind_fields(state, item, base_url, resource, wanted)
    return resource


def _add_kind_fields(
    state: DriveState,
    item: DriveFile,
    base_url: str,
    resource: dict[str, Any],
    wanted: set[str] | None,
) -> None:
    def asked(name: str) -> bool:
        return wanted is None or name in wanted or name not in _COSTLY

    if item.content is not None:
        resource["size"] = resource["quotaBytesUsed"] = str(item.content.size)
        resource["headRevisionId"] = item.head_revision_id
        resource["originalFilename"] = item.name
        if "." in item.name.strip(". "):
            resource["fileExtension"] = item.name.rsplit(".", 1)[1]
            resource["fullFileExtension"] = resource["fileExtension"]
        if asked("md5Checksum") or asked("sha256Checksum") or asked("sha1Checksum"):
            resource["md5Checksum"] = item.content.md5
            resource["sha256Checksum"] = item.content.sha256
    elif item.is_google_type and not item.is_folder and not item.is_shortcut:
        # Drive reports the editor file's storage size, which is *not* the size of an export.
        resource["size"] = str(max(1024, (item.export_size or 0) // 3))
        links = export_links(base_url, item, state.legacy_ods_links)
        if links:
            resource["exportLinks"] = links
    if item.is_shortcut:
        resource["shortcutDetails"] = {
            "targetId": item.shortcut_target_id,
            "targetMimeType": item.shortcut_target_mime,
        }
    if asked("capabilities"):
        resource["capabilities"] = capabilities(state, item)
    if asked("permissions") or asked("permissionIds") or asked("shared"):
        grants = state.effective_permissions(item)
        resource["shared"] = any(p.role != "owner" for p in grants) and not item.drive_id
        if not item.drive_id:
            # Drive leaves `permissions` out for items in shared drives; permissions.list has them.
            resource["permissions"] = [p.to_resource() for p in grants]
            resource["permissionIds"] = [p.id for p in grants]


def root_resource(state: DriveState, base_url: str) -> dict[str, Any]:
    """files.get("root"): the My Drive folder, which has no parents."""
    return {
        "kind": "drive#file",
        "id": state.root_id,
        "name": "My Drive",
        "mimeType": "application/vnd.google-apps.folder",
        "trashed": False,
        "spaces": ["drive"],
        "ownedByMe": True,
        "owners": [state.user.to_resource(state.user)],
        "webViewLink": f"{base_url}/drive/my-drive",
        "capabilities": {"canListChildren": True, "canAddChildren": True, "canEdit": True},
    }


def drive_resource(drive: SharedDrive) -> dict[str, Any]:
    """A `drive#drive` (shared drive) resource."""
    return {
        "kind": "drive#drive",
        "id": drive.id,
        "name": drive.name,
        "createdTime": format_time(drive.created_time),
        "hidden": drive.hidden,
        "colorRgb": "#1e8e3e",
        "capabilities": {
            "canListChildren": True,
            "canAddChildren": drive.user_role in _EDITOR_ROLES,
            "canManageMembers": drive.user_role == "organizer",
            "canDownload": True,
            "canEdit": drive.user_role in _EDITOR_ROLES,
            "canShare": drive.user_role in _EDITOR_ROLES,
        },
        "restrictions": {
            "adminManagedRestrictions": False,
            "copyRequiresWriterPermission": False,
            "domainUsersOnly": False,
            "driveMembersOnly": False,
        },
    }


def about_resource(state: DriveState) -> dict[str, Any]:
    """about.get: the user, quota and the export formats of every Google type."""
    usage = sum(item.content.size for item in state.files.values() if item.content)
    trash = sum(item.content.size for item in state.files.values() if item.content and item.trashed)
    return {
        "kind": "drive#about",
        "user": state.user.to_resource(state.user),
        "storageQuota": {
            "limit": str(state.storage_limit),
            "usage": str(usage),
            "usageInDrive": str(usage),
            "usageInDriveTrash": str(trash),
        },
        "exportFormats": {
            google: list(formats) for google, formats in EXPORT_FORMATS.items() if formats
        },
        "maxUploadSize": str(5 * 1024**4),
        "appInstalled": False,
        "canCreateDrives": True,
        "canCreateTeamDrives": True,
        "folderColorPalette": ["#ac725e", "#4986e7", "#16a765"],
    }
