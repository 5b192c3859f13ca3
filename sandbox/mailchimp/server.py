"""`MailchimpServer`: the Mailchimp Marketing API v3 emulator as a `LocalServer`."""

from __future__ import annotations

from typing import Any

from sandbox.base import LocalServer, WSGIServerThread
from sandbox.mailchimp.app import MailchimpApp
from sandbox.mailchimp.control import ControlPlane
from sandbox.mailchimp.store import MailchimpStore

#: A key in Mailchimp's shape: 32 hex digits, a dash, the datacenter.
DEFAULT_API_KEY = "0123456789abcdef0123456789abcdef-us1"


class MailchimpServer(LocalServer):
    """Mailchimp Marketing API v3 (read subset) on loopback, under `/3.0/`.

    Point the official SDK at it with:

        client = mailchimp_marketing.Client()
        client.set_config({"api_key": server.api_key, "server": server.datacenter})
        client.api_client.host = server.url        # "http://127.0.0.1:PORT/3.0"

    (`set_config` does not touch `host`; the SDK replaces the word "server" in the host by the
    datacenter, which the loopback URL does not contain.)
    """

    name = "mailchimp"

    def __init__(self, port: int = 0, api_key: str = DEFAULT_API_KEY,
                 max_connections: int = 10) -> None:
        self.api_key = api_key
        self.store = MailchimpStore()
        self.app = MailchimpApp(self.store, api_key, max_connections=max_connections)
        self._thread = WSGIServerThread(self.app, port=port)

    @property
    def datacenter(self) -> str:
        """The part of the key after the dash ("us1"), which the SDK wants as `server`."""
        return self.api_key.rpartition("-")[2]

    @property
    def control(self) -> ControlPlane:
        """Faults, latency and request counters (also under `/_emulator/` over HTTP)."""
        return self.app.control

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, without the API version."""
        return self._thread.base_url

    @property
    def url(self) -> str:
        """The API root a client uses in place of `https://<dc>.api.mailchimp.com/3.0`."""
        return f"{self._thread.base_url}/3.0"

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "api_key": self.api_key, "server": self.datacenter,
                "audiences": {a.id: a.name for a in self.store.audiences.values()}}
