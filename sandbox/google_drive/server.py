"""`GoogleDriveServer`: the emulator on loopback, with its state and controls at hand."""

from __future__ import annotations

from typing import Any

from ..base import LocalServer, WSGIServerThread
from .app import DriveApp
from .auth import AuthServer
from .faults import Faults, RequestCounter
from .state import DriveState


class GoogleDriveServer(LocalServer):
    """A Google Drive API v3 emulator driven by google-api-python-client.

    Seed and inspect through `drive` (a `DriveState`), inject failures through `faults`,
    switch authentication through `auth`, count requests through `requests`. Build a client with
    `build("drive", "v3", credentials=..., static_discovery=True,
    client_options={"api_endpoint": server.api_endpoint})`.
    """

    name = "google_drive"

    def __init__(self, port: int = 0, state: DriveState | None = None) -> None:
        self.drive = state or DriveState()
        self.app = DriveApp(self.drive)
        self._thread = WSGIServerThread(self.app, port=port)

    @property
    def auth(self) -> AuthServer:
        return self.app.auth

    @property
    def faults(self) -> Faults:
        return self.app.faults

    @property
    def requests(self) -> RequestCounter:
        return self.app.requests

    def reset(self, state: DriveState | None = None) -> None:
        """Start afresh without restarting: new (or given) drive, no faults, tokens or counts."""
        self.drive = state or DriveState()
        self.app.state = self.drive
        self.app.auth = AuthServer(default_subject=self.drive.user.email)
        self.app.faults.clear()
        self.app.requests.reset()

    def seed_demo(self) -> None:
        """The drive `migrate demo` copies: the demo drive's awkward cases, ~100 items in all."""
        from .seed import seed_demo_drive

        seed_demo_drive(self.drive, items=100)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()

    @property
    def url(self) -> str:
        return self._thread.base_url

    @property
    def api_endpoint(self) -> str:
        """The `api_endpoint` client option: it replaces https://www.googleapis.com/drive/v3/."""
        return self.url + "/"

    @property
    def token_uri(self) -> str:
        """Where google-auth credentials should fetch tokens (service account `token_uri`)."""
        return self.url + "/token"

    @property
    def auth_uri(self) -> str:
        """The consent page `migrate login` sends the volunteer to (Google's auth_uri)."""
        return self.url + "/o/oauth2/v2/auth"

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "api_endpoint": self.api_endpoint,
            "token_uri": self.token_uri,
            "user": self.drive.user.email,
            "auth": "bearer token required" if self.auth.required else "anonymous accepted",
            "connect": (
                'googleapiclient.discovery.build("drive", "v3", credentials='
                "google.auth.credentials.AnonymousCredentials(), static_discovery=True, "
                f'client_options={{"api_endpoint": "{self.api_endpoint}"}})'
            ),
            "control_plane": self.url + "/_emulator/",
        }
