"""`DavTarget`: a folder on any WebDAV server; `NextcloudTarget` (nextcloud_target.py) adds
what Nextcloud does beyond it by overriding this class's public hooks (`put_file`,
`remove_leftovers`, `share`, `unchecked_note`).

- Listing: one PROPFIND for the whole tree (folder by folder where the server refuses that).
- A file goes in one PUT. Apache's mod_dav_fs writes a PUT to a temporary file and renames it
  itself (learnt from the server: connectors/dav/profile.py); on other plain servers a file is
  put under a temporary name derived from the idempotency key and MOVEd into place.
- What is verified is the size, and, with `read_back`, the content downloaded again
  (`connectors/dav/verification.py`).
- Parent folders are created with MKCOL and remembered.
- How it writes (`DavSettings`) is chosen by the connector: connectors/dav/settings.py.
"""

from __future__ import annotations

import hashlib
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connectors.dav import listing
from connectors.dav.collisions import CollisionResolver, KeptNames, Level, LevelsOf
from connectors.dav.http import DavHttp, InsufficientStorageError, LockedError
from connectors.dav.keepalive import KeepAliveUploads
from connectors.dav.listing import Resource, list_tree, normal_etag, propfind
from connectors.dav.names import encode_segment
from connectors.dav.profile import ServerProfile
from connectors.dav.readback import FolderReadback, Listing
from connectors.dav.refusals import does_not_fit, held_lock, too_large
from connectors.dav.settings import MEGABYTE, DavSettings
from connectors.dav.sharing import Known, share_notes
from connectors.dav.streams import BoundedBody, Hasher, is_exhausted, unbounded
from connectors.dav.verification import BLOCK, ReadBack, sha256_of
from migrate.connector import Capabilities, Source, Target
from migrate.errors import TransientError
from migrate.i18n import _
from migrate.journal.fastmake import maker
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.runner import gcpause

TEMPORARY_PREFIX = ".~migrate-"
#: Files this small are read into memory first, so their checksum can go in the PUT headers.
SMALL = 1 << 20
#: The account's free space, not asked yet.
_UNREAD = object()
#: One per item of every plan and re-run: see migrate/journal/fastmake.py.
_target_name = maker(TargetName, ("name", "rename_reason", "notes", "refusal", "original"))


