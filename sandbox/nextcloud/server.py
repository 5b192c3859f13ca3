"""`NextcloudServer`: the sandbox on loopback, hosted by cheroot (threaded, keep-alive)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cheroot import wsgi

from sandbox.base import LocalServer
from sandbox.nextcloud import locks
from sandbox.nextcloud.app import NextcloudApp
from sandbox.nextcloud.faults import CORRUPT, DROP, Fault
from sandbox.nextcloud.state import SandboxState


class _SocketGateway(wsgi.Gateway_10):
    """Expose the client socket as `nc.socket`, so the drop fault can cut it mid-body."""

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["nc.socket"] = self.req.conn.socket
        return environ


class NextcloudServer(LocalServer):
    """A Nextcloud-compatible server (WebDAV, chunked upload v2, OCS) over a data directory.

    `users` maps names to login passwords; the first user is an admin. Each user also gets one
    app password at start, which `describe()` reports and a plan should use. Port 0 picks a
    free port. `group_folders=True` enables the Group folders app (`groupfolders.py`). Use as a
    context manager, or `start()`/`stop()`.
    """

    name = "nextcloud"

    def __init__(
        self,
        data_dir: str | Path,
        users: dict[str, str] | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        threads: int = 16,
        group_folders: bool = False,
    ) -> None:
        self.state = SandboxState(Path(data_dir), users or {"admin": "admin"})
        self.state.group_folders_enabled = group_folders
        self.app_passwords = {
            name: self.state.create_app_password(name) for name in self.state.accounts
        }
        self._host = host
        self._requested_port = port
        self._threads = threads
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_sandbox(cls, workdir: Path) -> NextcloudServer:
        """The sandbox's Nextcloud: one admin account, `demo`, data kept under `workdir`."""
        return cls(workdir, users={"demo": "demo-password"})

    def start(self) -> None:
        server = wsgi.Server((self._host, self._requested_port), NextcloudApp(self.state),
                             numthreads=self._threads, server_name="nextcloud-sandbox")  # fmt: skip
        server.gateway = _SocketGateway
        # `stop` waits for the connection loop to wake, once per interval (half a second by
        # default, paid by every test's server): cheroot's own choice on Windows.
        server.expiration_interval = 0.05
        server.prepare()  # binds, so `port` is known before the thread runs
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="nextcloud-sandbox",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        """Stop and close the sidecar index (a restarted server reopens it)."""
        self.stop()
        self.state.index.close()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def user(self) -> str:
        """The first user, the one `describe()` gives credentials for."""
        return next(iter(self.state.accounts))

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "user": self.user, "password": self.app_passwords[self.user]}

    def dav_url(self, user: str | None = None) -> str:
        """`…/remote.php/dav/files/<user>` (no trailing slash)."""
        return f"{self.url}/remote.php/dav/files/{user or self.user}"

    # --- Python twins of the control plane -------------------------------------------

    def inject(self, status: int, path: str = "/", method: str | None = None,
               times: int | None = 1, retry_after: int | None = None) -> Fault:  # fmt: skip
        """Answer `status` (423, 429, 503, 401, 507…) to matching requests `times` times."""
        return self.state.faults.add(Fault(status, path, method, times, retry_after))

    def drop_connection(self, path: str = "/", after_bytes: int = 0, method: str = "PUT",
                        times: int = 1) -> Fault:  # fmt: skip
        """Cut the TCP connection once `after_bytes` of a matching request body were read."""
        return self.state.faults.add(Fault(DROP, path, method, times, after_bytes=after_bytes))

    def corrupt_upload(self, path: str = "/", method: str = "PUT", times: int = 1) -> Fault:
        """Change the first byte of a matching request body: stored and answered as usual."""
        return self.state.faults.add(Fault(CORRUPT, path, method, times))

    def lock_file(self, user: str, path: str, by: str | None = None) -> None:
        """Lock `path` (in `user`'s files) for `by` (default `user`), as files_lock's 'Lock
        file' does for someone the file is shared with."""
        locks.lock(self.state, user, path, by)

    def unlock_file(self, user: str, path: str, by: str | None = None) -> None:
        locks.unlock(self.state, user, path, by)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def set_quota(self, user: str, quota: int | None) -> None:
        self.state.set_quota(user, quota)

    def revoke_app_password(self, user: str, token: str) -> None:
        self.state.revoke_app_password(user, token)

    def set_windows_compatible(self, enabled: bool = True) -> None:
        self.state.rules.windows_compatible = enabled

    def request_counts(self) -> dict[str, int]:
        return self.state.request_counts()

    def writes_at_once(self) -> int:
        """The most write requests served at the same moment since start."""
        return self.state.writes_at_once()
