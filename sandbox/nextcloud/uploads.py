"""Writes: plain PUT and chunked upload v2, with Nextcloud's headers, checks and statuses.

Bodies are streamed to a temporary file beside the index (never held in memory), checked against
`OC-Total-Length`, then renamed into place, so a failed or cut upload never leaves a partial
file in the user's tree. `OC-Checksum` is stored as sent and not checked, as Nextcloud does.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sandbox.nextcloud import groupfolders
from sandbox.nextcloud.filenames import InvalidFilenameError
from sandbox.nextcloud.groupfolders import Location, locate
from sandbox.nextcloud.responses import INVALID_PATH, DavError, Headers
from sandbox.nextcloud.state import SandboxState

BLOCK = 1024 * 1024
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 5 * 1024 * 1024 * 1024
MAX_CHUNKS = 10000
LOCK_WAITS = 50


class Digest:
    """MD5, SHA1, SHA256 and Adler-32 of a stream, computed as it passes."""

    def __init__(self) -> None:
        self._hashes = {"SHA1": hashlib.sha1(), "MD5": hashlib.md5(), "SHA256": hashlib.sha256()}
        self._adler = 1
        self.size = 0

    def update(self, data: bytes) -> None:
        for digest in self._hashes.values():
            digest.update(data)
        self._adler = zlib.adler32(data, self._adler)
        self.size += len(data)

    def hexdigest(self, algorithm: str) -> str | None:
        algorithm = algorithm.upper()
        if algorithm == "ADLER32":
            return f"{self._adler:08x}"
        digest = self._hashes.get(algorithm)
        return None if digest is None else digest.hexdigest()

    def stored(self, client_header: str | None) -> str | None:
        """The `oc:checksum` text Nextcloud keeps: the client's `OC-Checksum` as sent (trimmed),
        never compared with the bytes; none without the header (`File::put`, NC 20–34)."""
        return client_header.strip() if client_header and client_header.strip() else None


@dataclass
class Written:
    """The outcome of a write: whether the file is new, and the headers to answer with."""

    created: bool
    headers: Headers


def body_stream(environ: dict[str, Any]) -> Iterator[bytes]:
    """The request body in blocks; honours Content-Length or reads chunked bodies to the end."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    left = int(length) if length else None
    while left is None or left > 0:
        data = stream.read(BLOCK if left is None else min(BLOCK, left))
        if not data:
            break
        if left is not None:
            left -= len(data)
        yield data


def _temp_file(state: SandboxState) -> tuple[BinaryIO, Path]:
    folder = state.data_dir / "appdata_sandbox" / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, suffix=".part")
    return os.fdopen(handle, "wb"), Path(name)


def spool(state: SandboxState, blocks: Iterable[bytes], limit: int | None) -> tuple[Path, Digest]:
    """Write `blocks` to a temporary file; 507 as soon as more than `limit` bytes arrive."""
    digest = Digest()
    handle, temp = _temp_file(state)
    try:
        with handle:
            for data in blocks:
                digest.update(data)
                if limit is not None and digest.size > limit:
                    raise DavError(507, f"Insufficient space, {limit} bytes available")
                handle.write(data)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, digest


def check_name(state: SandboxState, path: str) -> None:
    """400 InvalidPath (with `o:retry` false) for a name Nextcloud's validator refuses."""
    try:
        state.rules.validate(path.rstrip("/").rsplit("/", 1)[-1])
    except InvalidFilenameError as error:
        raise DavError(400, str(error), INVALID_PATH, retry=False) from error


#: Permission bits a write needs in a group folder: create for a new node, update to replace.
UPDATE, CREATE, DELETE, ALL_BITS = 2, 4, 8, 31


def check_permission(state: SandboxState, user: str, path: str, method: str) -> None:
    """403 as Nextcloud answers a write the user's group folder permissions do not allow.
    `method` is the request's, "PUT" for a MOVE/COPY destination."""
    if method not in ("PUT", "MKCOL", "DELETE", "MOVE"):
        return
    where = locate(state, user, path)
    if where.folder is None:
        return
    if where.inner == "/" and method in ("DELETE", "MOVE"):
        needed = ALL_BITS + 1  # the mount point itself is the admin's, never a member's
    elif method in ("DELETE", "MOVE"):
        needed = DELETE
    else:
        needed = UPDATE if where.file_path.exists() else CREATE
    if where.permissions & needed != needed:
        raise DavError(403, f"No permission to change {path}")