class DavTarget(Target):
    def __init__(self, http: DavHttp, root: str, settings: DavSettings,
                 capabilities: Capabilities) -> None:
        self.http, self.root, self.settings = http, root.strip("/"), settings
        self.capabilities = capabilities
        self.collisions = CollisionResolver(settings.folding)
        self._folders: set[str] = {""}
        self._lock = threading.Lock()
        self._mkcol_lock = threading.Lock()
        #: Files written whose PUT answer gave no ETag: `settle` reads their versions back.
        self._readback = FolderReadback()
        self.read_back = ReadBack(settings.read_back)
        #: Why items were left for a later run while writing (a person's lock, a file larger
        #: than the space left): said again at the end of the step, where it is read.
        self._left: list[str] = []
        # Every item names its folders again: encode each distinct segment once.
        normal = (lambda s: unicodedata.normalize("NFC", s)) if settings.stores_nfc else str
        self._encode = lru_cache(maxsize=65536)(
            lambda segment: encode_segment(normal(segment), settings.rules))
        self._levels = LevelsOf(self._encode)
        if type(self).name_key is DavTarget.name_key:  # the diff folds every name listed
            self.name_key = settings.folding.keyer()  # type: ignore[method-assign]
        #: The short ways of naming need this class's own levels (a group folder's are not).
        self._kept = KeptNames(self._encode) if type(self).levels is DavTarget.levels else None
        self.uploads = (KeepAliveUploads(http, http.user, http.password, http.verify_tls)
                        if KeepAliveUploads.is_usable(http.base) else None)
        self._address = _address(http.base)
        self._temporary: bool | None = settings.temporary_names
        self._free: object = _UNREAD

    def _learnt(self, **seen: bool) -> None:
        """Remember what the listing saw the server do (whether it lists a tree at once, has
        ownCloud's properties), so later runs ask it right."""
        known = self.settings.profiles.get(self._address) or ServerProfile()
        if any(getattr(known, fact) is not value for fact, value in seen.items()):
            for fact, value in seen.items():
                setattr(known, fact, value)
            known.checked = known.checked or time.time()
            self.settings.profiles.put(self._address, known)

    def _temporary_names(self) -> bool:
        """Whether a plain server needs our temporary name: asked of the server once (one
        OPTIONS), unless the plan says."""
        if self._temporary is not None:
            return self._temporary
        with self._lock:
            if self._temporary is None:
                known = self.settings.profiles.get(self._address)
                if known is None or known.atomic_put is None:
                    known = self._probe(known)
                self._temporary = not known.atomic_put
        return bool(self._temporary)

    def _probe(self, known: ServerProfile | None) -> ServerProfile:
        url = self.http.url("", folder=True)
        if self.uploads is not None:
            headers: Any = self.uploads.send("OPTIONS", url, "/").headers
        else:
            headers = self.http.request("OPTIONS", url, "/").headers
        profile = ServerProfile.from_options(headers)
        if known is not None:
            profile.depth_infinity, profile.owncloud_props = (known.depth_infinity,
                                                              known.owncloud_props)
        self.settings.profiles.put(self._address, profile)
        return profile

    # --- listing and names ------------------------------------------------------------

    def full(self, name: str) -> str:
        return f"{self.root}/{name}".strip("/")

    def list_entries(self) -> Iterator[TargetEntry]:
        known = self.settings.profiles.get(self._address)
        allow = known is None or known.depth_infinity is not False
        owncloud = known is None or known.owncloud_props is not False
        for resource in list_tree(self.http, self.root, allow, self._learnt, owncloud):
            path = resource.path
            if resource.is_folder:
                self.remember_folder(self.full(path))
            if path and (TEMPORARY_PREFIX not in path
                         or not path.rsplit("/", 1)[-1].startswith(TEMPORARY_PREFIX)):
                yield resource.entry()

    def levels(self, item: SourceItem) -> list[Level]:
        """A source whose names may hold `/` (Drive) gives them in `FileMeta.segments`."""
        return self._levels(item)

    def prepare_names(self, items: Sequence[SourceItem]) -> None:
        with gcpause.paused():  # no network here: see migrate/runner/gcpause.py
            if self._kept is None or not self.collisions.none_collide(items, self._encode):
                self.collisions.resolve(self.levels(item) for item in items)
            else:
                self.collisions.renamed, self.collisions.twins = {}, {}  # what `resolve` finds

    def name_key(self, name: str) -> str:
        return self.settings.folding.key(name)

    def name_for(self, item: SourceItem) -> TargetName:
        collisions = self.collisions
        if self._kept is not None and not (collisions.renamed or collisions.twins) \
                and self._kept(item):
            name = original = item.path  # every level keeps its name: what its levels give
            reason = None
        else:
            name, reason, original = collisions.name_of(self.levels(item))
        data = item.data  # most items have none, hence no notes (`share_notes`)
        notes = () if data is None else share_notes(
            data, self.settings.sharing, self.settings.identities, self.known_recipients())
        # A group folder ('/mount/…') has a quota of its own: only the account's is read here.
        refusal = None if item.kind is not ItemKind.FILE or name.startswith("/") else \
            too_large(item, self._free_space())
        return _target_name(name, reason, notes, refusal, original)

    def _free_space(self) -> int | None:
        """The account's free bytes as the server says at the plan (Nextcloud: one PROPFIND
        the first time a file is named), None where the server does not say."""
        if self.http.quota is None:
            return None
        if self._free is _UNREAD:
            self._free = self.http.quota()[1]
        return self._free  # type: ignore[return-value]

    # --- writing --------------------------------------------------------------------

    def remember_folder(self, path: str) -> None:
        """`path` (from the DAV root) exists on the server: no MKCOL for it."""
        with self._lock:
            self._folders.add(path)

    def ensure_folder(self, path: str) -> None:
        """MKCOL `path` and its missing ancestors (relative to the DAV root)."""
        if path in self._folders:
            return  # every file of a folder after its first: no lock, no split
        parts = [p for p in path.split("/") if p]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder in self._folders:
                continue
            # One MKCOL at a time: two racing for one folder make some servers answer 403.
            with self._mkcol_lock:
                if folder not in self._folders:
                    url = self.http.url(folder, folder=True)
                    if self.uploads is not None:  # this thread's kept-alive connection
                        self.uploads.send("MKCOL", url, folder, ok=(405,))
                    else:
                        self.http.request("MKCOL", url, folder, ok=(405,))
                    self._folders.add(folder)

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        path = self.full(change.target_name)
        if change.item.kind is ItemKind.FOLDER:
            self.ensure_folder(path)
            self.share(change, path)
            return TargetEntry(change.target_name, ItemKind.FOLDER)
        folder = path.rpartition("/")[0]
        self.ensure_folder(folder)
        self._readback.started(folder)
        try:
            with source.open(change.item) as stream:
                fingerprint = self.put_file(change, path, stream, idempotency_key)
        except LockedError:
            held = held_lock(self.http, path, change.item.path)
            if held is None:
                raise  # locked by a request in progress: worth retrying soon
            self._left_for_later(held)
            raise held from None
        except InsufficientStorageError:
            too_large = does_not_fit(self.http, change.item)
            if too_large is None:
                raise  # the account is full: the step stops, said once
            self._left_for_later(too_large)
            raise too_large from None
        finally:
            self._readback.ended(folder)
        if self.read_back.wants(change):
            self._read_back(path, change, source, fingerprint)
        self.share(change, path)
        return TargetEntry(change.target_name, ItemKind.FILE, fingerprint)

    def put_file(self, change: Change, path: str, stream: Any, key: str) -> Fingerprint:
        """Hook: send one file's bytes from `stream` to `path` (from the DAV root) so that
        nothing half written shows under that name; return the version written. A plain
        server gets a temporary name MOVEd into place, unless its own PUT is atomic."""
        item = change.item
        hasher = Hasher(enabled=False)  # a plain server neither checks nor lists checksums
        size = item.fingerprint.size
        final = self.http.url(path)
        if self._temporary_names():
            parent, _sep, _name = path.rpartition("/")
            temporary = self.http.url(f"{parent}/{TEMPORARY_PREFIX}{key[:16]}.tmp")
            response = self.send(temporary, stream, size, hasher, item.path)
            self.check_whole(stream, hasher, item)
            move = {"Destination": final, "Overwrite": "T"}
            if self.uploads is not None:  # the same kept-alive connection as the PUT
                self.uploads.send("MOVE", temporary, item.path, headers=move)
            else:
                self.http.request("MOVE", temporary, item.path, headers=move)
        else:
            response = self.send(final, stream, size, hasher, item.path)
            self.check_whole(stream, hasher, item)
        etag = normal_etag(response.headers.get("ETag"))
        if not etag:  # Apache's answer has none: `settle` reads it back with its folder
            self._readback.unsettled(path)
        return Fingerprint(hasher.size, None, None, etag)

    def send(self, url: str, stream: Any, size: int | None, hasher: Hasher, what: str,
              headers: dict[str, str] | None = None) -> Any:
        """PUT one file's bytes: over this thread's kept-alive connection when the size is
        known (small files in one send with the headers, large ones in 1 MiB blocks), through
        `requests` otherwise (chunked transfer encoding) or when a proxy is configured."""
        if size is None:
            return self.http.request("PUT", url, what, data=unbounded(stream, hasher),
                                     headers=headers)
        body = BoundedBody(stream, size, hasher, what)
        if self.uploads is None:
            return self.http.request("PUT", url, what, data=body, headers=headers)
        if size <= SMALL:
            data = b"".join(iter(lambda: body.read(SMALL), b""))
            return self.uploads.put(url, data, size, what, headers)
        return self.uploads.put(url, body, size, what, headers)

    def _left_for_later(self, reason: Exception) -> None:
        with self._lock:
            self._left.append(str(reason))

    def _read_back(self, path: str, change: Change, source: Source,
                   written: Fingerprint) -> None:
        """Download what was just written and compare its SHA-256 with the source's."""
        expected = (written.checksum or "").partition("sha256:")[2]
        if not expected:
            with source.open(change.item) as stream:
                expected = sha256_of(iter(lambda: stream.read(BLOCK), b""))
        response = self.http.request("GET", self.http.url(path), change.item.path, stream=True)
        with response:
            actual = sha256_of(response.iter_content(BLOCK))
        self.read_back.compare(expected, actual, change.item.path)

    def plan_notes(self, changes: Sequence[Change]) -> list[str]:
        return self.read_back.choose(changes, self.unchecked_note())

    def unchecked_note(self) -> str:
        """Hook: what the plan says is checked of an upload when nothing is read back."""
        return _("After each upload its size is checked; the content is not read back (a "
                 "WebDAV server checks no checksum). Add 'read_back: all', or a number of "
                 "files to check at random, to the step's 'with:' to compare content.")

    def notes(self) -> list[str]:
        return [*self._left, *self.read_back.notes()]

    def settle(self, written: Sequence[TargetEntry]) -> list[TargetEntry]:
        """The versions of files whose PUT answer had no ETag, read back with one PROPFIND
        (Depth 1) per folder instead of one per file, and at most once per folder while its
        files finish (connectors/dav/readback.py; called from one thread at a time). A file
        whose size differs by now (edited in between) keeps the size alone, so the next plan
        calls it changed on the target. A read-back that fails is retried by the runner whole:
        its files are still awaited then (`FolderReadback.versions` settles only on success)."""
        pending = self._readback.awaited(self.full(e.name) for e in written)
        found = self._readback.versions(pending, self._list_folder) if pending else {}
        settled = []
        for entry in written:
            resource = found.get(self.full(entry.name))
            if resource is not None and resource.fingerprint.size == entry.fingerprint.size:
                entry = TargetEntry(entry.name, entry.kind, resource.fingerprint,
                                    {"fileid": resource.file_id} if resource.file_id else {})
            settled.append(entry)
        return settled

    def _list_folder(self, folder: str) -> Listing:
        """The files directly in `folder`, by name; without ownCloud's properties where a
        listing found none or OPTIONS named mod_dav_fs (`atomic_put`): see decision 0498."""
        known = self.settings.profiles.get(self._address)
        body = listing.PLAIN_BODY if known is not None and (
            known.owncloud_props is False or known.atomic_put) else listing.PROPFIND_BODY
        return {resource.path: resource
                for resource in propfind(self.http, self.http.url(folder, folder=True), "1",
                                         folder or "/", body=body)
                if resource.path and not resource.is_folder}

    def check_whole(self, stream: Any, hasher: Hasher, item: SourceItem) -> None:
        expected = item.fingerprint.size
        if expected is not None and (hasher.size != expected or not is_exhausted(stream)):
            raise TransientError(_("{path} changed at the source while it was being copied")
                                 .format(path=item.path))

    def share(self, change: Change, path: str) -> None:
        """Hook: recreate the source's sharing of a written item (`FileMeta.permissions`);
        a plain WebDAV server has no shares."""

    def known_recipients(self) -> Known | None:
        """Unknown recipients are said in the plan (one sharee search per name), not found
        at apply time by a refused share."""
        shares = self.settings.shares
        return shares.exists if shares is not None and self.settings.sharing == "map" else None

    # --- verifying ------------------------------------------------------------------

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        path = self.full(change.target_name)
        found = next(iter(propfind(self.http, self.http.url(path), "0", path)), None)
        is_folder = change.item.kind is ItemKind.FOLDER
        if found is not None and found.is_folder == is_folder and (
                is_folder or self._same_content(found, change.item, source)):
            self.share(change, path)
            return TargetEntry(change.target_name, change.item.kind,
                               Fingerprint() if is_folder else found.fingerprint,
                               {"fileid": found.file_id} if found.file_id else {})
        self.remove_leftovers(path, idempotency_key)
        return None

    def _same_content(self, found: Resource, item: SourceItem, source: Source) -> bool:
        expected = item.fingerprint
        if expected.size is not None and found.fingerprint.size != expected.size:
            return False
        theirs = found.fingerprint.checksum
        if not theirs:
            return expected.size is not None
        algorithm = theirs.split(":", 1)[0]
        if expected.checksum and expected.checksum.split(":", 1)[0] == algorithm:
            return expected.checksum.lower() == theirs
        digest = hashlib.new(algorithm)
        with source.open(item) as stream:
            while block := stream.read(MEGABYTE):
                digest.update(block)
        return f"{algorithm}:{digest.hexdigest()}" == theirs

    def remove_leftovers(self, path: str, key: str) -> None:
        """Hook: remove what a cut write with `key` may have left (here its temporary name)."""
        parent = path.rpartition("/")[0]
        temporary = self.http.url(f"{parent}/{TEMPORARY_PREFIX}{key[:16]}.tmp")
        self.http.request("DELETE", temporary, path, ok=(404,))

    def close(self) -> None:
        if self.uploads is not None:
            self.uploads.close()
        self.http.close()


def _address(base: str) -> str:
    """The server's address as a cache key: never with a user name or password in it."""
    parts = urlsplit(base)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
