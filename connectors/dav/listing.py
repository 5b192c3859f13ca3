"""Bulk listing of a WebDAV tree: one `PROPFIND Depth: infinity`, parsed as it streams.

Servers that refuse infinite depth (Apache mod_dav answers 403 unless `DavDepthInfinity On`)
are walked folder by folder with `Depth: 1` instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from queue import SimpleQueue
from typing import Any
from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

from connectors.dav.http import DavHttp
from connectors.dav.http_time import http_time
from migrate.journal.fastmake import maker
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
#: The same without ownCloud's properties, for a server seen not to have them (Apache,
#: nginx; connectors/dav/profile.py): there each costs a look-up per file (mod_dav_fs reads
#: its property database for it) and a `404` block per file in the answer.
PLAIN_BODY = PROPFIND_BODY.replace(' xmlns:oc="http://owncloud.org/ns"', "").replace(
    "<oc:fileid/><oc:checksums/>", "")
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


@dataclass(frozen=True, slots=True)
class Resource:
    """One PROPFIND response: path relative to the listed root ('' for the root itself)."""

    path: str
    is_folder: bool
    fingerprint: Fingerprint
    file_id: str | None
    #: Who holds a files_lock lock on it ("Display name (user)"), if anyone.
    locked_by: str | None = None

    def entry(self) -> TargetEntry:
        if self.is_folder:
            return _entry(self.path, ItemKind.FOLDER, _NO_FINGERPRINT,
                          {"fileid": self.file_id} if self.file_id else _NO_REF)
        return _entry(self.path, ItemKind.FILE, self.fingerprint,
                      {"fileid": self.file_id} if self.file_id else _NO_REF)


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


_RESPONSE, _HREF, _PROPSTAT = f"{DAV}response", f"{DAV}href", f"{DAV}propstat"
_STATUS, _PROP = f"{DAV}status", f"{DAV}prop"
_TYPE, _COLLECTION, _LENGTH = f"{DAV}resourcetype", f"{DAV}collection", f"{DAV}getcontentlength"
_MODIFIED, _ETAG, _FILEID, _CHECKSUM = (f"{DAV}getlastmodified", f"{DAV}getetag", f"{OC}fileid",
                                        f"{OC}checksum")
_OWNER, _SHOWN = f"{NC}lock-owner", f"{NC}lock-owner-displayname"
#: A listing makes one of each per file: filled directly (migrate/journal/fastmake.py).
_fingerprint = maker(Fingerprint, ("size", "mtime", "checksum", "etag"))
_resource = maker(Resource, ("path", "is_folder", "fingerprint", "file_id", "locked_by"))
_entry = maker(TargetEntry, ("name", "kind", "fingerprint", "ref"))
#: Shared by every folder's entry and every entry without a file id (never changed: the
#: local target's listing shares them the same way).
_NO_FINGERPRINT = Fingerprint()
_NO_REF: dict[str, str] = {}


def href_path(href: str) -> str:
    """The decoded path of a response's `href`. Most servers send an absolute path with
    nothing `urlparse` would cut off or drop (no scheme, host, `;`, `?`, `#`, tab or line
    break): that is the path."""
    if (href[:1] != "/" or href[1:2] == "/" or not href.isprintable() or ";" in href
            or "?" in href or "#" in href):
        href = urlparse(href).path
    # The files of a folder share its part: decoded once (a `/` never splits an escape).
    folder, slash, name = href.rpartition("/")
    return _unquote_folder(folder) + slash + (unquote(name) if "%" in name else name)


_unquote_folder = lru_cache(maxsize=1024)(unquote)


def _parse_response(element: ElementTree.Element, root: str, prefix: str = "",
                    owncloud: bool = True) -> Resource | None:
    """One `response` of a multistatus; `root` is the listed path without its trailing `/`,
    `prefix` is put before the path found (a folder listed on its own, see `_walk`);
    `owncloud=False` when ownCloud's and Nextcloud's properties were not asked (`PLAIN_BODY`):
    they are not looked for.

    Run for every file of every listing: what it reads is looked up with constant tags."""
    href = href_path(element.findtext(_HREF) or "")
    if not href.startswith(root):
        return None
    relative = href[len(root):].strip("/")
    if prefix and relative:
        relative = f"{prefix}/{relative}"
    prop = None
    for propstat in element.findall(_PROPSTAT):  # C, where `iterfind` runs ElementPath
        if "200" in (propstat.findtext(_STATUS) or ""):
            prop = propstat.find(_PROP)
    if prop is None:
        return None
    resource_type = prop.find(_TYPE)
    is_folder = resource_type is not None and resource_type.find(_COLLECTION) is not None
    length = prop.findtext(_LENGTH)
    modified = prop.findtext(_MODIFIED)
    etag = prop.findtext(_ETAG)
    if etag and etag[0] == '"' == etag[-1] and len(etag) > 2 and etag[1] != '"' != etag[-2]:
        etag = etag[1:-1]  # most: quoted, strong; what `normal_etag` gives it
    else:
        etag = normal_etag(etag)
    if not owncloud:
        return _resource(relative, is_folder, _fingerprint(
            int(length) if length else None, http_time(modified) if modified else None, None,
            etag), None, None)
    checksums = [e.text or "" for e in prop.iter(_CHECKSUM)]
    fingerprint = _fingerprint(int(length) if length else None,
                               http_time(modified) if modified else None,
                               best_checksum(" ".join(checksums)) if checksums else None, etag)
    owner = prop.findtext(_OWNER)
    shown = prop.findtext(_SHOWN)
    locked_by = (f"{shown} ({owner})" if shown and shown != owner else owner) or None
    return _resource(relative, is_folder, fingerprint, prop.findtext(_FILEID), locked_by)


def propfind(http: DavHttp, url: str, depth: str, what: str,
             refused: tuple[int, ...] = (), body: str = PROPFIND_BODY,
             prefix: str = "") -> Iterator[Resource]:
    """The resources at and under `url`, streamed, paths relative to it (after `prefix/`
    when given, the root itself staying ''); 404 yields nothing.

    Raises `DepthRefusedError` when the server answers one of the `refused` statuses."""
    response = http.request("PROPFIND", url, what, ok=(404, *refused),
                            headers={"Depth": depth, "Content-Type": "application/xml"},
                            data=body, stream=True)
    if response.status_code >= 300:
        response.close()
        if response.status_code in refused:
            raise DepthRefusedError(response.status_code)
        return
    root = unquote(urlparse(url).path).rstrip("/")
    owncloud = body is not PLAIN_BODY
    response.raw.decode_content = True
    with response:
        for element in _responses(response.raw):
            resource = _parse_response(element, root, prefix, owncloud)
            if resource is not None:
                yield resource


#: An answer up to this size (a folder of about 2,000 files on Apache) is parsed in one call,
#: with no Python per XML element (a third of the cost of `iterparse`); a larger one (a whole
#: Nextcloud tree) is streamed, each response let go once read.
WHOLE = 1 << 20
BLOCK = 1 << 16


def _responses(raw: Any) -> Iterator[ElementTree.Element]:
    """The `response` elements of a multistatus body read from `raw`; a streamed one's are
    let go (cleared) once the caller has read them, a whole one's with its tree."""
    blocks: list[bytes] = []
    size = 0
    while size <= WHOLE:
        block = raw.read(BLOCK)
        if not block:
            yield from ElementTree.fromstring(b"".join(blocks)).iter(_RESPONSE)
            return
        blocks.append(block)
        size += len(block)
    parser = ElementTree.XMLPullParser(("end",))
    while blocks:
        for block in blocks:
            parser.feed(block)
            yield from _read(parser)
        blocks = [block] if (block := raw.read(BLOCK)) else []
    parser.close()
    yield from _read(parser)


