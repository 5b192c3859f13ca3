"""Bulk listing of a WebDAV tree: one `PROPFIND Depth: infinity`, parsed as it streams.

Servers that refuse infinite depth (Apache mod_dav answers 403 unless `DavDepthInfinity On`)
are walked folder by folder with `Depth: 1` instead.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

from connectors.dav.http import DavHttp
from migrate.model import Fingerprint, ItemKind, TargetEntry

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"
NC = "{http://nextcloud.org/ns}"
PROPFIND_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
    "<d:resourcetype/><d:getcontentlength/><d:getetag/><d:getlastmodified/>"
    "<oc:fileid/><oc:checksums/>"
    "</d:prop></d:propfind>"
)
#: The same, plus who holds a files_lock lock (asked only after a 423: a whole-tree listing
#: would carry a 404 propstat per file on servers without the app).
LOCK_BODY = PROPFIND_BODY.replace(
    'xmlns:oc="http://owncloud.org/ns">',
    'xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">').replace(
    "<oc:checksums/>", "<oc:checksums/><nc:lock-owner/><nc:lock-owner-displayname/>")
QUOTA_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
    "<d:quota-available-bytes/><d:quota-used-bytes/></d:prop></d:propfind>"
)
#: Preferred first when a server stores several checksums of one file.
CHECKSUM_PREFERENCE = ("sha256", "sha1", "md5")
REFUSED_DEPTH = (400, 403, 501)


@dataclass(frozen=True)
class Resource:
    """One PROPFIND response: path relative to the listed root ('' for the root itself)."""

    path: str
    is_folder: bool
    fingerprint: Fingerprint
    file_id: str | None
    #: Who holds a files_lock lock on it ("Display name (user)"), if anyone.
    locked_by: str | None = None

    def entry(self) -> TargetEntry:
        kind = ItemKind.FOLDER if self.is_folder else ItemKind.FILE
        fingerprint = Fingerprint() if self.is_folder else self.fingerprint
        ref = {"fileid": self.file_id} if self.file_id else {}
        return TargetEntry(self.path, kind, fingerprint, ref)


def normal_etag(value: str | None) -> str | None:
    """An etag without quotes or the weak mark: Apache calls a file's etag weak (`W/`) while its
    mtime is under a second old and strong later, for the same version."""
    value = (value or "").strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


def best_checksum(text: str | None) -> str | None:
    """`sha256:…` (lowercased) from `oc:checksum` text like `SHA1:ab MD5:cd SHA256:ef`."""
    found: dict[str, str] = {}
    for part in (text or "").split():
        algorithm, _sep, digest = part.partition(":")
        if digest:
            found[algorithm.lower()] = digest.lower()
    return next((f"{a}:{found[a]}" for a in CHECKSUM_PREFERENCE if a in found), None)


def _parse_response(element: ElementTree.Element, root_path: str) -> Resource | None:
    href = unquote(urlparse(element.findtext(f"{DAV}href") or "").path)
    if not href.startswith(root_path.rstrip("/")):
        return None
    relative = href[len(root_path.rstrip("/")):].strip("/")
    prop = None
    for propstat in element.findall(f"{DAV}propstat"):
        if "200" in (propstat.findtext(f"{DAV}status") or ""):
            prop = propstat.find(f"{DAV}prop")
    if prop is None:
        return None
    resource_type = prop.find(f"{DAV}resourcetype")
    is_folder = resource_type is not None and resource_type.find(f"{DAV}collection") is not None
    length = prop.findtext(f"{DAV}getcontentlength")
    modified = prop.findtext(f"{DAV}getlastmodified")
    mtime = email.utils.parsedate_to_datetime(modified).timestamp() if modified else None
    etag = normal_etag(prop.findtext(f"{DAV}getetag"))
    checksums = " ".join(e.text or "" for e in prop.iter(f"{OC}checksum"))
    fingerprint = Fingerprint(int(length) if length else None, mtime, best_checksum(checksums),
                              etag)
    owner = prop.findtext(f"{NC}lock-owner")
    shown = prop.findtext(f"{NC}lock-owner-displayname")
    locked_by = (f"{shown} ({owner})" if shown and shown != owner else owner) or None
    return Resource(relative, is_folder, fingerprint, prop.findtext(f"{OC}fileid"), locked_by)


def propfind(http: DavHttp, url: str, depth: str, what: str,
             refused: tuple[int, ...] = (), body: str = PROPFIND_BODY) -> Iterator[Resource]:
    """The resources at and under `url`, streamed, paths relative to it; 404 yields nothing.

    Raises `DepthRefusedError` when the server answers one of the `refused` statuses."""
    response = http.request("PROPFIND", url, what, ok=(404, *refused),
                            headers={"Depth": depth, "Content-Type": "application/xml"},
                            data=body, stream=True)
    if response.status_code >= 300:
        response.close()
        if response.status_code in refused:
            raise DepthRefusedError(response.status_code)
        return
    root_path = unquote(urlparse(url).path)
    response.raw.decode_content = True
    with response:
        for _event, element in ElementTree.iterparse(response.raw):
            if element.tag == f"{DAV}response":
                resource = _parse_response(element, root_path)
                element.clear()
                if resource is not None:
                    yield resource


class DepthRefusedError(Exception):
    """The server does not list a whole tree at once."""


def list_tree(http: DavHttp, path: str, allow_infinity: bool = True,
              answer: Callable[[bool], None] | None = None) -> Iterator[Resource]:
    """Every file and folder under `path`, in one request when the server allows it.

    `answer(True/False)` is told whether the server listed the whole tree at once, so the
    caller can remember it and not ask again (connectors/dav/profile.py)."""
    if allow_infinity:
        try:
            yield from propfind(http, http.url(path, folder=True), "infinity", path or "/",
                                REFUSED_DEPTH)
            if answer is not None:
                answer(True)
            return
        except DepthRefusedError:
            if answer is not None:  # the refusal comes before any response body
                answer(False)
    yield from _walk(http, path)


#: Folders listed at once when a server refuses `Depth: infinity`, as rclone's `--checkers`:
#: on a real network each PROPFIND waits a round trip, so a tree of 200 folders walked one
#: by one costs 200 round trips end to end.
WALKERS = 4


def _walk(http: DavHttp, path: str) -> Iterator[Resource]:
    """The tree folder by folder (`Depth: 1`), `WALKERS` folders at a time; resources come in
    the order the folders answer (callers key them by path)."""
    def folder_of(relative: str) -> list[Resource]:
        inner = f"{path.strip('/')}/{relative}".strip("/")
        return list(propfind(http, http.url(inner, folder=True), "1", inner or "/"))

    with ThreadPoolExecutor(WALKERS, thread_name_prefix="list") as pool:
        pending = {pool.submit(folder_of, ""): ""}
        try:
            while pending:
                finished, _running = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    relative = pending.pop(future)
                    for resource in future.result():
                        if not resource.path:
                            if not relative:
                                yield resource
                            continue
                        full = f"{relative}/{resource.path}" if relative else resource.path
                        yield Resource(full, resource.is_folder, resource.fingerprint,
                                       resource.file_id)
                        if resource.is_folder:
                            pending[pool.submit(folder_of, full)] = full
        finally:
            for future in pending:  # an error or a reader that stopped early: ask no more
                future.cancel()


def read_quota(http: DavHttp) -> tuple[int | None, int | None]:
    """(used, available) bytes of the account, from the DAV root's quota properties."""
    response = http.request("PROPFIND", http.url("", folder=True), "/", ok=(404,),
                            headers={"Depth": "0", "Content-Type": "application/xml"},
                            data=QUOTA_BODY)
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        return None, None
    used = root.findtext(f".//{DAV}quota-used-bytes")
    free = root.findtext(f".//{DAV}quota-available-bytes")
    as_int = lambda text: int(text) if text and text.lstrip("-").isdigit() else None  # noqa: E731
    return as_int(used), as_int(free)
