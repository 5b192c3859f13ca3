"""User locks of the files_lock app (nextcloud/files_lock, `lib/DAV/LockPlugin.php`).

`LOCK` with the `X-User-Lock: 1` header locks a file for its user (200 and the lock's
properties); `UNLOCK` with it releases it (412 when not locked, 423 when someone else holds it).
While locked:

- PROPFIND gives `nc:lock` (1), `nc:lock-owner`, `nc:lock-owner-displayname`,
  `nc:lock-owner-type` (0 = user), `nc:lock-time` and `nc:lock-timeout`;
- anyone else writing, moving or deleting the file gets 423 (`FileLocked`), for as long as the
  lock lasts (a person's lock has no timeout by default);
- taking or releasing the lock changes the file's ETag (the lock touches the file cache), not
  its content, size, modification time or checksum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.nextcloud.groupfolders import locate
from sandbox.nextcloud.responses import DavError

if TYPE_CHECKING:
    from sandbox.nextcloud.state import SandboxState

NC = "{http://nextcloud.org/ns}"
LOCK_PROPERTIES = [f"{NC}lock", f"{NC}lock-owner", f"{NC}lock-owner-displayname",
                   f"{NC}lock-owner-type", f"{NC}lock-time", f"{NC}lock-timeout"]
USER_LOCK = 0  # ILock::TYPE_USER


@dataclass(frozen=True)
class UserLock:
    owner: str
    created: int
    timeout: int = 0


def lock(state: SandboxState, user: str, path: str, holder: str | None = None) -> UserLock:
    """Lock `path` (in `user`'s files) for `holder` (default `user`; another user is someone
    the file is shared with, without modelling the share); 423 if someone else holds it."""
    holder = holder or user
    where = locate(state, user, path)
    if not where.file_path.is_file():
        raise DavError(404, f"File with name {path.rsplit('/', 1)[-1]} could not be located")
    key = (where.owner, where.inner)
    with state.lock:
        held = state.user_locks.get(key)
        if held is not None and held.owner != holder:
            raise DavError(423, f'"{path.strip("/")}" is locked')
        found = held or UserLock(holder, int(time.time()))
        state.user_locks[key] = found
    state.index.touch(where.owner, where.inner)
    return found


def unlock(state: SandboxState, user: str, path: str, holder: str | None = None) -> None:
    holder = holder or user
    where = locate(state, user, path)
    key = (where.owner, where.inner)
    with state.lock:
        held = state.user_locks.get(key)
        if held is None:
            raise DavError(412, "No lock found")
        if held.owner != holder:
            raise DavError(423, f'"{path.strip("/")}" is locked')
        del state.user_locks[key]
    state.index.touch(where.owner, where.inner)


def check_unlocked(state: SandboxState, user: str, path: str) -> None:
    """423 for a write by anyone but the holder of a user lock on `path`."""
    where = locate(state, user, path)
    held = state.user_locks.get((where.owner, where.inner))
    if held is not None and held.owner != user:
        raise DavError(423, f'"{path.strip("/")}" is locked, existing lock on file: '
                            f"{held.owner}")


def property_value(state: SandboxState, owner: str, inner: str, name: str) -> Any:
    """The value of one `nc:lock*` property, or None (absent: 404 in the propstat)."""
    held = state.user_locks.get((owner, inner))
    if name == f"{NC}lock":
        return "1" if held is not None else ""
    if held is None:
        return None
    return {
        f"{NC}lock-owner": held.owner,
        f"{NC}lock-owner-displayname": state.accounts[held.owner].display_name,
        f"{NC}lock-owner-type": str(USER_LOCK),
        f"{NC}lock-time": str(held.created),
        f"{NC}lock-timeout": str(held.timeout),
    }[name]


def properties_body(found: UserLock | None) -> bytes:
    """`{DAV:}prop` with the lock's properties, as LockPlugin::httpLock answers."""
    def element(name: str, value: object) -> str:
        return f"<nc:{name}>{'' if value is None else value}</nc:{name}>"

    parts = [element("lock", "1" if found else ""),
             element("lock-owner-type", USER_LOCK if found else None),
             element("lock-owner", found.owner if found else None),
             element("lock-time", found.created if found else None),
             element("lock-timeout", found.timeout if found else None)]
    return ('<?xml version="1.0" encoding="utf-8"?>\n<d:prop xmlns:d="DAV:" '
            f'xmlns:nc="http://nextcloud.org/ns">{"".join(parts)}</d:prop>').encode()