def _read(parser: ElementTree.XMLPullParser) -> Iterator[ElementTree.Element]:
    for _event, element in parser.read_events():
        if element.tag == _RESPONSE:
            yield element
            element.clear()  # read: its children go


class DepthRefusedError(Exception):
    """The server does not list a whole tree at once."""


def list_tree(http: DavHttp, path: str, allow_infinity: bool = True,
              answer: Callable[..., None] | None = None,
              owncloud: bool = True) -> Iterator[Resource]:
    """Every file and folder under `path`, in one request when the server allows it; with
    `owncloud=False`, without asking for ownCloud's file ids and checksums.

    `answer` is told what the server was seen to do, so the caller can remember it and not
    ask again (connectors/dav/profile.py): `depth_infinity=` whether it listed the whole tree
    at once, and after a whole listing `owncloud_props=` whether any resource had a file id
    or a checksum."""
    body = PROPFIND_BODY if owncloud else PLAIN_BODY
    seen = listed = False
    for resource in _tree(http, path, allow_infinity, answer, body):
        if not seen and (resource.file_id or resource.fingerprint.checksum):
            seen = True
        listed = True
        yield resource
    if answer is not None and owncloud and listed:  # a folder not made yet says nothing
        answer(owncloud_props=seen)


def _tree(http: DavHttp, path: str, allow_infinity: bool,
          answer: Callable[..., None] | None, body: str) -> Iterator[Resource]:
    if allow_infinity:
        try:
            yield from propfind(http, http.url(path, folder=True), "infinity", path or "/",
                                REFUSED_DEPTH, body)
            if answer is not None:
                answer(depth_infinity=True)
            return
        except DepthRefusedError:
            if answer is not None:  # the refusal comes before any response body
                answer(depth_infinity=False)
    yield from _walk(http, path, body)


