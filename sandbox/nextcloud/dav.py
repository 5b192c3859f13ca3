"""The WebDAV engine: wsgidav's filesystem provider over `DATA/<user>/files`, plus the live
properties Nextcloud adds (`oc:fileid`, `oc:checksums`, `oc:permissions`, quota…).

wsgidav serves PROPFIND, GET/HEAD, DELETE, MKCOL, COPY, MOVE, PROPPATCH and LOCK; the
resources below keep the sidecar index (ids, checksums, etags) in step with every change.
"""

from __future__ import annotations

import os
from typing import Any
from xml.etree import ElementTree

from wsgidav.dav_error import HTTP_FORBIDDEN, HTTP_NOT_FOUND, DAVError
from wsgidav.error_printer import ErrorPrinter
from wsgidav.fs_dav_provider import FileResource, FilesystemProvider, FolderResource
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from sandbox.nextcloud import groupfolders, locks
from sandbox.nextcloud.groupfolders import Location, locate
from sandbox.nextcloud.state import SandboxState

OC = "{http://owncloud.org/ns}"
NC = "{http://nextcloud.org/ns}"
#: Share roots inside the WSGI app; the front dispatcher has already checked the user.
FILES_ROOT = "/remote.php/dav/files"
UPLOADS_ROOT = "/remote.php/dav/uploads"
LEGACY_ROOT = "/remote.php/webdav"
#: Owner permissions as `Node::getDavPermissions` spells them (G = readable, NC 27+).
FILE_PERMISSIONS = "RGDNVW"
FOLDER_PERMISSIONS = "RGDNVCK"
OUTSIDE = "Access outside the user's folder is not allowed"
NEXTCLOUD_PROPERTIES = [
    f"{OC}fileid", f"{OC}id", f"{OC}size", f"{OC}checksums", f"{OC}permissions",
    f"{OC}owner-id", f"{OC}owner-display-name", f"{NC}has-preview",
]  # fmt: skip


# Nextcloud's prefixes in multistatus bodies (d:, oc:, nc:), for readers that look at raw XML.
for _prefix, _uri in (("d", "DAV:"), ("oc", OC[1:-1]), ("nc", NC[1:-1])):
    ElementTree.register_namespace(_prefix, _uri)


class UserTreeProvider(FilesystemProvider):
    """Maps `/<user>/rest` (or `/rest` for the legacy endpoint, user from the login) onto
    `DATA/<user>/<area>/rest`. `area` is "files" or "uploads"."""

    def __init__(self, state: SandboxState, area: str, *, legacy: bool = False) -> None:
        super().__init__(str(state.data_dir), fs_opts={})
        self.state = state
        self.area = area
        self.legacy = legacy

    def split(self, path: str, environ: dict[str, Any] | None) -> tuple[str, str]:
        """(user, path inside that user's area starting with `/`)."""
        if self.legacy:
            return (environ or {}).get("nc.user", ""), "/" + path.strip("/")
        user, _, rest = path.strip("/").partition("/")
        return user, "/" + rest

    def _loc_to_file_path(self, path: str, environ: dict[str, Any] | None = None) -> str:
        user, inner = self.split(path, environ)
        if not user or user not in self.state.accounts:
            raise DAVError(HTTP_NOT_FOUND, "Principal not found")
        if self.area == "files":  # group folders are mounted in users' files
            try:
                return str(locate(self.state, user, inner).file_path)
            except PermissionError:
                raise DAVError(HTTP_FORBIDDEN, OUTSIDE) from None
        root = os.path.join(self.state.data_dir, user, self.area)
        file_path = os.path.abspath(os.path.join(root, *inner.strip("/").split("/")))
        if os.path.commonpath([root, file_path]) != root:
            raise DAVError(HTTP_FORBIDDEN, OUTSIDE)
        return file_path

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        file_path = self._loc_to_file_path(path, environ)
        if not os.path.exists(file_path) or os.path.islink(file_path):
            return None
        if self.area != "files":
            # Upload folders are plain storage: no ids, no index rows for chunks.
            if os.path.isdir(file_path):
                return FolderResource(path, environ, file_path)
            return FileResource(path, environ, file_path)
        if os.path.isdir(file_path):
            return NextcloudFolder(path, environ, file_path)
        return NextcloudFile(path, environ, file_path)


