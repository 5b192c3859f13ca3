"""The Group folders app (`groupfolders`): admin-made folders mounted in members' files.

As the real app (nextcloud/groupfolders, `FolderController`) exposes it, under
`index.php/apps/groupfolders/` and `ocs/v1.php/apps/groupfolders/` (OCS v1 envelope) — not
`ocs/v2.php`, which answers 404 (its appinfo/routes.php, stable31–34 and master, declares
plain `routes`, no `ocs` ones; docs/decisions/0440):

    GET    folders                      -> {"<id>": folder, ...}
    GET    folders/<id>                 -> folder
    POST   folders {mountpoint}         -> folder (400 "Mount point already exists")
    DELETE folders/<id>                 -> {"success": true}
    POST   folders/<id>/groups {group}  -> {"success": true, "folder": folder} (permissions 31)
    POST   folders/<id>/groups/<group> {permissions}
    DELETE folders/<id>/groups/<group>
    POST   folders/<id>/quota {quota}   (bytes; -3 unlimited)
    POST   folders/<id>/mountpoint {mountpoint}
    PUT    folders/<id> {mountPoint}

A folder's files live once, in `DATA/__groupfolders/<id>/`; every member of one of its groups
sees them at `/<mount point>/` in their own files, with the union of their groups' permissions.
Only when the server runs with `group_folders=True` (off by default).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.nextcloud.responses import OcsError

if TYPE_CHECKING:
    from sandbox.nextcloud.state import SandboxState

ALL = 31
UNLIMITED = -3
APP_VERSION = "18.0.6"


@dataclass
class GroupFolder:
    """One group folder: where it mounts, who gets it with which permission bits, its quota."""

    id: int
    mount_point: str
    groups: dict[str, int] = field(default_factory=dict)
    quota: int = UNLIMITED

    @property
    def owner(self) -> str:
        """The key its files have in the sidecar index (shared by every member)."""
        return f"__groupfolder_{self.id}"


@dataclass(frozen=True)
class Location:
    """Where a user-relative path really is: the index owner and path, the file on disk, and
    the user's permission bits there (31 in their own files). `folder` is the group folder."""

    owner: str
    inner: str
    file_path: Path
    permissions: int = ALL
    folder: GroupFolder | None = None


def folders_root(state: SandboxState) -> Path:
    return state.data_dir / "__groupfolders"


def visible_folders(state: SandboxState, user: str) -> list[GroupFolder]:
    """The group folders mounted in `user`'s files (member of at least one of their groups)."""
    if not state.group_folders_enabled:
        return []
    mine = {group for group, members in state.groups.items() if user in members}
    return [f for f in state.group_folders.values() if mine & set(f.groups)]


def locate(state: SandboxState, user: str, path: str) -> Location:
    """Resolve a path of `user`'s files (`/a/b`) through the group folder mounts."""
    inner = "/" + path.strip("/")
    for folder in visible_folders(state, user):
        mount = "/" + folder.mount_point.strip("/")
        if inner == mount or inner.startswith(mount + "/"):
            rest = inner[len(mount):] or "/"
            base = folders_root(state) / str(folder.id)
            base.mkdir(parents=True, exist_ok=True)
            mine = {g for g, members in state.groups.items() if user in members}
            bits = 0
            for group, permissions in folder.groups.items():
                if group in mine:
                    bits |= permissions
            return Location(folder.owner, rest, _inside(base, rest), bits, folder)
    root = state.files_root(user)
    return Location(user, inner, _inside(root, inner))


def _inside(root: Path, inner: str) -> Path:
    target = (root / inner.strip("/")).resolve() if inner.strip("/") else root.resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise PermissionError("outside the storage")
    return target


def mount_names(state: SandboxState, user: str) -> list[str]:
    """First path components of the mounts in `user`'s root, for folder listings."""
    return sorted({f.mount_point.strip("/").split("/", 1)[0] for f in visible_folders(state, user)})


def used_bytes(state: SandboxState, folder: GroupFolder) -> int:
    base = folders_root(state) / str(folder.id)
    return sum(p.stat().st_size for p in base.rglob("*") if p.is_file()) if base.exists() else 0


def free_bytes(state: SandboxState, folder: GroupFolder) -> int:
    if folder.quota < 0:
        return UNLIMITED
    return max(folder.quota - used_bytes(state, folder), 0)


# --- the API ------------------------------------------------------------------------------


