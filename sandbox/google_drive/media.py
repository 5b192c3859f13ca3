"""Downloads: files.get alt=media (with Range), files.export and the exportLinks URLs."""

from __future__ import annotations

import base64
import re
import secrets
import socket
from collections.abc import Callable, Iterator
from functools import lru_cache

from werkzeug.wrappers import Response

from .api import visible_file
from .call import Call
from .content import GeneratedContent
from .errors import DriveApiError, invalid_parameter, not_found
from .exports import export_formats, render_export
from .faults import Fault
from .model import GOOGLE_KINDS, DriveFile
from .resources import can_download, user_role
from .state import DriveState

VID_MIME = GOOGLE_KINDS["vid"]

#: files.export refuses exports over 10 MB; exportLinks do not (Drive's documented behaviour).
EXPORT_LIMIT = 10 * 1024 * 1024

RangeReader = Callable[[int, int], Iterator[bytes]]


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a single `bytes=` range, None for the whole body.

    416 if the range cannot be satisfied."""
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not match or match.groups() == ("", ""):
        return None  # malformed or multi-range: servers may ignore Range, and Google does
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size
    else:
        start, end = int(first), size if last == "" else min(int(last) + 1, size)
    if start >= size or start >= end:
        raise DriveApiError(
            416,
            "requestedRangeNotSatisfiable",
            "Request range not satisfiable",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end


def _stream(
    read: RangeReader, start: int, end: int, fault: Fault | None, environ: dict[str, object]
) -> Iterator[bytes]:
    sent = 0
    for chunk in read(start, end):
        if fault is not None and fault.kind == "drop" and sent + len(chunk) >= fault.after_bytes:
            yield chunk[: max(0, fault.after_bytes - sent)]
            connection = environ.get("werkzeug.socket")
            if isinstance(connection, socket.socket):
                # Cut the TCP connection mid-body, as a flaky network or proxy would.
                connection.shutdown(socket.SHUT_RDWR)
            return
        sent += len(chunk)
        yield chunk


def media_response(
    call: Call, read: RangeReader, size: int, mime: str, fault: Fault | None, md5: str | None = None
) -> Response:
    """A streamed body, 206 with Content-Range when the request had a satisfiable Range."""
    byte_range = _parse_range(call.request.headers.get("Range"), size)
    start, end = byte_range or (0, size)
    body = _stream(read, start, end, fault, call.request.environ)
    response = Response(
        body, status=206 if byte_range else 200, mimetype=None, direct_passthrough=True
    )
    response.headers["Content-Type"] = mime
    response.headers["Content-Length"] = str(end - start)
    response.headers["Accept-Ranges"] = "bytes"
    if byte_range:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if md5:
        digest = base64.b64encode(bytes.fromhex(md5)).decode()
        response.headers["X-Goog-Hash"] = f"md5={digest}"
    return response


def _check_downloadable(state: DriveState, item: DriveFile) -> None:
    """403 `cannotDownloadFile` when the owner's or the organisation's restrictions hold this
    user back (capabilities.canDownload is then false)."""
    with state.lock:
        allowed = can_download(state, item)
    if not allowed:
        raise DriveApiError(
            403,
            "cannotDownloadFile",
            "The user does not have sufficient permissions to download this file.",
        )


def _check_abuse(state: DriveState, call: Call, item: DriveFile) -> None:
    """Files flagged as malware or abuse: only their owner (or a shared drive's organizer)
    may download them, and only by acknowledging the risk."""
    if not item.abusive:
        return
    with state.lock:
        role = user_role(state, item)
    if not call.flag("acknowledgeAbuse") or role not in ("owner", "organizer"):
        raise DriveApiError(
            403,
            "cannotDownloadAbusiveFile",
            "This file has been identified as malware or spam and cannot be downloaded.",
        )


def download(state: DriveState, call: Call, file_id: str, fault: Fault | None) -> Response:
    """files.get?alt=media: the bytes of a binary file; Google types are not downloadable."""
    with state.lock:
        item = visible_file(state, call, file_id)
    if item.content is not None:
        _check_downloadable(state, item)
        _check_abuse(state, call, item)
    if item.content is None:
        raise DriveApiError(
            403,
            "fileNotDownloadable",
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
            location="alt",
        )
    content = item.content
    return media_response(
        call, content.iter_range, content.size, item.mime_type, fault, content.md5
    )


@lru_cache(maxsize=4)
def _rendered(file_id: str, version: int, export_mime: str, title: str, size: int) -> bytes:
    # Keyed by version: a modified document renders anew; repeated reads (Range) reuse bytes.
    return render_export(export_mime, title, size)


def _export_bytes(item: DriveFile, export_mime: str) -> bytes:
    return _rendered(item.id, item.version, export_mime, item.name, item.export_size or 0)


def _exportable(item: DriveFile, export_mime: str) -> None:
    formats = export_formats(item.mime_type)
    if not item.is_google_type or not formats:
        raise DriveApiError(403, "fileNotExportable", "Export only supports Docs Editors files.")
    if export_mime not in formats:
        raise DriveApiError(
            400, "badRequest", "The requested conversion is not supported.", location="convertTo"
        )


def _bytes_response(call: Call, data: bytes, mime: str, fault: Fault | None) -> Response:
    def read(start: int, end: int) -> Iterator[bytes]:
        for offset in range(start, end, 256 * 1024):
            yield data[offset : min(offset + 256 * 1024, end)]

    return media_response(call, read, len(data), mime, fault)


def export(state: DriveState, call: Call, file_id: str, fault: Fault | None) -> Response:
    """files.export: a Google type as `mimeType`; 403 exportSizeLimitExceeded over 10 MB."""
    export_mime = call.params["mimeType"]
    with state.lock:
        # files.export has no supportsAllDrives parameter (see the discovery document):
        # Drive exports shared-drive documents without it.
        item = visible_file(state, call, file_id, any_drive=True)
    _exportable(item, export_mime)
    _check_downloadable(state, item)
    if (item.export_size or 0) > EXPORT_LIMIT:
        raise DriveApiError(
            403, "exportSizeLimitExceeded", "This file is too large to be exported."
        )
    return _bytes_response(call, _export_bytes(item, export_mime), export_mime, fault)


def export_link(state: DriveState, call: Call, fault: Fault | None) -> Response:
    """GET …/export/Export?id=ID&exportFormat=EXT, the emulator's exportLinks (no size limit)."""
    file_id = call.request.args.get("id", "")
    export_format = call.request.args.get("exportFormat", "")
    with state.lock:
        item = state.files.get(file_id)
    if item is None:
        raise not_found(file_id)
    mimes = [m for m, ext in export_formats(item.mime_type).items() if ext == export_format]
    if not mimes:
        raise invalid_parameter("exportFormat")
    return _bytes_response(call, _export_bytes(item, mimes[0]), mimes[0], fault)


#: files.download's default (and only) format for Google Vids.
VIDEO_MP4 = "video/mp4"


def start_download(state: DriveState, call: Call, file_id: str) -> dict[str, object]:
    """files.download: a long-running operation whose response, once done, holds a
    `downloadUri` (Drive's way for files with no bytes of their own to export, like Vids)."""
    with state.lock:
        item = visible_file(state, call, file_id)
    _check_downloadable(state, item)
    mime = call.params.get("mimeType")
    if item.mime_type == VID_MIME:
        if mime not in (None, VIDEO_MP4):
            raise DriveApiError(400, "badRequest", "The requested conversion is not supported.",
                                location="mimeType")
    elif item.content is None:
        raise DriveApiError(403, "fileNotDownloadable",
                            "Use Export with Docs Editors files.", location="fileId")
    name = "dl" + secrets.token_hex(8)
    with state.lock:
        state.operations[name] = {"file_id": item.id, "polls": state.operation_polls}
    return {"name": name, "done": False,
            "metadata": {"@type": "type.googleapis.com/google.apps.drive.v3.DownloadFileMetadata"}}


def get_operation(state: DriveState, call: Call, name: str) -> dict[str, object]:
    """operations.get: not done for the first `operation_polls` polls, then done."""
    with state.lock:
        operation = state.operations.get(name)
        if operation is None:
            raise DriveApiError(404, "notFound", f"Operation not found: {name}",
                                location="name")
        operation["polls"] = int(operation["polls"]) - 1
        done = int(operation["polls"]) < 0
    if not done:
        return {"name": name, "done": False}
    return {"name": name, "done": True, "response": {
        "@type": "type.googleapis.com/google.apps.drive.v3.DownloadFileResponse",
        "downloadUri": f"{call.base_url}/download/{name}", "partialDownloadAllowed": True}}


def operation_download(state: DriveState, call: Call, name: str,
                       fault: Fault | None) -> Response:
    """The `downloadUri` of a finished files.download operation: the bytes, Range allowed."""
    with state.lock:
        operation = state.operations.get(name)
        item = state.files.get(str(operation["file_id"])) if operation else None
    if item is None:
        raise not_found(name)
    if item.content is not None:
        return media_response(call, item.content.iter_range, item.content.size,
                              item.mime_type, fault, item.content.md5)
    video = GeneratedContent(size=item.export_size or 0, seed=f"{item.id}:{item.version}")
    return media_response(call, video.iter_range, video.size, VIDEO_MP4, fault)