#: Folders listed at once when a server refuses `Depth: infinity`, as rclone's `--checkers`:
#: on a real network each PROPFIND waits a round trip, so a tree of 200 folders walked one
#: by one costs 200 round trips end to end.
WALKERS = 4


def _walk(http: DavHttp, path: str, body: str = PROPFIND_BODY) -> Iterator[Resource]:
    """The tree folder by folder (`Depth: 1`), `WALKERS` folders at a time; resources come in
    the order the folders answer (callers key them by path).

    The walkers are plain threads fed through two `SimpleQueue`s rather than a
    `ThreadPoolExecutor`: `concurrent.futures` (with the `logging` it imports) cost a re-run
    about 3 ms to import, and waiting on futures re-arms a waiter on every pending folder each
    time one answers. Same behaviour: a walker per folder asked up to `WALKERS`, the first
    error raised here as it was raised there (same object), and when the reader stops early
    or fails, the folders not yet asked are not asked and the walkers are joined."""
    def folder_of(relative: str) -> list[Resource]:
        inner = f"{path.strip('/')}/{relative}".strip("/")
        return list(propfind(http, http.url(inner, folder=True), "1", inner or "/",
                             body=body, prefix=relative))

    tasks: SimpleQueue[str | None] = SimpleQueue()
    answers: SimpleQueue[tuple[str, list[Resource] | BaseException]] = SimpleQueue()
    stopped = threading.Event()

    def walker() -> None:
        while (relative := tasks.get()) is not None:
            if stopped.is_set():
                continue  # asked before the reader stopped: not sent
            try:
                found: list[Resource] | BaseException = folder_of(relative)
            except BaseException as error:  # raised by the reader, as a future did
                found = error
            answers.put((relative, found))

    walkers: list[threading.Thread] = []

    def ask(relative: str) -> None:
        tasks.put(relative)
        if len(walkers) < WALKERS:
            walkers.append(threading.Thread(target=walker, name=f"list_{len(walkers)}"))
            walkers[-1].start()

    ask("")
    waiting = 1
    try:
        while waiting:
            relative, found = answers.get()
            waiting -= 1
            if isinstance(found, BaseException):
                raise found
            for resource in found:  # paths from the listed root
                if not resource.path:
                    if not relative:
                        yield resource
                    continue
                yield resource
                if resource.is_folder:
                    ask(resource.path)
                    waiting += 1
    finally:
        stopped.set()  # an error or a reader that stopped early: ask no more
        for _walker in walkers:
            tasks.put(None)
        for one in walkers:
            one.join()


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