def describe(state: SandboxState, folder: GroupFolder) -> dict[str, Any]:
    """`FolderController::formatFolder`."""
    return {
        "id": folder.id, "mount_point": folder.mount_point, "quota": folder.quota,
        "acl": False, "size": used_bytes(state, folder),
        "groups": dict(folder.groups),
        "group_details": {g: {"displayName": g, "permissions": p, "type": "group"}
                          for g, p in folder.groups.items()},
        "manage": [],
    }  # fmt: skip


def handle(state: SandboxState, user: str, params: dict[str, Any], rest: list[str]) -> Any:
    """Route `apps/groupfolders/folders[/…]`; `rest` follows `folders`."""
    if not state.group_folders_enabled:
        raise OcsError(998, "Not found", http_status=404)
    method = params["_method"]
    if not rest and method == "GET":
        folders = state.group_folders.values()
        if not _is_admin(state, user):
            folders = visible_folders(state, user)  # NoAdminRequired: own folders only
        return {str(f.id): describe(state, f) for f in sorted(folders, key=_order)}
    _require_admin(state, user)
    if not rest and method == "POST":
        return describe(state, _create(state, str(params.get("mountpoint", ""))))
    folder = _folder(state, rest[0])
    return _change(state, folder, method, rest[1:], params)


def _change(state: SandboxState, folder: GroupFolder, method: str, rest: list[str],
            params: dict[str, Any]) -> Any:  # fmt: skip
    match method, rest:
        case "GET", []:
            return describe(state, folder)
        case "DELETE", []:
            del state.group_folders[folder.id]
            shutil.rmtree(folders_root(state) / str(folder.id), ignore_errors=True)
            return {"success": True}
        case "POST", ["groups"]:
            folder.groups.setdefault(str(params.get("group", "")), ALL)
        case "POST", ["groups", group]:
            folder.groups[group] = _bits(params.get("permissions"))
        case "DELETE", ["groups", group]:
            folder.groups.pop(group, None)
        case "POST", ["quota"]:
            folder.quota = int(params.get("quota", UNLIMITED))
        case ("POST", ["mountpoint"]) | ("PUT", []):
            wanted = str(params.get("mountpoint") or params.get("mountPoint") or "").strip()
            if not wanted:
                raise OcsError(400, "Mount point cannot be empty")
            if wanted != folder.mount_point:
                _check_free(state, wanted)
                folder.mount_point = wanted
        case _:
            raise OcsError(998, "Not found", http_status=404)
    return {"success": True, "folder": describe(state, folder)}


def _order(folder: GroupFolder) -> tuple[str, int]:
    return folder.mount_point, folder.id


def _is_admin(state: SandboxState, user: str) -> bool:
    return user in state.groups.get("admin", set())


def _require_admin(state: SandboxState, user: str) -> None:
    if not _is_admin(state, user):
        raise OcsError(403, "Logged in account must be an admin", http_status=403)


def _folder(state: SandboxState, folder_id: str) -> GroupFolder:
    folder = state.group_folders.get(int(folder_id)) if folder_id.isdigit() else None
    if folder is None:
        raise OcsError(404, "Groupfolder not found")
    return folder


def _check_free(state: SandboxState, mount_point: str) -> None:
    if any(f.mount_point == mount_point for f in state.group_folders.values()):
        raise OcsError(400, "Mount point already exists")


def _create(state: SandboxState, mount_point: str) -> GroupFolder:
    mount_point = mount_point.strip()
    if not mount_point.strip("/"):
        raise OcsError(400, "Mount point cannot be empty")
    with state.lock:
        _check_free(state, mount_point)
        folder_id = max(state.group_folders, default=0) + 1
        folder = GroupFolder(folder_id, mount_point)
        state.group_folders[folder_id] = folder
    (folders_root(state) / str(folder_id)).mkdir(parents=True, exist_ok=True)
    return folder


def _bits(value: Any) -> int:
    try:
        bits = int(value)
    except (TypeError, ValueError) as error:
        raise OcsError(400, "Invalid permissions") from error
    if not 0 <= bits <= ALL:
        raise OcsError(400, "Invalid permissions")
    return bits


def capability(state: SandboxState, user: str) -> dict[str, Any]:
    """What the app adds to `cloud/capabilities` (`OCA\\GroupFolders\\Capabilities`)."""
    return {"groupfolders": {"appVersion": APP_VERSION,
                             "hasGroupFolders": bool(visible_folders(state, user))}}
