"""`apps/files_sharing/api/v1/shares`: user (0), group (1) and public link (3) shares; and
`apps/files_sharing/api/v1/sharees`, the search the share dialog uses to find recipients."""

from __future__ import annotations

import secrets
import time
from typing import Any

from sandbox.nextcloud.groupfolders import locate
from sandbox.nextcloud.responses import OcsError
from sandbox.nextcloud.state import SandboxState

USER, GROUP, LINK = 0, 1, 3
READ, UPDATE, CREATE, DELETE, SHARE = 1, 2, 4, 8, 16
ALL = 31
WRONG_PATH = "Wrong path, file/folder does not exist"


def handle(state: SandboxState, user: str, params: dict[str, Any], rest: list[str]) -> Any:
    """Route a shares request; `rest` is what follows `/shares` in the URL."""
    method = params["_method"]
    if not rest:
        if method == "GET":
            return _list(state, user, params)
        if method == "POST":
            return _create(state, user, params)
    else:
        share = _owned(state, user, rest[0])
        if method == "GET":
            return [share]  # Nextcloud answers a one-element list for a single share.
        if method == "PUT":
            return _update(state, share, params)
        if method == "DELETE":
            del state.shares[int(share["id"])]
            return []
    raise OcsError(405, "Method not allowed")


def _owned(state: SandboxState, user: str, share_id: str) -> dict[str, Any]:
    share = state.shares.get(int(share_id)) if share_id.isdigit() else None
    if share is None or share["uid_owner"] != user:
        raise OcsError(404, "Wrong share ID, share does not exist")
    return share


def _normalise(path: str) -> str:
    return "/" + path.strip("/")


