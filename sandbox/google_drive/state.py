"""The emulated Drive: its files, shared drives and change feed, and the API to seed it.

Tests and seeders mutate the drive through `DriveState` methods only; every mutation records a
change, so the changes feed the connector reads matches what was done.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from .content import BytesContent, Content, GeneratedContent
from .model import (
    FOLDER_MIME,
    GOOGLE_KINDS,
    PERMISSION_ROLES,
    PERMISSION_TYPES,
    SHORTCUT_MIME,
    Change,
    DriveFile,
    Permission,
    SharedDrive,
    User,
    numeric_id,
)
from .quirks import DriveQuirks

#: Natural export size of a Google document seeded without an explicit one.
DEFAULT_EXPORT_SIZE = 8 * 1024


class DriveState(DriveQuirks):
    """Everything the emulated account can see, guarded by one lock for the threaded server.

    `user` is the account the API acts as; files it creates in My Drive go under `root_id`
    (also reachable as the alias "root"). Shared drive items carry `drive_id`.
    """

    def __init__(
        self,
        user_email: str = "comm@asso-exemple.fr",
        user_name: str = "Communication",
        id_seed: str = "transhumance",
    ) -> None:
        self.lock = threading.RLock()
        self.user = User(user_email, user_name)
        self.domain = user_email.split("@", 1)[1]
        self.files: dict[str, DriveFile] = {}
        #: Parent id -> child ids in creation order, so listing a folder costs its size only.
        self.children: dict[str, list[str]] = {}
        self.drives: dict[str, SharedDrive] = {}
        self.changes: list[Change] = []
        #: files.download operations by name, and how many polls each answers "not done".
        self.operations: dict[str, dict[str, object]] = {}
        self.operation_polls = 1
        #: exportLinks of Sheets spell ODS only the legacy way (application/x-vnd.oasis…),
        #: as some accounts see; files.export accepts both spellings either way.
        self.legacy_ods_links = False
        #: Page tokens below this are refused (see forget_changes).
        self.oldest_change = 1
        self.storage_limit = 15 * 1024**3
        #: Drive may answer fewer items than `pageSize` (fewer than 100 when permissions are
        #: asked for, say) and still give a nextPageToken: the most one page holds here.
        self.page_cap: int | None = None
        #: With corpora=allDrives, Drive may give up on some shared drives and say so with
        #: `incompleteSearch: true`: when set, such a search leaves every shared drive out.
        self.incomplete_all_drives = False
        #: The next N searches (of any corpus) give up too, as Drive may under load.
        self.incomplete_next = 0
        self.incomplete_tokens: set[str] = set()
        self._id_seed = id_seed
        self._id_counter = 0
        self.root_id = self._new_id(root=True)

    # ----- identifiers and clock -------------------------------------------------------------

    def _new_id(self, root: bool = False) -> str:
        # Deterministic ids keep seeded drives identical across runs and machines.
        self._id_counter += 1
        digest = hashlib.sha256(f"{self._id_seed}:{self._id_counter}".encode()).digest()
        text = base64.urlsafe_b64encode(digest).decode().rstrip("=").replace("-", "x")
        # My Drive and shared drive roots look like "0A…Uk9PVA"; files like "1…" (33 chars).
        return ("0A" + text[:17] + "Uk9PVA") if root else ("1" + text[:32])

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    # ----- lookups ----------------------------------------------------------------------------

    def resolve_id(self, file_id: str) -> str:
        """Map the alias "root" to the My Drive root id; other ids pass through."""
        return self.root_id if file_id == "root" else file_id

    def get(self, file_id: str) -> DriveFile:
        """The file with this id (or "root"); KeyError if absent."""
        return self.files[self.resolve_id(file_id)]

    def is_container(self, item_id: str) -> bool:
        """True for the My Drive root, a shared drive root or a folder."""
        item_id = self.resolve_id(item_id)
        if item_id == self.root_id or item_id in self.drives:
            return True
        item = self.files.get(item_id)
        return item is not None and item.is_folder

    def ancestors(self, item: DriveFile) -> Iterator[DriveFile]:
        """Parent folders from nearest to farthest (roots are not DriveFiles, so not included)."""
        seen: set[str] = set()
        current = item
        while current.parents and current.parents[0] in self.files:
            parent = self.files[current.parents[0]]
            if parent.id in seen:
                return
            seen.add(parent.id)
            yield parent
            current = parent

    def effective_permissions(self, item: DriveFile) -> list[Permission]:
        """Direct grants, then those inherited from folders and the shared drive, one per id."""
        result: dict[str, Permission] = {p.id: p for p in item.permissions}
        for ancestor in self.ancestors(item):
            for grant in ancestor.permissions:
                if grant.id not in result and grant.role != "owner":
                    result[grant.id] = _inherited(grant, ancestor.id)
        if item.drive_id and item.drive_id in self.drives:
            for member in self.drives[item.drive_id].members:
                result.setdefault(member.id, _inherited(member, item.drive_id, membership=True))
        return list(result.values())

    # ----- seeding ----------------------------------------------------------------------------

    def _place(self, parent: str | None) -> tuple[list[str], str | None]:
        parent_id = self.resolve_id(parent or "root")
        if not self.is_container(parent_id):
            raise KeyError(f"no folder {parent_id!r}")
        if parent_id in self.drives:
            return [parent_id], parent_id
        if parent_id == self.root_id:
            return [parent_id], None
        return [parent_id], self.files[parent_id].drive_id

    def _add(
        self,
        name: str,
        mime_type: str,
        parent: str | None,
        *,
        owner: User | None = None,
        modified_time: datetime | None = None,
        created_time: datetime | None = None,
        **fields: object,
    ) -> DriveFile:
        with self.lock:
            parents, drive_id = self._place(parent)
            modified = modified_time or self.now()
            created = created_time or modified
            # Shared drive items belong to the drive, not to a user: Drive omits their owners.
            owner = None if drive_id else owner or self.user
            item = DriveFile(
                id=self._new_id(),
                name=name,
                mime_type=mime_type,
                parents=parents,
                created_time=created,
                modified_time=modified,
                owner=owner,
                drive_id=drive_id,
                **fields,  # type: ignore[arg-type]
            )
            if owner is not None:
                item.permissions.append(_user_grant(owner, "owner"))
            self.files[item.id] = item
            self.children.setdefault(parents[0], []).append(item.id)
            self.record_change(item)
            return item

    def add_folder(
        self, name: str, parent: str | None = None, *, owner: User | None = None,
        **times: datetime,
    ) -> DriveFile:
        """Create a folder under `parent` (an id, "root", a shared drive id; default My Drive).

        Every add_* method accepts `modified_time=` and `created_time=` (aware datetimes).
        """
        return self._add(name, FOLDER_MIME, parent, owner=owner, **times)

    def add_file(
        self,
        name: str,
        parent: str | None = None,
        content: bytes | Content | None = None,
        *,
        mime_type: str = "application/octet-stream",
        size: int | None = None,
        owner: User | None = None,
        **times: datetime,
    ) -> DriveFile:
        """Create a binary file from `content` bytes, or of `size` generated bytes.

        `owner` defaults to the emulated user; another owner makes a file "shared with me".

        Checksums are computed from the content on first use; a `size` without content gives
        deterministic bytes generated on demand, so large files cost no memory.
        """
        if content is None:
            content = GeneratedContent(size=size or 0, seed=f"{name}:{self._id_counter}")
        elif isinstance(content, bytes):
            content = BytesContent(data=content)
        return self._add(name, mime_type, parent, content=content, owner=owner, **times)

    def add_google_doc(
        self,
        name: str,
        parent: str | None = None,
        kind: str = "doc",
        *,
        export_size: int | None = None,
        **times: datetime,
    ) -> DriveFile:
        """Create a Google type: kind is one of doc/sheet/slides/drawing/form/site/map/jam.

        `export_size` is the approximate byte size of every export of it (padded inside the
        document), so a doc seeded at 12 MB exceeds the 10 MB files.export limit.
        """
        if kind not in GOOGLE_KINDS:
            raise ValueError(f"kind must be one of {sorted(GOOGLE_KINDS)}")
        size = DEFAULT_EXPORT_SIZE if export_size is None else export_size
        return self._add(name, GOOGLE_KINDS[kind], parent, export_size=size, **times)

    def add_shortcut(
        self,
        name: str,
        parent: str | None,
        target_id: str,
        *,
        target_mime_type: str | None = None,
        **times: datetime,
    ) -> DriveFile:
        """Create a shortcut; the target may be absent (dangling) if `target_mime_type` is given."""
        target = self.files.get(self.resolve_id(target_id))
        mime = target.mime_type if target else target_mime_type or "application/octet-stream"
        return self._add(
            name,
            SHORTCUT_MIME,
            parent,
            shortcut_target_id=target_id,
            shortcut_target_mime=mime,
            **times,
        )

    def add_shared_drive(
        self, name: str, created_time: datetime | None = None, role: str = "organizer"
    ) -> SharedDrive:
        """Create a shared drive the emulated user is a member of, as `role` (organizer by
        default; a reader or commenter may not list its items' permissions)."""
        with self.lock:
            drive = SharedDrive(self._new_id(root=True), name, created_time or self.now())
            drive.user_role = role
            drive.members.append(_user_grant(self.user, role))
            self.drives[drive.id] = drive
            self.changes.append(
                Change(
                    len(self.changes) + 1, None, self.now(), drive_id=drive.id, change_type="drive"
                )
            )
            return drive

    def add_member(self, drive_id: str, type: str, role: str, email_address: str) -> Permission:
        """Make a user or group (by email) a member of a shared drive with a Drive role
        (organizer, fileOrganizer, writer, commenter, reader); its items inherit the grant."""
        if type not in ("user", "group") or role not in PERMISSION_ROLES:
            raise ValueError(f"bad member type/role {type!r}/{role!r}")
        grant = Permission(numeric_id(email_address), type, role, email_address)
        with self.lock:
            drive = self.drives[drive_id]
            drive.members = [m for m in drive.members if m.id != grant.id] + [grant]
        return grant

    def add_permission(
        self,
        file_id: str,
        type: str,
        role: str,
        *,
        email_address: str | None = None,
        domain: str | None = None,
        display_name: str | None = None,
        allow_file_discovery: bool = False,
        expiration_time: datetime | None = None,
    ) -> Permission:
        """Share a file or folder (folders' grants are inherited by their content);
        `expiration_time` makes a temporary grant (users and groups only, as in Drive)."""
        if expiration_time is not None and type not in ("user", "group"):
            raise ValueError("only user and group grants can expire")
        if type not in PERMISSION_TYPES or role not in PERMISSION_ROLES:
            raise ValueError(f"bad permission type/role {type!r}/{role!r}")
        if type == "anyone":
            permission_id = "anyoneWithLink" if not allow_file_discovery else "anyone"
        else:
            permission_id = numeric_id(email_address or domain or "") + ("k" if domain else "")
        grant = Permission(
            permission_id, type, role, email_address, domain, display_name, allow_file_discovery,
            expiration_time=expiration_time,
        )
        with self.lock:
            item = self.get(file_id)
            item.permissions = [p for p in item.permissions if p.id != permission_id] + [grant]
            self._bump(item, content_changed=False)
        return grant

    # ----- mutations --------------------------------------------------------------------------

    def _bump(self, item: DriveFile, content_changed: bool, when: datetime | None = None) -> None:
        item.version += 1
        if content_changed:
            item.head_revision += 1
            item.modified_time = when or self.now()
        self.record_change(item)

    def modify(
        self,
        file_id: str,
        content: bytes | None = None,
        *,
        name: str | None = None,
        size: int | None = None,
        export_size: int | None = None,
        modified_time: datetime | None = None,
    ) -> DriveFile:
        """Change a file's bytes (or export size) and/or name; bumps version and records a change.

        New content gives a new headRevisionId, md5 and modifiedTime.
        """
        with self.lock:
            item = self.get(file_id)
            changed = content is not None or size is not None or export_size is not None
            if content is not None:
                item.content = BytesContent(data=content)
            elif size is not None:
                item.content = GeneratedContent(size=size, seed=f"{item.id}:{item.version + 1}")
            if export_size is not None:
                item.export_size = export_size
            if name is not None:
                item.name = name
            self._bump(
                item, content_changed=changed or modified_time is not None, when=modified_time
            )
            return item

    def trash(self, file_id: str, trashed: bool = True) -> DriveFile:
        """Move a file to the trash (or restore it with trashed=False); its content follows."""
        with self.lock:
            item = self.get(file_id)
            item.trashed = item.explicitly_trashed = trashed
            self._bump(item, content_changed=False)
            self._trash_children(item, trashed)
            return item

    def _trash_children(self, folder: DriveFile, trashed: bool) -> None:
        # Content of a trashed folder is trashed too, but not "explicitly" (Drive's distinction).
        for child_id in self.children.get(folder.id, ()):
            child = self.files.get(child_id)
            if child is not None and not child.explicitly_trashed:
                child.trashed = trashed
                self._bump(child, content_changed=False)
                self._trash_children(child, trashed)

    def delete(self, file_id: str) -> None:
        """Delete a file for good (not via the trash): the changes feed reports it as removed."""
        with self.lock:
            item = self.files.pop(self.resolve_id(file_id))
            if item.parents:
                self.children.get(item.parents[0], []).remove(item.id)
            self.changes.append(
                Change(
                    len(self.changes) + 1, item.id, self.now(), removed=True, drive_id=item.drive_id
                )
            )

    def record_change(self, item: DriveFile) -> None:
        """Append a change for `item` to the feed (mutators call this; seeders need not)."""
        with self.lock:
            self.changes.append(
                Change(len(self.changes) + 1, item.id, self.now(), drive_id=item.drive_id)
            )

    @property
    def next_change_number(self) -> int:
        """The page token a client starting now would be given by changes.getStartPageToken."""
        return len(self.changes) + 1


def _user_grant(user: User, role: str) -> Permission:
    return Permission(user.permission_id, "user", role, user.email, display_name=user.display_name)


def _inherited(grant: Permission, source_id: str, membership: bool = False) -> Permission:
    return Permission(
        grant.id,
        grant.type,
        grant.role,
        grant.email_address,
        grant.domain,
        grant.display_name,
        grant.allow_file_discovery,
        inherited_from=source_id,
        is_membership=membership,
    )
