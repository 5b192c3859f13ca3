"""The whole Drive in one paged `files.list`, its tree rebuilt locally, turned into items.

Requests: `changes.getStartPageToken` (the cursor), `files.get root` (to know My Drive's id),
`drives.list` when shared drives are asked for, then `files.list` pages of 1,000 over the whole
corpus — never one request per folder — and `permissions.list` only for shared-drive items,
where Drive leaves inline `permissions` out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.google_drive.client import DriveClient
from connectors.google_drive.errors import with_retries
from migrate.errors import FatalError
from migrate.i18n import _
from migrate.model import Fingerprint, ItemKind, SourceItem

PERMISSION_FIELDS = "type,role,emailAddress,domain,deleted"
#: In shared drives, permissionDetails tell a drive membership ("member") from a file grant.
MEMBER_FIELDS = f"{PERMISSION_FIELDS},permissionDetails(permissionType)"
FILE_FIELDS = ("id,name,mimeType,parents,size,md5Checksum,modifiedTime,createdTime,version,"
               "headRevisionId,driveId,ownedByMe,webViewLink,exportLinks,"
               f"shortcutDetails(targetId,targetMimeType),permissions({PERMISSION_FIELDS})")
PAGE_SIZE = 1000
#: A "/" inside a Drive name is not a folder level: it becomes U+2215 DIVISION SLASH in the path
#: (see docs/decisions/0410-drive-paths.md); the raw name rides in meta["name"].
SLASH_STAND_IN = "\u2215"
SHARED_DRIVES, SHARED_WITH_ME = "Shared drives", "Shared with me"
ROLES = {"organizer": "owner", "fileOrganizer": "writer"}


@dataclass(frozen=True)
class Scope:
    """What a step copies and how, from its location and `with:` options."""

    location: str = ""
    shared_with_me: bool = False
    shared_drives: tuple[str, ...] | str = ()
    google_docs: str = "odf"
    shortcuts: str = "follow"
    unsupported: str = "skip"
    fetch_permissions: bool = True


def component(name: str) -> str:
    return name.replace("/", SLASH_STAND_IN)


def seconds(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None


def permissions_of(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drive grants in the shape the sharing side relies on (type, role, email, domain), plus
    `drive_member: True` on a shared drive's memberships (docs/decisions/0430)."""
    shaped = []
    for grant in grants:
        if grant.get("deleted"):
            continue
        one = {"type": grant["type"], "role": ROLES.get(grant["role"], grant["role"]),
               "email": grant.get("emailAddress"), "domain": grant.get("domain")}
        if any(d.get("permissionType") == "member" for d in grant.get("permissionDetails") or []):
            one["drive_member"] = True
        shaped.append(one)
    return shaped


