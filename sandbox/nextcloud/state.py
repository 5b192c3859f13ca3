"""Everything one sandbox server knows besides file bytes: accounts, shares, quotas, faults."""

from __future__ import annotations

import collections
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.nextcloud.faults import FaultSet
from sandbox.nextcloud.filenames import FilenameRules
from sandbox.nextcloud.groupfolders import GroupFolder
from sandbox.nextcloud.index import FileIndex

#: `\OCP\Files\FileInfo::SPACE_UNLIMITED`, what Nextcloud reports without a quota.
SPACE_UNLIMITED = -3


@dataclass
class Account:
    """A Nextcloud user: login password, app passwords, quota in bytes (None = unlimited)."""

    name: str
    password: str
    display_name: str = ""
    email: str = ""
    quota: int | None = None
    app_passwords: set[str] = field(default_factory=set)
    enabled: bool = True

    def accepts(self, secret: str) -> bool:
        return self.enabled and (secret == self.password or secret in self.app_passwords)


class SandboxState:
    """Shared, thread-safe state of one server. The data dir follows Nextcloud's layout:
    `DATA/<user>/files/` for each user's tree, `DATA/<user>/uploads/` for chunked uploads and
    `DATA/appdata_sandbox/` for the sidecar index.
    """

    def __init__(self, data_dir: Path, users: dict[str, str]) -> None:
        self.data_dir = data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.index = FileIndex(self.data_dir / "appdata_sandbox" / "index.sqlite")
        self.rules = FilenameRules()
        self.faults = FaultSet()
        self.accounts: dict[str, Account] = {}
        self.groups: dict[str, set[str]] = {"admin": set()}
        self.shares: dict[int, dict[str, Any]] = {}
        #: The Group folders app: off unless the server is started with `group_folders=True`.
        self.group_folders_enabled = False
        self.group_folders: dict[int, GroupFolder] = {}
        self.lock = threading.RLock()
        self._requests: collections.Counter[str] = collections.Counter()
        self.writes_now = self.writes_peak = 0
        self._next_share = 1
        #: (index owner, path) of files being written: a second writer gets 423, as Nextcloud's
        #: file locking answers a PUT to a file another request holds (`LockedException`).
        self.writing: set[tuple[str, str]] = set()
        #: (index owner, path) -> the files_lock user lock on it (`locks.py`).
        self.user_locks: dict[tuple[str, str], Any] = {}
        for index, (name, password) in enumerate(users.items()):
            self.add_user(name, password)
            if index == 0:
                # The first user administers the instance, like the installing admin.
                self.groups["admin"].add(name)

    # --- accounts ---------------------------------------------------------------------

    def add_user(self, name: str, password: str, **details: Any) -> Account:
        """Create a user and its folders; raise ValueError if the name is taken."""
        with self.lock:
            if name in self.accounts:
                raise ValueError(f"user {name!r} exists")
            account = Account(name=name, password=password, display_name=name, **details)
            self.accounts[name] = account
        for sub in ("files", "uploads"):
            (self.data_dir / name / sub).mkdir(parents=True, exist_ok=True)
        return account

    def authenticate(self, login: str, secret: str) -> str | None:
        """The user name for a Basic-auth pair, or None (wrong secret, revoked app password)."""
        account = self.accounts.get(login)
        return account.name if account is not None and account.accepts(secret) else None

    def create_app_password(self, user: str) -> str:
        """Issue an app password in Nextcloud's shape (five dash-separated groups)."""
        token = "-".join(secrets.token_urlsafe(8)[:5] for _ in range(5))
        self.accounts[user].app_passwords.add(token)
        return token

    def revoke_app_password(self, user: str, token: str) -> None:
        """Make `token` fail with 401 from now on, as revoking it in the settings does."""
        self.accounts[user].app_passwords.discard(token)

    # --- storage ----------------------------------------------------------------------

    def files_root(self, user: str) -> Path:
        return self.data_dir / user / "files"

    def uploads_root(self, user: str) -> Path:
        return self.data_dir / user / "uploads"

    def set_quota(self, user: str, quota: int | None) -> None:
        """Limit `user` to `quota` bytes (None: unlimited); writes past it answer 507."""
        self.accounts[user].quota = quota

    def used_bytes(self, user: str) -> int:
        total = 0
        for folder, _dirs, names in os.walk(self.files_root(user)):
            for name in names:
                total += os.stat(os.path.join(folder, name)).st_size
        return total

    def free_bytes(self, user: str) -> int:
        """Bytes left under the quota, or SPACE_UNLIMITED."""
        quota = self.accounts[user].quota
        if quota is None:
            return SPACE_UNLIMITED
        return max(quota - self.used_bytes(user), 0)

    # --- request counting -------------------------------------------------------------

    def count_request(self, method: str) -> None:
        with self.lock:
            self._requests[method] += 1

    def write_started(self) -> None:
        """A write request (PUT, MKCOL, MOVE…) began: the fleet's per-host cap is checked
        against the most ever served at once (`writes_at_once`)."""
        with self.lock:
            self.writes_now += 1
            self.writes_peak = max(self.writes_peak, self.writes_now)

    def write_finished(self) -> None:
        with self.lock:
            self.writes_now -= 1

    def writes_at_once(self) -> int:
        """The most write requests this server was serving at the same moment."""
        with self.lock:
            return self.writes_peak

    def request_counts(self) -> dict[str, int]:
        """Requests served so far by method (control-plane calls excluded)."""
        with self.lock:
            return dict(self._requests)

    def reset_request_counts(self) -> None:
        with self.lock:
            self._requests.clear()

    # --- shares -----------------------------------------------------------------------

    def new_share_id(self) -> int:
        with self.lock:
            share_id = self._next_share
            self._next_share += 1
        return share_id
