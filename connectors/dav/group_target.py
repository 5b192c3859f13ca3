"""`GroupFolderTarget`: a Nextcloud target that puts shared drives in group folders.

Items of a placed drive are named from the account's root with a leading "/"
(`/<mount point>/<path in the drive>`), since a group folder is mounted there whatever the
step's `to:` folder; the rest of the step lands under `to:` as usual. Drive memberships are
the folder's groups, so they are not shared again on each file; other grants still are.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from connectors.dav.collisions import Level
from connectors.dav.groupfolders import GroupFolderApi, Placement, PlacementRules
from connectors.dav.http import DavHttp
from connectors.dav.listing import list_tree
from connectors.dav.nextcloud_target import NextcloudTarget
from connectors.dav.settings import DavSettings
from connectors.dav.target import TEMPORARY_PREFIX
from migrate.connector import Capabilities, Source
from migrate.errors import ConnectorError, FatalError
from migrate.i18n import _
from migrate.model import Change, SourceItem, TargetEntry, TargetName

#: The level above every group folder: an empty name, so joined names start with "/".
ACCOUNT_ROOT = Level("", "", (), "groupfolders:", 0)


class GroupFolderTarget(NextcloudTarget):
    def __init__(self, http: DavHttp, root: str, settings: DavSettings,
                 capabilities: Capabilities, api: GroupFolderApi,
                 rules: PlacementRules) -> None:
        super().__init__(http, root, settings, capabilities)
        self.api, self.rules = api, rules
        #: Drive name -> the key of the item that carries the drive's notes in the plan.
        self._noted: dict[str, str] = {}
        #: Why the group folders could not be listed: only an error for a step that has
        #: shared drives to place; the app being on must not stop any other plan.
        self._unlisted: ConnectorError | None = None

    def placement(self, item: SourceItem) -> Placement | None:
        return self.rules.placement(item)

    def full(self, name: str) -> str:
        if name.startswith("/"):  # a group folder, mounted in the account's root
            return name.strip("/")
        return super().full(name)

    def list_entries(self) -> Iterator[TargetEntry]:
        yield from super().list_entries()
        mounts: list[str] = []
        if self.rules.enabled:
            try:
                mounts = self.api.mount_points()
            except ConnectorError as error:
                self._unlisted = error
        for mount in mounts:
            for resource in list_tree(self.http, mount):
                if resource.is_folder:
                    self.remember_folder(f"{mount}/{resource.path}".strip("/"))
                name = resource.path.rsplit("/", 1)[-1]
                if resource.path and not name.startswith(TEMPORARY_PREFIX):
                    entry = resource.entry()
                    yield TargetEntry(f"/{mount}/{entry.name}", entry.kind, entry.fingerprint,
                                      entry.ref)

    def levels(self, item: SourceItem) -> list[Level]:
        levels = super().levels(item)
        placed = self.placement(item)
        if placed is None or not placed.is_group_folder:
            return levels
        drive = levels[1]
        mount = Level(drive.raw, placed.mount, drive.reasons, "groupfolder:" + placed.drive)
        return [ACCOUNT_ROOT, mount, *levels[2:]]

    def prepare_names(self, items: Sequence[SourceItem]) -> None:
        super().prepare_names(items)
        first: dict[str, SourceItem] = {}
        for item in items:
            placed = self.placement(item)
            if placed is not None and placed.is_group_folder and self._unlisted is not None:
                raise FatalError(_("the group folders could not be read ({why}); shared "
                                   "drives cannot be placed in them. Ask the administrator, "
                                   "or set 'shared_drives_to: files' in the step").format(
                                       why=self._unlisted))
            if placed is not None and not item.skip_reason and (
                    placed.drive not in first or item.path < first[placed.drive].path):
                first[placed.drive] = item
        self._noted = {drive: item.key for drive, item in first.items()}

    def name_for(self, item: SourceItem) -> TargetName:
        named = super().name_for(self.as_shared(item))
        placed = self.placement(item)
        if placed is None or self._noted.get(placed.drive) != item.key:
            return named
        return replace(named, notes=(*placed.notes, *named.notes))  # its refusal too

    def as_shared(self, item: SourceItem) -> SourceItem:
        """`item` with only the grants to recreate as shares on it: in a group folder, drive
        memberships are the folder's groups already."""
        placed = self.placement(item)
        data = item.data
        if placed is None or not placed.is_group_folder or data is None or not data.permissions:
            return item
        kept = [g for g in data.permissions if not g.get("space_member")]
        return replace(item, data=replace(data, permissions=kept))

    def share(self, change: Change, path: str) -> None:
        super().share(replace(change, item=self.as_shared(change.item)), path)

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        if change.target_name.startswith("/"):
            placed = self.placement(change.item)
            if placed is not None and placed.is_group_folder:
                mount = change.target_name.strip("/").split("/", 1)[0]
                self.api.ensure(mount, placed.groups, change.item.path)
        return super().write(change, source, idempotency_key)
