"""`NextcloudTarget`: what a Nextcloud server does beyond WebDAV, as `DavTarget`'s hooks.

- Files up to `chunk_threshold` go in one PUT, which Nextcloud writes to a `.part` and renames
  itself; larger ones by chunked upload v2 (connectors/dav/chunked.py), whose folder is what a
  cut write leaves behind.
- Every upload carries `X-OC-MTime` (the source's modification time, which Nextcloud keeps) and
  `OC-Checksum` (from the source's fingerprint, or SHA-256 computed while reading a small file).
  Nextcloud stores that checksum without checking it (docs/decisions/0441): a later run
  recognises the content by it; `read_back` is what checks bytes.
- The source's sharing is recreated as OCS shares (`sharing: map`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from typing import Any

from connectors.dav.chunked import ChunkedUpload
from connectors.dav.http import InsufficientStorageError
from connectors.dav.listing import normal_etag
from connectors.dav.sharing import plan_shares
from connectors.dav.streams import Hasher
from connectors.dav.target import SMALL, DavTarget
from migrate.i18n import _
from migrate.model import Change, Fingerprint, SourceItem

#: The checksum algorithms Nextcloud keeps (`OC-Checksum`, listed back in `oc:checksums`).
CHECKSUMS = ("sha256", "sha1", "md5")


class NextcloudTarget(DavTarget):
    def put_file(self, change: Change, path: str, stream: Any, key: str) -> Fingerprint:
        size = change.item.fingerprint.size
        if size is None or size > self.settings.chunk_threshold:
            return self._chunked(change, path, stream, key)
        return self._put(change, path, stream)

    def remove_leftovers(self, path: str, key: str) -> None:
        # Nextcloud's own PUT is atomic: only a chunked upload's folder can be left.
        self._upload(path, key, path).abandon()

    def unchecked_note(self) -> str:
        return _("After each upload its size is checked; the content is not read back "
                 "(Nextcloud keeps the checksum it is sent without checking it). Add "
                 "'read_back: all', or a number of files to check at random, to the "
                 "step's 'with:' to compare content.")

    def share(self, change: Change, path: str) -> None:
        permissions = change.item.data.permissions if change.item.data else None
        if self.settings.sharing != "map" or not permissions or self.settings.shares is None:
            return
        shares, _notes = plan_shares(permissions, self.settings.identities,
                                     self.known_recipients())
        self.settings.shares.ensure(path, shares, change.item.path)

    def _put(self, change: Change, path: str, stream: Any) -> Fingerprint:
        item = change.item
        headers = _headers(item)
        hasher = Hasher()
        size = item.fingerprint.size
        if "OC-Checksum" not in headers and size is not None and size <= SMALL:
            data = stream.read(SMALL + 1)
            headers["OC-Checksum"] = "SHA256:" + hashlib.sha256(data).hexdigest()
            stream = io.BytesIO(data)  # already read: sent from memory
            size = len(data)
        response = self.send(self.http.url(path), stream, size, hasher, item.path, headers)
        self.check_whole(stream, hasher, item)
        return _written(response, hasher, headers)

    def _chunked(self, change: Change, path: str, stream: Any, key: str) -> Fingerprint:
        item = change.item
        upload = self._upload(path, key, item.path)
        headers = _headers(item)
        hasher = Hasher()
        try:
            response = upload.send(stream, item.fingerprint.size, headers, hasher)
        except InsufficientStorageError:
            upload.abandon()  # refused before any chunk was kept: leave no empty folder behind
            raise
        self.check_whole(stream, hasher, item)
        return _written(response, hasher, headers)

    def _upload(self, path: str, key: str, what: str) -> ChunkedUpload:
        folder = f"{self.settings.uploads_url}/migrate-{key}"
        return ChunkedUpload(self.http, folder, self.http.url(path), self.settings.chunk_size,
                             what)


def _headers(item: SourceItem) -> dict[str, str]:
    headers = {}
    if item.fingerprint.mtime is not None:
        headers["X-OC-MTime"] = str(int(item.fingerprint.mtime))
    checksum = item.fingerprint.checksum or ""
    algorithm, _sep, digest = checksum.partition(":")
    if algorithm in CHECKSUMS and digest:
        headers["OC-Checksum"] = f"{algorithm.upper()}:{digest.lower()}"
    return headers


def _written(response: Any, hasher: Hasher, headers: Mapping[str, str]) -> Fingerprint:
    sent = headers.get("OC-Checksum", "")
    checksum = hasher.checksum()
    if sent and not sent.upper().startswith("SHA256:"):
        checksum = sent.split(":", 1)[0].lower() + ":" + sent.split(":", 1)[1]
    etag = normal_etag(response.headers.get("OC-ETag") or response.headers.get("ETag"))
    mtime = float(headers["X-OC-MTime"]) if "X-OC-MTime" in headers else None
    return Fingerprint(hasher.size, mtime, checksum, etag)
