"""`ListmonkServer`: the listmonk REST API emulator as a `LocalServer`, with inspection helpers."""

from __future__ import annotations

from typing import Any

from sandbox.base import LocalServer, WSGIServerThread
from sandbox.listmonk.app import ListmonkApp
from sandbox.listmonk.importer import Importer
from sandbox.listmonk.store import ListmonkStore
from sandbox.mailchimp.control import ControlPlane


class ListmonkServer(LocalServer):
    """listmonk v4/v5 REST API on loopback under `/api/`.

    Authenticate with `Authorization: token <api_user>:<token>` (or Basic with the same pair).
    Tests inspect state through `members(list_id)`, `blocklisted()` and `subscription(...)`.
    """

    name = "listmonk"

    def __init__(self, port: int = 0, api_user: str = "transhumance",
                 token: str = "listmonk-sandbox-token") -> None:
        self.api_user = api_user
        self.token = token
        self.store = ListmonkStore()
        self.app = ListmonkApp(self.store, {api_user: token})
        self._thread = WSGIServerThread(self.app, port=port)

    @property
    def control(self) -> ControlPlane:
        """Faults, latency and request counters (also under `/_emulator/` over HTTP)."""
        return self.app.control

    @property
    def importer(self) -> Importer:
        """The CSV import session (`importer.wait()` blocks until it ends)."""
        return self.app.importer

    @property
    def auth_header(self) -> dict[str, str]:
        """The header a client sends."""
        return {"Authorization": f"token {self.api_user}:{self.token}"}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()

    @property
    def url(self) -> str:
        """The instance root (`.../api/...` paths hang from it, as on a real install)."""
        return self._thread.base_url

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "api_user": self.api_user, "token": self.token}

    # -- inspection ----------------------------------------------------------------------

    def members(self, list_id: int, status: str | None = None) -> dict[str, str]:
        """email -> subscription status of every subscriber of a list (optionally filtered)."""
        with self.store.lock:
            return {
                self.store.subscribers[sub_id]["email"]: subs[list_id]["status"]
                for sub_id, subs in self.store.subscriptions.items()
                if list_id in subs and (status is None or subs[list_id]["status"] == status)
            }

    def blocklisted(self) -> set[str]:
        """Addresses of blocklisted subscribers."""
        with self.store.lock:
            return {r["email"] for r in self.store.subscribers.values()
                    if r["status"] == "blocklisted"}

    def subscriber(self, email: str) -> dict[str, Any] | None:
        """A subscriber's JSON (with `lists`) by address, case-insensitively."""
        with self.store.lock:
            sub_id = self.store.by_email.get(email.strip().lower())
            return None if sub_id is None else self.store.render(self.store.subscribers[sub_id])

    def subscription(self, email: str, list_id: int) -> str | None:
        """The subscription status of `email` on `list_id`, or None when not subscribed."""
        record = self.subscriber(email)
        lists = {entry["id"]: entry["subscription_status"] for entry in (record or {}).get(
            "lists", [])}
        return lists.get(list_id)