class _NextcloudProperties:
    """Shared by files and folders: ids, etags and the `oc:`/`nc:` live properties."""

    path: str
    environ: dict[str, Any]
    provider: UserTreeProvider
    file_stat: os.stat_result
    _file_path: str
    is_collection: bool

    @property
    def viewer_and_path(self) -> tuple[str, str]:
        """The user whose files these are seen in, and the path there."""
        return self.provider.split(self.path, self.environ)

    @property
    def location(self) -> Location:
        return locate(self.provider.state, *self.viewer_and_path)

    @property
    def owner_and_path(self) -> tuple[str, str]:
        """The storage's key in the index and the path inside it (a group folder's files are
        stored once, whoever sees them)."""
        where = self.location
        return where.owner, where.inner

    @property
    def index(self) -> Any:
        return self.provider.state.index

    def tree_size(self) -> int:
        return self.file_stat.st_size

    def get_etag(self) -> str:
        user, inner = self.owner_and_path
        size = 0 if self.is_collection else self.file_stat.st_size
        return self.index.etag(user, inner, size, self.file_stat.st_mtime_ns)

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names = super().get_property_names(is_allprop=is_allprop)  # type: ignore[misc]
        return [*names, *NEXTCLOUD_PROPERTIES]

    def get_property_value(self, name: str) -> Any:
        if name == "{DAV:}getetag":
            return f'"{self.get_etag()}"'  # Nextcloud quotes etags in PROPFIND too
        if name in locks.LOCK_PROPERTIES and not self.is_collection:
            value = locks.property_value(self.provider.state, *self.owner_and_path, name)
            if value is None:
                raise DAVError(HTTP_NOT_FOUND)
            return value
        if name not in NEXTCLOUD_PROPERTIES:
            return super().get_property_value(name)  # type: ignore[misc]
        user, inner = self.owner_and_path
        record = self.index.record(user, inner)
        if name == f"{OC}checksums":
            element = ElementTree.Element(name)
            if record.checksum:
                ElementTree.SubElement(element, f"{OC}checksum").text = record.checksum
            return element
        viewer = self.viewer_and_path[0]
        values = {
            f"{OC}fileid": str(record.fileid),
            f"{OC}id": f"{record.fileid:08d}{self.index.instance_id}",
            f"{OC}size": str(self.tree_size()),
            f"{OC}permissions": self.dav_permissions(),
            f"{OC}owner-id": viewer,
            f"{OC}owner-display-name": self.provider.state.accounts[viewer].display_name,
            f"{NC}has-preview": "false",
        }
        return values[name]


    def storage_path(self, dest_path: str) -> str:
        """The index path of a destination (same storage assumed: moves stay inside one)."""
        return locate(self.provider.state, *self.provider.split(dest_path, self.environ)).inner

    def dav_permissions(self) -> str:
        """`Node::getDavPermissions`: R share, M mounted, G read, D delete, NV update, W write
        (files) or CK create (folders); a group folder gives its groups' bits."""
        where = self.location
        if where.folder is None:
            return FOLDER_PERMISSIONS if self.is_collection else FILE_PERMISSIONS
        bits = where.permissions
        letters = [("R", 16), ("M", -1), ("G", 1), ("D", 8), ("NV", 2)]
        text = "".join(k for k, bit in letters if bit == -1 or bits & bit)
        if self.is_collection:
            return text + ("CK" if bits & 4 else "")
        return text + ("W" if bits & 2 else "")


class NextcloudFile(_NextcloudProperties, FileResource):
    """A file in a user's tree; keeps the index in step with deletes, copies and moves."""

    def delete(self) -> None:
        super().delete()
        self.index.forget(*self.owner_and_path)

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        super().copy_move_single(dest_path, is_move=is_move)
        user, source = self.owner_and_path
        destination = self.storage_path(dest_path)
        if is_move:
            self.index.move(user, source, destination)
        else:
            self.index.copy_checksums(user, source, destination)

    def move_recursive(self, dest_path: str) -> None:
        super().move_recursive(dest_path)
        user, source = self.owner_and_path
        self.index.move(user, source, self.storage_path(dest_path))


class NextcloudFolder(_NextcloudProperties, FolderResource):
    """A folder in a user's tree: tree size in `oc:size`, quota properties like Nextcloud."""

    def tree_size(self) -> int:
        # Memoised per request so a Depth: infinity listing stays linear in the tree size.
        cache: dict[str, int] = self.environ.setdefault("nc.tree_sizes", {})
        return _tree_size(self._file_path, cache)

    def get_used_bytes(self) -> int:
        return self.tree_size()

    def get_available_bytes(self) -> int:
        where = self.location
        if where.folder is not None:
            return groupfolders.free_bytes(self.provider.state, where.folder)
        return self.provider.state.free_bytes(where.owner)

    def get_member_names(self) -> list[str]:
        names = super().get_member_names()
        user, inner = self.viewer_and_path
        if self.provider.area == "files" and inner.strip("/") == "":
            # The user's root also shows the group folders mounted in it.
            names = sorted({*names, *groupfolders.mount_names(self.provider.state, user)})
        return names

    def get_content_type(self) -> str:
        return "httpd/unix-directory"

    def create_collection(self, name: str) -> None:
        super().create_collection(name)
        user, inner = self.owner_and_path
        self.index.touch(user, inner.rstrip("/") + "/" + name)

    def delete(self) -> None:
        super().delete()
        self.index.forget(*self.owner_and_path)

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        super().copy_move_single(dest_path, is_move=is_move)
        user, _ = self.owner_and_path
        self.index.touch(user, self.storage_path(dest_path))

    def move_recursive(self, dest_path: str) -> None:
        super().move_recursive(dest_path)
        user, source = self.owner_and_path
        self.index.move(user, source, self.storage_path(dest_path))


def _tree_size(folder: str, cache: dict[str, int]) -> int:
    if folder in cache:
        return cache[folder]
    total = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                total += _tree_size(entry.path, cache)
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat().st_size
    cache[folder] = total
    return total


def build_dav_app(state: SandboxState) -> WsgiDAVApp:
    """The wsgidav application for the three mounts. Authentication is done before it (the
    front dispatcher sets `wsgidav.auth.user_name`), so its authenticator is left out."""
    config = {
        "provider_mapping": {
            FILES_ROOT: UserTreeProvider(state, "files"),
            UPLOADS_ROOT: UserTreeProvider(state, "uploads"),
            LEGACY_ROOT: UserTreeProvider(state, "files", legacy=True),
        },
        "middleware_stack": [ErrorPrinter, RequestResolver],
        "property_manager": True,
        "lock_storage": True,
        "verbose": 1,
        "logging": {"enable": False},
        "dir_browser": {"enable": False},
        "add_header_MS_Author_Via": False,
    }
    return WsgiDAVApp(config)
