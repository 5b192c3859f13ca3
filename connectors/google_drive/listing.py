"""The whole Drive in a few paged `files.list`, its tree rebuilt locally, turned into items.

Requests: `changes.getStartPageToken` (the cursor), `files.get root` (to know My Drive's id),
`drives.list` when shared drives are asked for, then `files.list` pages of up to 1,000 — one
corpus at a time, as Google advises (`user`, then `drive` for each shared drive asked for), so
no search comes back `incompleteSearch` and no drive that was not asked for is ever listed —
never one request per folder; and `permissions.list` only for shared-drive items the account
may share (Drive leaves inline `permissions` out there, and answers 403 to its readers).

Items with no parent the account can see get a place of their own (docs/decisions/0460), as
rclone's `rescue` does: a parentless folder of the account's is a Drive for desktop backup,
under `Computers/`; any other item of the account's is an orphan, under `Orphans/`; items
others shared with the account go under `Shared with me/`, or are skipped, with their count,
when `shared_with_me` is off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.google_drive.client import DriveClient
from connectors.google_drive.errors import with_retries
from migrate.errors import FatalError, SkipItem, TransientError
from migrate.i18n import _
from migrate.model import Fingerprint, ItemKind, SourceItem

PERMISSION_FIELDS = "type,role,emailAddress,domain,deleted,expirationTime"
#: In shared drives, permissionDetails tell a drive membership ("member") from a file grant.
MEMBER_FIELDS = f"{PERMISSION_FIELDS},permissionDetails(permissionType)"
FILE_FIELDS = ("id,name,mimeType,parents,size,md5Checksum,modifiedTime,createdTime,version,"
               "headRevisionId,driveId,ownedByMe,webViewLink,exportLinks,"
               "capabilities(canDownload,canShare),copyRequiresWriterPermission,"
               "hasAugmentedPermissions,"
               "downloadRestrictions,"
               f"shortcutDetails(targetId,targetMimeType),permissions({PERMISSION_FIELDS})")
PAGE_SIZE = 1000
FOLDER = "application/vnd.google-apps.folder"
#: A "/" inside a Drive name is not a folder level: it becomes U+2215 DIVISION SLASH in the path
#: (see docs/decisions/0410-drive-paths.md); the raw name rides in meta["name"].
SLASH_STAND_IN = "\u2215"
SHARED_DRIVES, SHARED_WITH_ME = "Shared drives", "Shared with me"
COMPUTERS, ORPHANS = "Computers", "Orphans"
_IN_CYCLE = "\0cycle"
#: How many times a corpus is listed again when Drive says its search was incomplete.
INCOMPLETE_RETRIES = 2


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
    acknowledge_abuse: bool = False


def component(name: str) -> str:
    return name.replace("/", SLASH_STAND_IN)


def seconds(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None


def permissions_of(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drive grants in the shape the sharing side relies on (type, role, email, domain; roles as
    Drive names them, organizer included), `expires` (RFC 3339) on temporary grants, and
    `space_member: True` on a shared drive's memberships (docs/decisions/0430)."""
    shaped = []
    for grant in grants:
        if grant.get("deleted"):
            continue
        one = {"type": grant["type"], "role": grant["role"],
               "email": grant.get("emailAddress"), "domain": grant.get("domain")}
        if grant.get("expirationTime"):
            one["expires"] = grant["expirationTime"]
        if any(d.get("permissionType") == "member" for d in grant.get("permissionDetails") or []):
            one["space_member"] = True
        shaped.append(one)
    return shaped


