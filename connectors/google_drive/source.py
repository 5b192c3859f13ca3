"""Reading a Drive: bulk listing (see listing.py) and streaming each item's bytes.

Downloads go through `MediaIoBaseDownload` (ranged chunks) into a spooled temporary file, so
memory stays bounded whatever the size; binary files are checked against Drive's md5. Google
documents are exported with `files.export`, and through their `exportLinks` (fetched with the
connection's credentials, streamed) when files.export gives up: over 10 MB (403), or a large
export failing (500) or timing out (503). Files Google flags as abusive are downloaded with
`acknowledgeAbuse` only when the step says `acknowledge_abuse: true` and the account owns them.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from contextlib import contextmanager
from typing import IO, Any, BinaryIO

from connectors.google_drive.changes import Snapshots, fetch_changes
from connectors.google_drive.client import TIMEOUT_SECONDS, DriveClient
from connectors.google_drive.errors import (
    abuse_reason,
    export_needs_link,
    is_abusive_file,
    translate,
)
from connectors.google_drive.items import build_items
from connectors.google_drive.listing import DriveListing, Scope
from migrate.connector import Listing, Source, StepContext
from migrate.errors import ConnectorError, SkipItem, TransientError
from migrate.i18n import _
from migrate.model import SourceItem

CHUNK = 8 << 20
#: files.download operations: first poll after 1 s, then twice as long, at most 30 s apart.
OPERATION_FIRST_POLL, OPERATION_MAX_POLL = 1.0, 30.0
SPOOL_IN_MEMORY = 8 << 20


class _HashingWriter:
    """A file object MediaIoBaseDownload writes into, hashing what passes."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.md5, self.size = out, hashlib.md5(), 0

    def write(self, data: bytes) -> int:
        self.md5.update(data)
        self.size += len(data)
        return self.out.write(data)


