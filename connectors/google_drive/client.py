"""The official Drive v3 client, one per thread (httplib2 connections are not thread-safe),
built over real HTTP with `num_retries=0` everywhere so retries stay visible."""

from __future__ import annotations

import threading
from typing import Any

from connectors.google_drive.pacing import Pacer

#: A 401 after a token expired is answered by one refresh and one retry (google-auth's job);
#: a second 401 reaches us as HttpError and becomes a FatalError saying how to log in again.
MAX_REFRESH_ATTEMPTS = 1
TIMEOUT_SECONDS = 120


class DriveClient:
    """Hands out a Drive service per thread, all sharing one set of credentials."""

    def __init__(self, credentials: Any, api_endpoint: str | None) -> None:
        self.credentials = credentials
        self.api_endpoint = api_endpoint
        #: One pacer for every thread: the quota is per user, whatever the thread.
        self.pacer = Pacer()
        self._local = threading.local()
        self._lock = threading.Lock()

    def _build(self) -> tuple[Any, Any]:
        import httplib2
        from google_auth_httplib2 import AuthorizedHttp
        from googleapiclient.discovery import build

        http = AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=TIMEOUT_SECONDS),
                              max_refresh_attempts=MAX_REFRESH_ATTEMPTS)
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        with self._lock:  # refreshing shared credentials from two threads at once is wasteful
            service = build("drive", "v3", http=http, static_discovery=True,
                            cache_discovery=False, client_options=options)
        return service, http

    @property
    def service(self) -> Any:
        if getattr(self._local, "service", None) is None:
            self._local.service, self._local.http = self._build()
        return self._local.service

    @property
    def session(self) -> Any:
        """This thread's authorised `requests` session, for streaming exportLinks."""
        if getattr(self._local, "session", None) is None:
            from google.auth.transport.requests import AuthorizedSession

            self._local.session = AuthorizedSession(self.credentials)
        return self._local.session

    def execute(self, request: Any, what: str = "") -> Any:
        return self.pacer.call(lambda: request.execute(num_retries=0), what)