def _list(state: SandboxState, user: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    owned = [s for s in state.shares.values() if s["uid_owner"] == user]
    if "path" not in params:
        return owned
    path = _normalise(str(params["path"]))
    if not locate(state, user, path).file_path.exists():
        raise OcsError(404, WRONG_PATH)
    if str(params.get("subfiles", "")).lower() == "true":
        return [s for s in owned if s["path"].rsplit("/", 1)[0] == path.rstrip("/")]
    return [s for s in owned if s["path"] == path]


def _permissions(value: Any, is_folder: bool, share_type: int) -> int:
    if value in (None, ""):
        if share_type == LINK:
            return READ
        return ALL if is_folder else READ | UPDATE | SHARE
    try:
        permissions = int(value)
    except (TypeError, ValueError) as error:
        raise OcsError(400, "Invalid permissions") from error
    if not 1 <= permissions <= ALL or not permissions & READ:
        raise OcsError(400, "Invalid permissions")
    if not is_folder:
        # A file cannot grant create/delete; Nextcloud silently drops them.
        permissions &= ~(CREATE | DELETE)
    return permissions


def _recipient(state: SandboxState, share_type: int, share_with: str) -> str:
    if share_type == USER:
        if share_with not in state.accounts:
            raise OcsError(404, "Please specify a valid account to share with")
        return state.accounts[share_with].display_name
    if share_type == GROUP:
        if share_with not in state.groups:
            raise OcsError(404, "Please specify a valid group")
        return share_with
    if share_type == LINK:
        return ""
    raise OcsError(400, "Unknown share type")


def _create(state: SandboxState, user: str, params: dict[str, Any]) -> dict[str, Any]:
    path = _normalise(str(params.get("path", "")))
    where = locate(state, user, path)
    target = where.file_path
    if path == "/" or not target.exists():
        raise OcsError(404, WRONG_PATH)
    share_type = int(params.get("shareType", -1))
    share_with = str(params.get("shareWith", ""))
    recipient = _recipient(state, share_type, share_with)
    is_folder = target.is_dir()
    if share_type == LINK and str(params.get("publicUpload", "")).lower() == "true":
        params.setdefault("permissions", ALL if is_folder else READ)
    permissions = _permissions(params.get("permissions"), is_folder, share_type)
    if share_type == LINK:
        permissions |= SHARE  # a public link comes back with the share bit: 1 asked, 17 given
    record = state.index.record(where.owner, where.inner)
    share_id = state.new_share_id()
    share = {
        "id": str(share_id), "share_type": share_type, "uid_owner": user,
        "displayname_owner": state.accounts[user].display_name, "permissions": permissions,
        "can_edit": True, "can_delete": True, "stime": int(time.time()), "parent": None,
        "expiration": params.get("expireDate") or None, "token": None,
        "uid_file_owner": user, "displayname_file_owner": state.accounts[user].display_name,
        "note": str(params.get("note", "")), "label": str(params.get("label", "")),
        "path": path, "item_type": "folder" if is_folder else "file",
        "mimetype": "httpd/unix-directory" if is_folder else "application/octet-stream",
        "has_preview": False, "storage_id": f"home::{user}", "storage": 1,
        "item_source": record.fileid, "file_source": record.fileid, "file_parent": None,
        "file_target": path, "share_with": share_with or None,
        "share_with_displayname": recipient or None, "mail_send": 0, "hide_download": 0,
        "attributes": None,
    }  # fmt: skip
    if share_type == LINK:
        token = secrets.token_urlsafe(11)[:15]
        share.update(token=token, url=f"{params['_base_url']}/s/{token}")
        share.update(share_with=None, share_with_displayname="")
    _set_password(share, params)
    state.shares[share_id] = share
    return share


def _set_password(share: dict[str, Any], params: dict[str, Any]) -> None:
    password = params.get("password")
    if password is None:
        return
    if share["share_type"] != LINK:
        raise OcsError(400, "Setting a password is only supported for link shares")
    # Nextcloud stores a hash and never returns the password; keep the flag observable.
    share["password"] = "" if password == "" else "***hashed***"


def _update(state: SandboxState, share: dict[str, Any], params: dict[str, Any]) -> Any:
    if "permissions" in params:
        is_folder = share["item_type"] == "folder"
        share["permissions"] = _permissions(params["permissions"], is_folder, USER)
    for key, field in (("note", "note"), ("label", "label"), ("expireDate", "expiration")):
        if key in params:
            share[field] = params[key] or None if field == "expiration" else params[key]
    _set_password(share, params)
    return share


def sharees(state: SandboxState, user: str, params: dict[str, Any], rest: list[str]) -> Any:
    """`ShareesAPIController::search` (NC 30–34): users and groups matching `search` (id,
    display name or e-mail, case-insensitive), exact matches apart under `exact`. `itemType`
    is required; `shareType[]` limits the types (users 0, groups 1)."""
    if params["_method"] != "GET" or rest:
        raise OcsError(405, "Method not allowed")
    if not params.get("itemType"):
        raise OcsError(400, "Missing itemType")
    wanted = params.get("shareType", [USER, GROUP])
    types = {int(t) for t in (wanted if isinstance(wanted, list) else [wanted])}
    search = str(params.get("search", "")).casefold()
    per_page = int(params.get("perPage", 200))
    found: dict[str, Any] = {"exact": {k: [] for k in ("users", "groups", "remotes",
                                                       "remote_groups", "emails", "circles",
                                                       "rooms")},
                             "users": [], "groups": [], "remotes": [], "remote_groups": [],
                             "emails": [], "lookup": [], "circles": [], "rooms": [],
                             "lookupEnabled": False}
    if USER in types:
        for name, account in sorted(state.accounts.items()):
            keys = [name, account.display_name, account.email]
            entry = {"label": account.display_name, "subline": "", "icon": "icon-user",
                     "value": {"shareType": USER, "shareWith": name},
                     "shareWithDisplayNameUnique": account.email or name, "status": []}
            _place(found, "users", entry, keys, search)
    if GROUP in types:
        for group in sorted(state.groups):
            entry = {"label": group, "value": {"shareType": GROUP, "shareWith": group}}
            _place(found, "groups", entry, [group], search)
    found["users"] = found["users"][:per_page]
    found["groups"] = found["groups"][:per_page]
    return found


def _place(found: dict[str, Any], kind: str, entry: dict[str, Any], keys: list[str],
           search: str) -> None:
    folded = [k.casefold() for k in keys if k]
    if search in folded:
        found["exact"][kind].append(entry)
    elif any(search in k for k in folded):
        found[kind].append(entry)