class DriveListing:
    """One listing of a step's scope; `requests` counts the API calls it made."""

    def __init__(self, client: DriveClient, scope: Scope, connection: str | None) -> None:
        self.client, self.scope, self.connection = client, scope, connection
        self.requests = 0
        self.files: dict[str, dict[str, Any]] = {}
        self.roots: dict[str, str] = {}  # container id -> its path in the virtual tree
        self.root_names: dict[str, str] = {}  # a shared drive's path component -> its raw name
        self._paths: dict[str, str | None] = {}

    def call(self, request: Any, what: str) -> Any:
        self.requests += 1
        return with_retries(lambda: self.client.execute(request), what, self.connection)

    # ----- fetching ---------------------------------------------------------------------------

    def fetch(self) -> str:
        """Read the whole corpus; return the changes token taken *before* it, so nothing that
        changes during the listing is missed next time."""
        files = self.client.service.files()
        token = self.call(self.client.service.changes().getStartPageToken(
            supportsAllDrives=True), _("the Drive changes token"))["startPageToken"]
        root = self.call(files.get(fileId="root", fields="id"), _("My Drive"))["id"]
        self.roots[root] = ""
        with_drives = bool(self.scope.shared_drives)
        if with_drives:
            self._fetch_shared_drives()
        page_token = None
        while True:
            page = self.call(files.list(
                q="trashed = false", pageSize=PAGE_SIZE, pageToken=page_token, spaces="drive",
                corpora="allDrives" if with_drives else "user",
                includeItemsFromAllDrives=with_drives, supportsAllDrives=True,
                fields=f"nextPageToken,files({FILE_FIELDS})"), _("the Drive file list"))
            for entry in page.get("files", []):
                self.files[entry["id"]] = entry
            page_token = page.get("nextPageToken")
            if not page_token:
                return str(token)

    def _fetch_shared_drives(self) -> None:
        wanted = self.scope.shared_drives
        found: set[str] = set()
        page_token = None
        while True:
            page = self.call(self.client.service.drives().list(
                pageSize=100, pageToken=page_token, fields="nextPageToken,drives(id,name)"),
                _("the list of shared drives"))
            for drive in page.get("drives", []):
                if wanted == "all" or drive["name"] in wanted:
                    self.roots[drive["id"]] = f"{SHARED_DRIVES}/{component(drive['name'])}"
                    self.root_names[component(drive["name"])] = drive["name"]
                    found.add(drive["name"])
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        missing = [] if wanted == "all" else sorted(set(wanted) - found)
        if missing:
            raise FatalError(_("no shared drive named {names} is visible to this account")
                             .format(names=", ".join(repr(m) for m in missing)))

    # ----- the tree ---------------------------------------------------------------------------

    def path_of(self, file_id: str) -> str | None:
        """The item's path in the virtual tree, or None when it is outside every root."""
        if file_id in self._paths:
            return self._paths[file_id]
        self._paths[file_id] = None  # a cycle (seen in the wild) ends outside every root
        entry = self.files[file_id]
        parent = (entry.get("parents") or [None])[0]
        if parent in self.roots:
            base: str | None = self.roots[parent]
            if base == "" and not entry.get("ownedByMe", True) and not entry.get("driveId"):
                base = SHARED_WITH_ME if self.scope.shared_with_me else None
        elif parent in self.files:
            base = self.path_of(parent)
        else:  # shared with this account from a folder it cannot see
            base = SHARED_WITH_ME if self.scope.shared_with_me else None
        path = None if base is None else (f"{base}/{component(entry['name'])}".lstrip("/"))
        self._paths[file_id] = path
        return path

    def in_scope(self) -> dict[str, str]:
        """Drive id -> path relative to the step's location, for everything in scope."""
        prefix = self.scope.location.strip("/")
        scoped: dict[str, str] = {}
        location_found = not prefix
        for file_id in self.files:
            path = self.path_of(file_id)
            if path is None:
                continue
            if not prefix:
                scoped[file_id] = path
            elif path == prefix:
                location_found = True
            elif path.startswith(prefix + "/"):
                scoped[file_id] = path[len(prefix) + 1:]
        if not location_found and not any(p == prefix for p in self.roots.values()):
            raise FatalError(_("there is no folder '{path}' in this Drive (names are matched "
                               "exactly, accents and capitals included)").format(path=prefix))
        return scoped

    def fetch_shared_drive_permissions(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """permissions.list for each shared-drive item (Drive gives no inline permissions there)."""
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for file_id in ids:
            page_token = None
            while True:
                page = self.call(self.client.service.permissions().list(
                    fileId=file_id, supportsAllDrives=True, pageSize=100, pageToken=page_token,
                    fields=f"nextPageToken,permissions({MEMBER_FIELDS})"),
                    _("the sharing of {name}").format(name=self.files[file_id]["name"]))
                found[file_id].extend(page.get("permissions", []))
                page_token = page.get("nextPageToken")
                if not page_token:
                    break
        return found


def fingerprint_of(entry: dict[str, Any], exported: bool) -> Fingerprint:
    """Binary files: size, mtime, md5 and the head revision (changes with content only).
    Exports: no size or checksum is known before exporting; the modification time versions them."""
    mtime = seconds(entry.get("modifiedTime"))
    if exported:
        return Fingerprint(mtime=mtime, etag="m:" + str(entry.get("modifiedTime")))
    size = entry.get("size")
    md5 = entry.get("md5Checksum")
    return Fingerprint(size=None if size is None else int(size), mtime=mtime,
                       checksum=f"md5:{md5}" if md5 else None,
                       etag=entry.get("headRevisionId") or f"v:{entry.get('version')}")


def folder_item(file_id: str, path: str, entry: dict[str, Any]) -> SourceItem:
    return SourceItem(file_id, path, ItemKind.FOLDER,
                      Fingerprint(mtime=seconds(entry.get("modifiedTime"))),
                      {"name": entry["name"], "parents": entry.get("parents", []),
                       "mime": entry["mimeType"]})