class DriveListing:
    """One listing of a step's scope; `requests` counts the API calls it made."""

    def __init__(self, client: DriveClient, scope: Scope, connection: str | None) -> None:
        self.client, self.scope, self.connection = client, scope, connection
        self.requests = 0
        #: True when this listing came from the changes feed (changes.py).
        self.incremental = False
        self.files: dict[str, dict[str, Any]] = {}
        self.roots: dict[str, str] = {}  # container id -> its path in the virtual tree
        self.root_names: dict[str, str] = {}  # a shared drive's path component -> its raw name
        #: Shared-drive item id -> its grants (permissions.list), or why they were not read.
        self.drive_grants: dict[str, list[dict[str, Any]]] = {}
        self.unread_sharing: dict[str, str] = {}
        #: Shared drives the account organizes (it may then acknowledge abuse on their files).
        self.managed_drives: set[str] = set()
        self._paths: dict[str, str | None] = {}

    def reset(self) -> None:
        """Forget what was read, before listing everything again."""
        for found in (self.files, self.roots, self.root_names, self.drive_grants,
                      self.unread_sharing, self.managed_drives, self._paths):
            found.clear()

    def call(self, request: Any, what: str) -> Any:
        self.requests += 1
        return with_retries(lambda: self.client.execute(request, what), what, self.connection)

    # ----- fetching ---------------------------------------------------------------------------

    def fetch(self) -> str:
        """Read every corpus of the scope; return the changes token taken *before* it, so
        nothing that changes during the listing is missed next time."""
        files = self.client.service.files()
        token = self.call(self.client.service.changes().getStartPageToken(
            supportsAllDrives=True), _("the Drive changes token"))["startPageToken"]
        root = self.call(files.get(fileId="root", fields="id"), _("My Drive"))["id"]
        self.roots[root] = ""
        self._fetch_corpus({"corpora": "user"}, _("the Drive file list"))
        if self.scope.shared_drives:
            for drive_id, name in self._fetch_shared_drives():
                self._fetch_corpus({"corpora": "drive", "driveId": drive_id,
                                    "includeItemsFromAllDrives": True},
                                   _("the file list of the shared drive '{name}'").format(
                                       name=name))
        return str(token)

    def _fetch_corpus(self, corpus: dict[str, Any], what: str) -> None:
        """Every page of one corpus. Pages may hold fewer items than asked, even none, and
        still have a next one: only the absence of nextPageToken ends the list."""
        files = self.client.service.files()
        for _attempt in range(INCOMPLETE_RETRIES + 1):
            found: dict[str, dict[str, Any]] = {}
            incomplete, page_token = False, None
            while True:
                page = self.call(files.list(
                    q="trashed = false", pageSize=PAGE_SIZE, pageToken=page_token,
                    spaces="drive", supportsAllDrives=True,
                    fields=f"nextPageToken,incompleteSearch,files({FILE_FIELDS})", **corpus),
                    what)
                incomplete = incomplete or bool(page.get("incompleteSearch"))
                for entry in page.get("files", []):
                    found[entry["id"]] = entry
                page_token = page.get("nextPageToken")
                if not page_token:
                    break
            if not incomplete:
                self.files.update(found)
                return
        raise TransientError(_("Google said its search of {what} was incomplete ({n} times): "
                               "some files would be missing from the plan, so nothing is "
                               "planned; try again later").format(what=what,
                                                                   n=INCOMPLETE_RETRIES + 1))

    def _fetch_shared_drives(self) -> list[tuple[str, str]]:
        wanted = self.scope.shared_drives
        found: list[tuple[str, str]] = []
        page_token = None
        while True:
            page = self.call(self.client.service.drives().list(
                pageSize=100, pageToken=page_token,
                fields="nextPageToken,drives(id,name,capabilities(canManageMembers))"),
                _("the list of shared drives"))
            for drive in page.get("drives", []):
                if wanted == "all" or drive["name"] in wanted:
                    self.add_drive_root(drive["id"], drive["name"])
                    if (drive.get("capabilities") or {}).get("canManageMembers"):
                        self.managed_drives.add(drive["id"])  # the account is an organizer
                    found.append((drive["id"], drive["name"]))
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        missing = [] if wanted == "all" else sorted(set(wanted) - {n for _i, n in found})
        if missing:
            raise FatalError(_("no shared drive named {names} is visible to this account")
                             .format(names=", ".join(repr(m) for m in missing)))
        return found

    def add_drive_root(self, drive_id: str, name: str) -> None:
        self.roots[drive_id] = f"{SHARED_DRIVES}/{component(name)}"
        self.root_names[component(name)] = name

    # ----- the tree ---------------------------------------------------------------------------

    def place_of(self, entry: dict[str, Any]) -> str | None:
        """Where an item with no parent the account can see goes (None: not in this step)."""
        if entry.get("driveId"):
            return None  # a shared drive that was not asked for (never listed, in principle)
        if not entry.get("ownedByMe", True):
            return SHARED_WITH_ME
        if entry.get("mimeType") == FOLDER and not entry.get("parents"):
            return COMPUTERS
        return ORPHANS

    def path_of(self, file_id: str) -> str | None:
        """The item's path in the virtual tree, or None when it is outside every root."""
        if file_id in self._paths:
            return self._paths[file_id]
        self._paths[file_id] = _IN_CYCLE  # a cycle of parents (seen in the wild) ends here
        entry = self.files[file_id]
        parent = (entry.get("parents") or [None])[0]
        if parent in self.roots:
            base: str | None = self.roots[parent]
            if base == "" and not entry.get("ownedByMe", True) and not entry.get("driveId"):
                base = SHARED_WITH_ME
        elif parent in self.files:
            base = self.path_of(parent)
            if base == _IN_CYCLE:  # its parent leads back to it: placed as if parentless
                base = self.place_of(entry)
        else:  # no parent the account can see
            base = self.place_of(entry)
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
        virtual = {*self.roots.values(), SHARED_WITH_ME, COMPUTERS, ORPHANS}
        if not location_found and prefix not in virtual:
            raise FatalError(_("there is no folder '{path}' in this Drive (names are matched "
                               "exactly, accents and capitals included)").format(path=prefix))
        return scoped

    def fetch_shared_drive_permissions(self, ids: list[str]) -> None:
        """The grants of each shared-drive item. An item without permissions of its own
        (`hasAugmentedPermissions` false) has exactly its folder's, so only top-level items
        and items with their own grants cost a permissions.list. Readers and commenters may
        not list who has access (Drive answers 403): what cannot be read is said in
        `unread_sharing`, and the listing goes on."""
        for file_id in ids:
            self._grants_for(file_id, set())

    def _grants_for(self, file_id: str, seen: set[str]) -> None:
        if file_id in self.drive_grants or file_id in self.unread_sharing:
            return  # read already (or before, unchanged since: a re-run from the changes feed)
        seen.add(file_id)
        entry = self.files[file_id]
        parent = (entry.get("parents") or [None])[0]
        if entry.get("hasAugmentedPermissions") is False and parent in self.files \
                and parent not in seen \
                and self.files[parent].get("driveId") == entry.get("driveId"):
            self._grants_for(parent, seen)
            if parent in self.drive_grants:
                self.drive_grants[file_id] = self.drive_grants[parent]
            else:
                self.unread_sharing[file_id] = self.unread_sharing[parent]
            return
        if (entry.get("capabilities") or {}).get("canShare") is False:
            self.unread_sharing[file_id] = _("this account may only read this shared drive, "
                                             "and Google shows its sharing to those who may "
                                             "share only")
            return
        try:
            self.drive_grants[file_id] = self._permissions(file_id)
        except SkipItem as refused:
            self.unread_sharing[file_id] = str(refused)

    def _permissions(self, file_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page_token = None
        while True:
            page = self.call(self.client.service.permissions().list(
                fileId=file_id, supportsAllDrives=True, pageSize=100, pageToken=page_token,
                fields=f"nextPageToken,permissions({MEMBER_FIELDS})"),
                _("the sharing of {name}").format(name=self.files[file_id]["name"]))
            found.extend(page.get("permissions", []))
            page_token = page.get("nextPageToken")
            if not page_token:
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
