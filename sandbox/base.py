"""The small contract every local stand-in server follows, and a WSGI host for emulators."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, make_server


class LocalServer(ABC):
    """A server on loopback that a test, `migrate sandbox` or `migrate demo` can start and stop.

    Subclasses register under the `sandbox` entry-point group so that `migrate sandbox`
    starts every server that is installed without the core knowing any of them by name.
    """

    #: Short name, used as the key in `migrate sandbox` output (e.g. "nextcloud").
    name: str = ""

    @abstractmethod
    def start(self) -> None:
        """Start serving; return once the server answers requests."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and release the port. Safe to call twice."""

    @property
    @abstractmethod
    def url(self) -> str:
        """Base URL a connector's `url` option would take."""

    @classmethod
    def for_sandbox(cls, workdir: Path) -> Self:
        """A server for `migrate sandbox`/`migrate demo`, keeping its data under `workdir`.

        Servers whose constructor needs more than defaults override this.
        """
        return cls()

    def seed_demo(self) -> None:
        """Fill the server with the sample data `migrate demo` migrates (nothing by default)."""

    def describe(self) -> dict[str, Any]:
        """What `migrate sandbox` prints for this server: URL and credentials for a plan."""
        return {"url": self.url}

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WSGIServerThread:
    """Serve a WSGI application on 127.0.0.1 from a background thread (threaded, keep-alive).

    Port 0 picks a free port; read it back from `port` after `start()`.
    """

    def __init__(self, app: Any, port: int = 0, host: str = "127.0.0.1") -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving; does nothing if already serving (as `stop` when stopped)."""
        if self._server is not None:
            return
        self._server = make_server(self._host, self._requested_port, self._app, threaded=True)
        # HTTP/1.1 so that clients keep connections alive, as real services allow.
        self._server.RequestHandlerClass.protocol_version = "HTTP/1.1"
        self._thread = threading.Thread(
            # `stop` waits for the loop to look at its flag, once per poll interval: socketserver's
            # default half-second was paid by every stop (each test's own server, the demo).
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"wsgi:{self.port}", daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
