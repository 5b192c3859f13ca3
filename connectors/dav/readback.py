"""Reading back, one PROPFIND per folder, the versions of files whose PUT answer had no ETag.

Apache mod_dav answers a PUT without an ETag, so `DavTarget.settle` lists the folders of a
group of finished writes to learn them. The runner hands over groups as writes finish, so a
folder whose files are still being uploaded used to be read once per group (about twice per
folder). Two things make it about once:

- before reading a folder, wait (briefly, on the runner's background settle thread) for the
  uploads still in flight into it, so the listing covers them too;
- keep that listing, stamped with how many uploads had finished when it was asked for: a file
  whose upload finished before the stamp is in it, so a later group takes its version from
  there instead of reading the folder again. A file finished after the stamp never does.

The version kept is the one the server listed after our PUT, exactly as a fresh read would
give; a size that differs from what we sent (edited in between) is still refused by `settle`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from connectors.dav.listing import Resource

#: How long a read-back waits for uploads still going into its folder. Short: a large file may
#: take minutes, and the read-back is correct without waiting (only costlier).
WAIT_FOR_UPLOADS = 0.5
#: Listings kept (the most recent folders): writes run in path order, so a folder's files
#: finish close together; older listings are no longer asked for.
KEPT_FOLDERS = 64

Listing = dict[str, Resource]


class FolderReadback:
    """Which written files await their version, uploads in flight per folder, listings kept."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._finished = 0  # uploads finished so far: the stamp of a listing
        self._unsettled: dict[str, int] = {}  # path -> its place among finished uploads
        self._in_flight: dict[str, int] = {}  # folder -> uploads under way
        self._kept: dict[str, tuple[int, Listing]] = {}  # folder -> (stamp, name -> resource)

    def started(self, folder: str) -> None:
        with self._changed:
            self._in_flight[folder] = self._in_flight.get(folder, 0) + 1

    def ended(self, folder: str) -> None:
        with self._changed:
            left = self._in_flight[folder] - 1
            if left:
                self._in_flight[folder] = left
            else:
                del self._in_flight[folder]
                # Only now can a read-back waiting for this folder go on (`_quiet`): waking
                # it at every upload's end cost the settle thread a wake-up per file.
                self._changed.notify_all()

    def unsettled(self, path: str) -> None:
        """`path` was written and its answer had no version (call before `ended`)."""
        with self._changed:
            self._unsettled[path] = self._finished
            self._finished += 1

    def awaited(self, paths: Iterable[str]) -> dict[str, int]:
        """Those of `paths` awaiting their version, with their places. They stay awaited until
        `versions` has read them all: a read-back that fails (a 503, a dropped connection) is
        retried by the runner, and the retry must still know what to read."""
        with self._changed:
            return {path: self._unsettled[path] for path in paths if path in self._unsettled}

    def versions(self, pending: dict[str, int],
                 read: Callable[[str], Listing]) -> dict[str, Resource]:
        """What the server lists for each pending path, reading each folder at most once and
        only when no kept listing is recent enough (`read(folder)` gives name -> resource).

        Nothing is settled unless every folder was read: if one `read` raises, the listings
        read before it stay kept whole (stamped as usual, so a retry takes them without
        asking again) and every pending path stays awaited."""
        found: dict[str, Resource] = {}
        folders: dict[str, list[str]] = {}
        for path in pending:
            folder, _sep, name = path.rpartition("/")
            folders.setdefault(folder, []).append(name)
        read_now: list[tuple[str, Listing]] = []
        for folder, names in sorted(folders.items()):
            listing = self._kept_for(folder, max(pending[f"{folder}/{n}".lstrip("/")]
                                                 for n in names))
            if listing is None:
                stamp = self._quiet(folder)
                listing = read(folder)
                self._keep(folder, stamp, listing)
            read_now.append((folder, listing))
            for name in names:
                resource = listing.get(name)
                if resource is not None:
                    found[f"{folder}/{name}".lstrip("/")] = resource
        self._settled(pending, read_now, folders)
        return found

    def _settled(self, pending: dict[str, int], read_now: list[tuple[str, Listing]],
                 folders: dict[str, list[str]]) -> None:
        """All read: the pending paths are no longer awaited, and each version is taken out of
        its listing (taken once). A path written again meanwhile (a later place) stays."""
        with self._changed:
            for folder, listing in read_now:
                for name in folders[folder]:
                    listing.pop(name, None)
            for path, place in pending.items():
                if self._unsettled.get(path) == place:
                    del self._unsettled[path]

    def _kept_for(self, folder: str, newest: int) -> Listing | None:
        with self._changed:
            kept = self._kept.get(folder)
            return kept[1] if kept is not None and newest < kept[0] else None

    def _quiet(self, folder: str) -> int:
        """Wait (up to WAIT_FOR_UPLOADS) for uploads into `folder`; the stamp to read with."""
        deadline = time.monotonic() + WAIT_FOR_UPLOADS
        with self._changed:
            while folder in self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self._finished  # taken before the PROPFIND is sent

    def _keep(self, folder: str, stamp: int, listing: Listing) -> None:
        with self._changed:
            self._kept.pop(folder, None)
            self._kept[folder] = (stamp, listing)
            while len(self._kept) > KEPT_FOLDERS:
                del self._kept[next(iter(self._kept))]