def _free(state: SandboxState, user: str, where: Location) -> int:
    if where.folder is not None:
        return groupfolders.free_bytes(state, where.folder)
    return state.free_bytes(user)


def check_quota(state: SandboxState, user: str, path: str, length: int, replaced: int) -> None:
    """507 with QuotaPlugin's message when `length` bytes would not fit."""
    free = _free(state, user, locate(state, user, path))
    if free >= 0 and length - replaced > free:
        raise DavError(507, f"Insufficient space in {path}, {length} required, {free} available")


#: QuotaPlugin::onCreateCollection counts a new folder as this many bytes.
FOLDER_BYTES = 4096


def check_folder_quota(state: SandboxState, user: str, path: str) -> None:
    """507 for MKCOL when less than 4096 bytes are free (QuotaPlugin, NC 30–34)."""
    parent = path.rstrip("/").rpartition("/")[0] or "/"
    free = _free(state, user, locate(state, user, parent))
    if 0 <= free < FOLDER_BYTES:
        raise DavError(507, f"Insufficient space in {parent}. {free} available. Cannot create "
                            "directory")


def parse_mtime(environ: dict[str, Any]) -> int | None:
    value = environ.get("HTTP_X_OC_MTIME")
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError as error:
        message = "X-OC-MTime header must be an integer (unix timestamp)."
        raise DavError(400, message) from error


def commit(
    state: SandboxState, user: str, path: str, temp: Path, digest: Digest, environ: dict[str, Any]
) -> Written:
    """Move `temp` to `path` in `user`'s tree, set mtime, record, build headers."""
    checksum_header = environ.get("HTTP_OC_CHECKSUM")
    try:
        mtime = parse_mtime(environ)
    except DavError:
        temp.unlink(missing_ok=True)
        raise
    where = locate(state, user, path)
    target = where.file_path
    created = not target.exists()
    os.replace(temp, target)
    headers: Headers = []
    if mtime is not None:
        os.utime(target, (mtime, mtime))
        headers.append(("X-OC-MTime", "accepted"))
    record = state.index.record_write(where.owner, where.inner, digest.stored(checksum_header))
    stat = target.stat()
    etag = state.index.etag(where.owner, where.inner, stat.st_size, stat.st_mtime_ns)
    file_id = f"{record.fileid:08d}{state.index.instance_id}"
    headers += [("ETag", f'"{etag}"'), ("OC-ETag", f'"{etag}"'), ("OC-FileId", file_id)]
    return Written(created, headers)


def _existing_size(target: Path) -> int:
    if target.is_dir():
        raise DavError(405, "Cannot PUT to a collection")
    if not target.parent.is_dir():
        raise DavError(409, "Files cannot be created in non-existent collections")
    return target.stat().st_size if target.exists() else 0


@contextmanager
def exclusive(state: SandboxState, where: Location) -> Iterator[None]:
    """Hold `where` for one write; a concurrent write to the same file (the same name once
    normalised) is answered 423 `FileLocked`, as Nextcloud's locking provider does."""
    key = (where.owner, where.inner)
    # A request whose connection was just cut still holds the file for a moment (its worker
    # has not noticed yet): wait that moment before answering 423, so the sandbox's own
    # thread scheduling does not decide.
    for _attempt in range(LOCK_WAITS):
        with state.lock:
            if key not in state.writing:
                state.writing.add(key)
                break
        time.sleep(0.01)
    else:
        raise DavError(423, f'"{where.inner.lstrip("/")}" is locked')
    try:
        yield
    finally:
        with state.lock:
            state.writing.discard(key)


def put_file(state: SandboxState, environ: dict[str, Any], user: str, path: str) -> Written:
    """PUT `path` (user-relative) from the request body."""
    check_name(state, path)
    with exclusive(state, locate(state, user, path)):
        return _put_file(state, environ, user, path)


