"""The emulated Drive's records: files, permissions, shared drives and changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .content import Content

GOOGLE_APPS_PREFIX = "application/vnd.google-apps."
FOLDER_MIME = GOOGLE_APPS_PREFIX + "folder"
SHORTCUT_MIME = GOOGLE_APPS_PREFIX + "shortcut"

#: Seeding names for Google types -> their Drive MIME type.
GOOGLE_KINDS = {
    "doc": GOOGLE_APPS_PREFIX + "document",
    "sheet": GOOGLE_APPS_PREFIX + "spreadsheet",
    "slides": GOOGLE_APPS_PREFIX + "presentation",
    "drawing": GOOGLE_APPS_PREFIX + "drawing",
    "form": GOOGLE_APPS_PREFIX + "form",
    "site": GOOGLE_APPS_PREFIX + "site",
    "map": GOOGLE_APPS_PREFIX + "map",
    "jam": GOOGLE_APPS_PREFIX + "jam",
    "script": GOOGLE_APPS_PREFIX + "script",
    "vid": GOOGLE_APPS_PREFIX + "vid",
}

PERMISSION_TYPES = ("user", "group", "domain", "anyone")
PERMISSION_ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, the only form Drive emits."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp as Drive accepts it in queries (`Z` or an offset)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def numeric_id(text: str) -> str:
    """A stable 20-digit id, the shape Drive gives user and group permission ids."""
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:20]


@dataclass
class User:
    """A Google account as Drive shows it in `owners`, `lastModifyingUser` and about.get."""

    email: str
    display_name: str

    @property
    def permission_id(self) -> str:
        return numeric_id(self.email)

    def to_resource(self, me: User | None = None) -> dict[str, object]:
        return {
            "kind": "drive#user",
            "displayName": self.display_name,
            "me": self == me,
            "permissionId": self.permission_id,
            "emailAddress": self.email,
        }


@dataclass
class Permission:
    """One grant on a file or shared drive. `inherited_from` is set on copies from ancestors;
    `is_membership` on copies of a shared drive's members (Drive's permissionType "member")."""

    id: str
    type: str
    role: str
    email_address: str | None = None
    domain: str | None = None
    display_name: str | None = None
    allow_file_discovery: bool | None = None
    inherited_from: str | None = None
    is_membership: bool = False
    #: Temporary access (Drive's `expirationTime`, user and group grants only).
    expiration_time: datetime | None = None

    def to_resource(self, in_shared_drive: bool = False) -> dict[str, object]:
        resource: dict[str, object] = {
            "kind": "drive#permission",
            "id": self.id,
            "type": self.type,
            "role": self.role,
        }
        if self.email_address:
            resource["emailAddress"] = self.email_address
        if self.domain:
            resource["domain"] = self.domain
        if self.display_name:
            resource["displayName"] = self.display_name
        if self.type in ("domain", "anyone"):
            resource["allowFileDiscovery"] = bool(self.allow_file_discovery)
        resource["deleted"] = False
        if self.expiration_time is not None:
            resource["expirationTime"] = format_time(self.expiration_time)
        if in_shared_drive:
            # Shared drives tell direct grants from inherited ones through permissionDetails.
            resource["permissionDetails"] = [
                {
                    "permissionType": "member" if self.is_membership else "file",
                    "role": self.role,
                    "inherited": self.inherited_from is not None,
                    **({"inheritedFrom": self.inherited_from} if self.inherited_from else {}),
                }
            ]
        return resource


@dataclass
class DriveFile:
    """A file, folder, Google document or shortcut.

    Binary files carry `content`; Google types carry `export_size`, the size their exports are
    padded to; shortcuts carry `shortcut_target_id` and `shortcut_target_mime`.
    """

    id: str
    name: str
    mime_type: str
    parents: list[str]
    created_time: datetime
    modified_time: datetime
    owner: User | None
    drive_id: str | None = None
    content: Content | None = None
    export_size: int | None = None
    version: int = 1
    head_revision: int = 1
    trashed: bool = False
    explicitly_trashed: bool = False
    description: str | None = None
    starred: bool = False
    shortcut_target_id: str | None = None
    shortcut_target_mime: str | None = None
    permissions: list[Permission] = field(default_factory=list)
    #: Sharing restrictions set by the owner (`copyRequiresWriterPermission`, and
    #: `downloadRestrictions.itemDownloadRestriction`), or by a data-loss-prevention rule of the
    #: organisation (`dlp_restricted`, which only shows in the *effective* restriction).
    copy_requires_writer_permission: bool = False
    restricted_for_readers: bool = False
    restricted_for_writers: bool = False
    dlp_restricted: bool = False
    #: Flagged by Google as malware or abuse: alt=media needs acknowledgeAbuse (owner only).
    abusive: bool = False

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME

    @property
    def is_shortcut(self) -> bool:
        return self.mime_type == SHORTCUT_MIME

    @property
    def is_google_type(self) -> bool:
        """True for Docs editors files and other Google types, which have no bytes of their own."""
        return self.mime_type.startswith(GOOGLE_APPS_PREFIX)

    @property
    def head_revision_id(self) -> str:
        """Opaque like Drive's, but stable for a given revision of a given file."""
        return "0B" + hashlib.sha1(f"{self.id}:{self.head_revision}".encode()).hexdigest()[:40]


@dataclass
class SharedDrive:
    """A shared drive; its id doubles as the id of its root folder, as in Drive."""

    id: str
    name: str
    created_time: datetime
    members: list[Permission] = field(default_factory=list)
    hidden: bool = False
    #: The emulated user's own membership role (organizer unless seeded otherwise).
    user_role: str = "organizer"


@dataclass
class Change:
    """One entry of the changes feed. `number` orders the feed and makes page tokens."""

    number: int
    file_id: str | None
    time: datetime
    removed: bool = False
    drive_id: str | None = None
    change_type: str = "file"