class GoogleDriveSource(Source):
    def __init__(self, client: DriveClient, scope: Scope, connection: str | None,
                 step: StepContext | None = None) -> None:
        self.client, self.scope, self.connection = client, scope, connection
        self.cursor = dict(step.state) if step is not None else {}
        self.snapshots = Snapshots(step.state_dir if step else None,
                                   step.plan_id if step else "dry-run",
                                   step.step_id if step else "step")
        self.last_listing: DriveListing | None = None

    def list_items(self) -> Listing:
        """From the changes feed when a finished apply left a cursor (changes.py), else
        the whole scope."""
        listing = DriveListing(self.client, self.scope, self.connection)
        kept = self.cursor.get("snapshot")
        token = fetch_changes(listing, self.cursor, self.snapshots.load(kept))
        listing.incremental = token is not None
        if token is None:
            token = listing.fetch()
        items = build_items(listing)
        self.last_listing = listing
        cursor = {"start_page_token": token}
        snapshot = self.snapshots.save(listing, token, kept)
        if snapshot:
            cursor["snapshot"] = snapshot
        return Listing(items, cursor=cursor)

    def open(self, item: SourceItem) -> Any:
        return self._open(item)

    @contextmanager
    def _open(self, item: SourceItem):  # type: ignore[no-untyped-def]
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            how = item.meta.get("how")
            if how == "link":
                spool.write(f"[InternetShortcut]\r\nURL={item.meta['url']}\r\n".encode())
            elif how == "export":
                self._export(item, spool)
            elif how == "media":
                self._download(item, spool)
            elif how == "operation":
                self._download_operation(item, spool)
            else:
                raise ConnectorError(_("{path} has no content to copy").format(path=item.path))
            spool.seek(0)
            yield spool

    def _what(self, item: SourceItem) -> str:
        return _("'{path}'").format(path=item.path)

    def _fetch(self, request: Any, out: BinaryIO | _HashingWriter, what: str) -> None:
        from googleapiclient.http import MediaIoBaseDownload

        downloader = MediaIoBaseDownload(out, request, chunksize=CHUNK)
        done = False
        while not done:  # each chunk in its turn; a quota answer is waited out, then resumed
            _status, done = self.client.pacer.call(
                lambda: downloader.next_chunk(num_retries=0), what)

    def _download(self, item: SourceItem, spool: BinaryIO) -> None:
        files = self.client.service.files()
        writer = _HashingWriter(spool)
        acknowledge = False
        while True:
            request = files.get_media(fileId=item.meta["content_id"], supportsAllDrives=True,
                                      **({"acknowledgeAbuse": True} if acknowledge else {}))
            try:
                self._fetch(request, writer, self._what(item))
                break
            except Exception as error:
                if acknowledge or not is_abusive_file(error):
                    raise translate(error, self._what(item), self.connection) from error
                if not self._may_acknowledge(item):
                    raise SkipItem(abuse_reason(item, self.scope.acknowledge_abuse)) from error
            acknowledge = True  # the owner asked for it (acknowledge_abuse: true): once more
            spool.seek(0)
            spool.truncate()
            writer = _HashingWriter(spool)
        expected = item.fingerprint.checksum
        if expected and expected.startswith("md5:") and expected[4:] != writer.md5.hexdigest():
            raise TransientError(_("{path} arrived damaged (checksum differs); it will be "
                                   "downloaded again").format(path=item.path))

    def _download_operation(self, item: SourceItem, spool: BinaryIO) -> None:
        """files.download (Google Vids): a long-running operation, polled with growing pauses
        until Drive gives its `downloadUri`, whose bytes are then streamed like an
        exportLink."""
        service, what = self.client.service, self._what(item)
        try:
            operation = self.client.execute(service.files().download(
                fileId=item.meta["content_id"], mimeType=item.meta["export_mime"]), what)
            pause = 0.0
            while not operation.get("done"):
                time.sleep(pause)
                pause = min(max(pause * 2, OPERATION_FIRST_POLL), OPERATION_MAX_POLL)
                operation = self.client.execute(
                    service.operations().get(name=operation["name"]), what)
        except Exception as error:
            raise translate(error, what, self.connection) from error
        uri = (operation.get("response") or {}).get("downloadUri")
        if not uri:
            problem = (operation.get("error") or {}).get("message") or "?"
            raise ConnectorError(_("Google could not prepare {what} for download: {problem}")
                                 .format(what=what, problem=problem))
        try:
            self.client.pacer.call(lambda: self._stream_link(uri, spool), what)
        except Exception as error:
            raise translate(error, what, self.connection) from error

    def _may_acknowledge(self, item: SourceItem) -> bool:
        return self.scope.acknowledge_abuse and bool(item.meta.get("may_acknowledge_abuse"))

    def _export(self, item: SourceItem, spool: BinaryIO) -> None:
        files = self.client.service.files()
        request = files.export_media(fileId=item.meta["content_id"],
                                     mimeType=item.meta["export_mime"])
        try:
            self._fetch(request, spool, self._what(item))
            return
        except Exception as error:
            if not export_needs_link(error):
                raise translate(error, self._what(item), self.connection) from error
        spool.seek(0)
        spool.truncate()
        self._export_link(item, spool)

    def _export_link(self, item: SourceItem, spool: BinaryIO) -> None:
        """Documents files.export gives up on (over 10 MB: 403; a large PDF: 500; a big sheet
        timing out: 503): their exportLinks, streamed with our credentials into the spool."""
        url = item.meta.get("export_link")
        if not url:
            raise ConnectorError(_("{path} is too large for Google to export and offers no "
                                   "other way; download it by hand").format(path=item.path))
        try:
            self.client.pacer.call(lambda: self._stream_link(url, spool), self._what(item))
        except Exception as error:
            raise translate(error, self._what(item), self.connection) from error

    def _stream_link(self, url: str, spool: BinaryIO) -> None:
        import httplib2
        from googleapiclient.errors import HttpError

        spool.seek(0)
        spool.truncate()
        with self.client.session.get(url, stream=True, timeout=TIMEOUT_SECONDS) as response:
            if response.status_code >= 300:
                raise HttpError(httplib2.Response({"status": response.status_code}),
                                response.content, uri=url)
            for chunk in response.iter_content(chunk_size=1 << 20):
                spool.write(chunk)

    def close(self) -> None:
        self.last_listing = None