def _put_file(state: SandboxState, environ: dict[str, Any], user: str, path: str) -> Written:
    where = locate(state, user, path)
    replaced = _existing_size(where.file_path)
    length = environ.get("CONTENT_LENGTH")
    expected = int(length) if length else None
    check_quota(state, user, path, expected or 0, replaced)
    free = _free(state, user, where)
    temp, digest = spool(state, body_stream(environ), None if free < 0 else free + replaced)
    if expected is not None and digest.size != expected:
        temp.unlink(missing_ok=True)
        raise DavError(
            400,
            f"Expected filesize of {expected} bytes but read (from Nextcloud client) and wrote "
            f"(to Nextcloud storage) {digest.size} bytes. Could either be a network problem on "
            "the sending side or a problem writing to the storage on the server side.",
        )
    return commit(state, user, path, temp, digest, environ)


# --- chunked upload v2 -------------------------------------------------------------------


def _upload_dir(state: SandboxState, user: str, upload_id: str) -> Path:
    folder = state.uploads_root(user) / upload_id
    if "/" in upload_id or upload_id in ("", ".", ".."):
        raise DavError(400, "Invalid upload id")
    return folder


def start_upload(state: SandboxState, user: str, upload_id: str, destination: str | None) -> None:
    """MKCOL of an upload folder; `destination` is the user-relative target path (v2)."""
    folder = _upload_dir(state, user, upload_id)
    if folder.exists():
        raise DavError(405, "The resource you tried to create already exists")
    folder.mkdir()
    if destination is not None:
        state.index.save_upload(user, upload_id, destination)


def put_chunk(state: SandboxState, environ: dict[str, Any], user: str, upload_id: str,
              chunk: str) -> None:  # fmt: skip
    """PUT one numbered chunk; a chunk number sent again replaces the earlier bytes."""
    folder = _upload_dir(state, user, upload_id)
    if not folder.is_dir():
        raise DavError(404, f"File with name {upload_id} could not be located")
    if not re.fullmatch(r"\d{1,5}", chunk) or not 1 <= int(chunk) <= MAX_CHUNKS:
        raise DavError(400, "Invalid chunk name, must be numeric between 1 and 10000")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > MAX_CHUNK:
        raise DavError(400, "Chunk is larger than the maximum of 5 GiB")
    staged = sum(p.stat().st_size for p in folder.iterdir() if p.name != chunk)
    destination = state.index.upload_destination(user, upload_id) or f"/{upload_id}"
    total = environ.get("HTTP_OC_TOTAL_LENGTH")
    if total is not None and total.isdigit() and not (folder / chunk).exists():
        # QuotaPlugin::beforeCreateFile: a new chunk with `OC-Total-Length` is checked for the
        # whole file against the destination's free space, so the first chunk already fails.
        parent = destination.rstrip("/").rpartition("/")[0] or "/"
        check_quota(state, user, parent, int(total), 0)
    check_quota(state, user, destination, staged + length, 0)
    temp, _digest = spool(state, body_stream(environ), MAX_CHUNK)
    os.replace(temp, folder / chunk)


def _chunks(folder: Path) -> list[Path]:
    chunks = sorted((p for p in folder.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    for chunk in chunks[:-1]:
        if chunk.stat().st_size < MIN_CHUNK:
            raise DavError(400, f"Chunk {chunk.name} is smaller than the minimum of 5 MiB")
    return chunks


def _read_chunks(chunks: list[Path]) -> Iterator[bytes]:
    for chunk in chunks:
        with chunk.open("rb") as handle:
            while data := handle.read(BLOCK):
                yield data


def finish_upload(state: SandboxState, environ: dict[str, Any], user: str, upload_id: str,
                  destination: str) -> Written:  # fmt: skip
    """MOVE `.file`: assemble the chunks in order into `destination`, streaming."""
    folder = _upload_dir(state, user, upload_id)
    if not folder.is_dir():
        raise DavError(404, f"File with name {upload_id} could not be located")
    check_name(state, destination)
    check_permission(state, user, destination, "PUT")
    replaced = _existing_size(locate(state, user, destination).file_path)
    chunks = _chunks(folder)
    actual = sum(chunk.stat().st_size for chunk in chunks)
    expected = environ.get("HTTP_OC_TOTAL_LENGTH")
    if expected is not None and int(expected) != actual:
        raise DavError(400, f"Chunks on server do not sum up to {expected} but to {actual} bytes")
    check_quota(state, user, destination, actual, replaced)
    with exclusive(state, locate(state, user, destination)):
        temp, digest = spool(state, _read_chunks(chunks), None)
        written = commit(state, user, destination, temp, digest, environ)
    shutil.rmtree(folder, ignore_errors=True)
    state.index.forget_upload(user, upload_id)
    return written
