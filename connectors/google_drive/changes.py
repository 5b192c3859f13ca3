"""Re-runs read only what changed: Drive's changes feed applied to the last full listing.

A finished apply stores the step's cursor: the changes token taken before its listing and the
name of a snapshot of that listing (every file's fields, the shared drives and the sharing
read then), kept beside the journal (`<state>/google_drive/<plan id>-<step>--<token>.json.gz`).
The next listing asks `changes.list` from that token — a few requests whatever the drive's size,
instead of a page per 1,000 items and a `permissions.list` per shared-drive item — applies
each change to the snapshot, and reads sharing again only for the items that changed.

It falls back to the full listing, silently since the result is the same, when anything does
not line up: no cursor or no snapshot (first run, `plan` without a journal), another scope
(shared drives added), a change to a shared drive itself (renamed, removed, members), or a
token Drive no longer accepts (too old: 4xx on `changes.list`).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.google_drive.listing import FILE_FIELDS, PAGE_SIZE, DriveListing
from migrate.errors import ConnectorError, FatalError, TransientError
from migrate.i18n import _

SNAPSHOT_VERSION = 1
CHANGE_FIELDS = ("nextPageToken,newStartPageToken,changes(changeType,removed,fileId,driveId,"
                 f"file(trashed,{FILE_FIELDS}))")


class Snapshots:
    """Where a step's listing snapshots live; at most the current and the newest are kept."""

    def __init__(self, folder: Path | None, plan_id: str, step: str) -> None:
        # A plan listed before any apply has no journal (its id is "dry-run"): nothing saved.
        self.folder = folder / "google_drive" if folder is not None and plan_id != "dry-run" \
            else None
        self.plan_id, self.step = plan_id, step

    @property
    def prefix(self) -> str:
        """Several plans may share one state folder, and step ids repeat across plans."""
        name = f"{self.plan_id}-{self.step}"
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) + "--"

    def path(self, token: str) -> Path | None:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in token)
        return self.folder / f"{self.prefix}{safe}.json.gz" if self.folder is not None else None

    def load(self, name: str | None) -> dict[str, Any] | None:
        if self.folder is None or not name:
            return None
        try:
            with gzip.open(self.folder / Path(name).name, "rt", encoding="utf-8") as stream:
                data = json.load(stream)
        except (OSError, ValueError):
            return None  # gone or damaged: the full listing rebuilds it
        return data if data.get("version") == SNAPSHOT_VERSION else None

    def save(self, listing: DriveListing, token: str, keep: str | None) -> str | None:
        """Write the listing as it stands; return the snapshot's name (None for a plan listed
        before any apply, or without a state folder: nothing is created then)."""
        target = self.path(token)
        if target is None or self.folder is None or not self.folder.parent.is_dir():
            return None
        self.folder.mkdir(exist_ok=True)
        temporary = target.with_suffix(".tmp")
        with gzip.open(temporary, "wt", encoding="utf-8") as stream:
            json.dump(snapshot_of(listing, token), stream)
        os.replace(temporary, target)
        for old in self.folder.glob(f"{self.prefix}*.json.gz"):
            if old.name not in (target.name, keep):
                old.unlink(missing_ok=True)
        return target.name


def scope_key(listing: DriveListing) -> dict[str, Any]:
    drives = listing.scope.shared_drives
    return {"shared_drives": drives if isinstance(drives, str) else sorted(drives)}


def snapshot_of(listing: DriveListing, token: str) -> dict[str, Any]:
    return {"version": SNAPSHOT_VERSION, "token": token, "scope": scope_key(listing),
            "roots": listing.roots, "root_names": listing.root_names, "files": listing.files,
            "drive_grants": listing.drive_grants, "unread_sharing": listing.unread_sharing,
            "managed_drives": sorted(listing.managed_drives)}


def fetch_changes(listing: DriveListing, cursor: Mapping[str, Any],
                  snapshot: dict[str, Any] | None) -> str | None:
    """Bring `listing` up to date from the snapshot and the changes since the cursor's token;
    return the token to store next, or None when a full listing is needed instead."""
    token = cursor.get("start_page_token")
    if not token or snapshot is None or snapshot.get("token") != token \
            or snapshot.get("scope") != scope_key(listing):
        return None
    listing.roots.update(snapshot["roots"])
    listing.root_names.update(snapshot["root_names"])
    listing.files.update(snapshot["files"])
    listing.managed_drives.update(snapshot.get("managed_drives", []))
    try:
        changed, new_token = _read_changes(listing, str(token))
    except (FatalError, TransientError):
        raise
    except ConnectorError:
        listing.reset()  # the token is too old (or unknown): list everything again
        return None
    if changed is None:
        listing.reset()
        return None
    stale = changed | _inside(listing, changed)  # a folder's grants reach all inside it
    listing.drive_grants.update({k: v for k, v in snapshot["drive_grants"].items()
                                 if k not in stale and k in listing.files})
    listing.unread_sharing.update({k: v for k, v in snapshot["unread_sharing"].items()
                                   if k not in stale and k in listing.files})
    return new_token


def _inside(listing: DriveListing, folders: set[str]) -> set[str]:
    """Every item below one of `folders` (their sharing may have changed with theirs)."""
    children: dict[str, list[str]] = {}
    for file_id, entry in listing.files.items():
        for parent in entry.get("parents") or []:
            children.setdefault(parent, []).append(file_id)
    found: set[str] = set()
    pending = [f for f in folders if f in children]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _read_changes(listing: DriveListing, token: str) -> tuple[set[str] | None, str]:
    """Apply every change since `token`; (ids changed, next token), or (None, "") when a
    change to a shared drive itself calls for a full listing."""
    changes = listing.client.service.changes()
    with_drives = bool(listing.scope.shared_drives)
    changed: set[str] = set()
    page_token = token
    while True:
        page = listing.call(changes.list(
            pageToken=page_token, pageSize=PAGE_SIZE, spaces="drive", includeRemoved=True,
            supportsAllDrives=True, includeItemsFromAllDrives=with_drives,
            fields=CHANGE_FIELDS), _("the Drive changes"))
        for change in page.get("changes", []):
            if change.get("changeType") == "drive":
                return None, ""
            file_id = change.get("fileId")
            drive_id = change.get("driveId") or (change.get("file") or {}).get("driveId")
            if not file_id or (drive_id and drive_id not in listing.roots):
                continue  # a shared drive this step does not copy
            changed.add(file_id)
            entry = change.get("file")
            if change.get("removed") or entry is None or entry.pop("trashed", False):
                listing.files.pop(file_id, None)
            else:
                listing.files[file_id] = entry
        if page.get("newStartPageToken"):
            return changed, str(page["newStartPageToken"])
        page_token = page["nextPageToken"]
