"""What real drives hold beyond ordinary folders, for seeding the emulated one: Drive for
desktop backups and orphans (items without `parents`), download restrictions, abuse flags,
and a changes feed that no longer goes back far enough. Mixed into `DriveState`."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from .model import FOLDER_MIME, DriveFile

if TYPE_CHECKING:
    from .model import User


class DriveQuirks:
    """Methods of `DriveState` (which provides the attributes declared here)."""

    lock: threading.RLock
    children: dict[str, list[str]]
    oldest_change: int

    def _add(self, name: str, mime_type: str, parent: str | None, *,
             owner: User | None = None, **fields: object) -> DriveFile:
        raise NotImplementedError

    def get(self, file_id: str) -> DriveFile:
        raise NotImplementedError

    def _bump(self, item: DriveFile, content_changed: bool, when: datetime | None = None) -> None:
        raise NotImplementedError

    @property
    def next_change_number(self) -> int:
        raise NotImplementedError

    def add_computer(self, name: str, **times: datetime) -> DriveFile:
        """A Drive for desktop backup root ("Computers" › `name`): a folder of the user's that
        lives in no folder at all, so Drive gives it no `parents`."""
        folder = self._add(name, FOLDER_MIME, None, **times)
        self._detach(folder)
        return folder

    def orphan(self, file_id: str) -> DriveFile:
        """Take away the parent this user can see: an item of the user's whose folder was
        deleted or unshared by its owner (an orphan), or an item someone shared with the user
        from a folder the user cannot see. Drive then gives it no `parents`."""
        with self.lock:
            item = self.get(file_id)
            self._detach(item)
            self._bump(item, content_changed=False)
            return item

    def _detach(self, item: DriveFile) -> None:
        if item.parents:
            self.children.get(item.parents[0], []).remove(item.id)
        item.parents = []

    def restrict(
        self,
        file_id: str,
        *,
        copy_requires_writer_permission: bool = False,
        for_readers: bool = False,
        for_writers: bool = False,
        dlp: bool = False,
    ) -> DriveFile:
        """Restrict downloading a file: the owner's settings or an organisation's DLP rule."""
        with self.lock:
            item = self.get(file_id)
            item.copy_requires_writer_permission = copy_requires_writer_permission
            item.restricted_for_readers = for_readers
            item.restricted_for_writers = for_writers
            item.dlp_restricted = dlp
            self._bump(item, content_changed=False)
            return item

    def flag_abuse(self, file_id: str) -> DriveFile:
        """Google flags the file as malware or spam: downloads need acknowledgeAbuse."""
        with self.lock:
            item = self.get(file_id)
            item.abusive = True
            return item

    def forget_changes(self) -> None:
        """Drop the feed's history: tokens given out before now are no longer accepted (as
        when a client comes back after Drive stopped keeping its changes)."""
        with self.lock:
            self.oldest_change = self.next_change_number

