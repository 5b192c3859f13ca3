"""Reading a Drive: bulk listing (see listing.py) and streaming each item's bytes.

Downloads go through `MediaIoBaseDownload` (ranged chunks) into a spooled temporary file, so
memory stays bounded whatever the size; binary files are checked against Drive's md5. Google
documents are exported with `files.export`, and through their `exportLinks` (fetched with the
service's authorised http) when Drive refuses an export over 10 MB.
"""

from __future__ import annotations

import hashlib
import tempfile
from contextlib import contextmanager
from typing import IO, Any, BinaryIO

from connectors.google_drive.client import DriveClient
from connectors.google_drive.errors import is_export_too_large, translate
from connectors.google_drive.items import build_items
from connectors.google_drive.listing import DriveListing, Scope
from migrate.connector import Listing, Source
from migrate.errors import ConnectorError, TransientError
from migrate.i18n import _
from migrate.model import SourceItem

CHUNK = 8 << 20
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
    def __init__(self, client: DriveClient, scope: Scope, connection: str | None) -> None:
        self.client, self.scope, self.connection = client, scope, connection
        self.last_listing: DriveListing | None = None

    def list_items(self) -> Listing:
        listing = DriveListing(self.client, self.scope, self.connection)
        token = listing.fetch()
        items = build_items(listing)
        self.last_listing = listing
        return Listing(items, cursor={"start_page_token": token})

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
            else:
                raise ConnectorError(_("{path} has no content to copy").format(path=item.path))
            spool.seek(0)
            yield spool

    def _what(self, item: SourceItem) -> str:
        return _("'{path}'").format(path=item.path)

    def _fetch(self, request: Any, out: BinaryIO | _HashingWriter) -> None:
        from googleapiclient.http import MediaIoBaseDownload

        downloader = MediaIoBaseDownload(out, request, chunksize=CHUNK)
        done = False
        while not done:
            _status, done = downloader.next_chunk(num_retries=0)

    def _download(self, item: SourceItem, spool: BinaryIO) -> None:
        files = self.client.service.files()
        writer = _HashingWriter(spool)
        try:
            self._fetch(files.get_media(fileId=item.meta["content_id"], supportsAllDrives=True),
                        writer)
        except Exception as error:
            raise translate(error, self._what(item), self.connection) from error
        expected = item.fingerprint.checksum
        if expected and expected.startswith("md5:") and expected[4:] != writer.md5.hexdigest():
            raise TransientError(_("{path} arrived damaged (checksum differs); it will be "
                                   "downloaded again").format(path=item.path))

    def _export(self, item: SourceItem, spool: BinaryIO) -> None:
        files = self.client.service.files()
        request = files.export_media(fileId=item.meta["content_id"],
                                     mimeType=item.meta["export_mime"])
        try:
            self._fetch(request, spool)
            return
        except Exception as error:
            if not is_export_too_large(error):
                raise translate(error, self._what(item), self.connection) from error
        spool.seek(0)
        spool.truncate()
        self._export_link(item, spool)

    def _export_link(self, item: SourceItem, spool: BinaryIO) -> None:
        """Documents over files.export's 10 MB: their exportLinks, with our authorised http."""
        from googleapiclient.errors import HttpError

        url = item.meta.get("export_link")
        if not url:
            raise ConnectorError(_("{path} is too large for Google to export and offers no "
                                   "other way; download it by hand").format(path=item.path))
        try:
            response, body = self.client.http.request(url, "GET")
            if response.status >= 300:
                raise HttpError(response, body, uri=url)
        except Exception as error:
            raise translate(error, self._what(item), self.connection) from error
        spool.write(body)

    def close(self) -> None:
        self.last_listing = None
