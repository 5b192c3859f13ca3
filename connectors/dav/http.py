"""One pooled HTTP session per target, and the translation of WebDAV answers into our errors.

Statuses decide, never message text: 401/403 stop the step (credentials), 507 stops it with the
quota figures, 423/429/5xx and dropped connections are worth retrying (Retry-After honoured),
400 InvalidPath skips the one item with the server's own message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote
from xml.etree import ElementTree

from migrate.errors import ConnectorError, FatalError, SkipItem, TransientError
from migrate.i18n import _
from migrate.network import connection_problem
from migrate.plan import confine
from migrate.retry import parse_retry_after

if TYPE_CHECKING:
    import requests

    from connectors.dav.keepalive import KeepAliveUploads

SABRE = "{http://sabredav.org/ns}"
INVALID_PATH = "OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath"
RETRYABLE = {423, 429, 500, 502, 503, 504}
#: Connect and read timeouts (seconds): long reads for a server assembling a big upload.
TIMEOUT = (15, 300)
#: Read-only requests sent over lean keep-alive connections (connectors/dav/keepalive.py,
#: wire.py) instead of `requests`: a listing or a re-run that writes nothing then never
#: imports `requests` (about 0.1 s of a re-run's 0.4 s of CPU), nor `http.client`.
LIGHT_METHODS = frozenset({"PROPFIND", "OPTIONS"})


class Answer(Protocol):
    """What `translate` and the callers read of an answer: a `requests.Response` or
    `keepalive.Answer`."""

    status_code: int
    reason: str
    headers: Any

    @property
    def content(self) -> bytes: ...


class InsufficientStorageError(FatalError):
    """507: the account (or group folder) has no room; `DavTarget` says if one file does not
    fit while others may."""


class LockedError(TransientError):
    """423: the file is locked (a write in progress, or a person's lock: `DavTarget` asks)."""


def retry_after(response: Answer) -> float | None:
    """Seconds from a `Retry-After` header (a number or an HTTP date), or None."""
    return parse_retry_after(response.headers.get("Retry-After"))


def sabre_error(response: Answer) -> tuple[str | None, str | None]:
    """(`s:exception`, `s:message`) of a Sabre error body, when the body is one."""
    if "xml" not in response.headers.get("Content-Type", ""):
        return None, None
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        return None, None
    return root.findtext(f"{SABRE}exception"), root.findtext(f"{SABRE}message")


def human_bytes(count: float) -> str:
    """`1.5 GB`, as a volunteer reads sizes; a message, so a French report says `Go`."""
    from migrate.report.format import size  # the report package: loaded when a size is said

    return size(round(count))


@lru_cache(maxsize=4096)
def _quoted(folder: str) -> str:
    return quote(folder, safe="/")


class DavHttp:
    """A keep-alive `requests.Session` sized to the number of parallel writes, made on the
    first request that needs it; PROPFIND and OPTIONS go over lean keep-alive connections
    when no proxy applies (`LIGHT_METHODS`).

    `base` is the DAV root URL ending in `/`; `url(path)` quotes a relative path onto it.
    `quota` is called on 507 to read the account's figures for the message.
    """

    def __init__(self, base: str, user: str, password: str, pool_size: int,
                 account_help: str, verify_tls: bool = True) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.user, self.password, self.verify_tls = user, password, verify_tls
        self.pool_size = pool_size
        self._session: requests.Session | None = None
        self._light: KeepAliveUploads | bool | None = False  # False: not decided yet
        self._made = threading.Lock()
        self.account_help = account_help
        self.quota: Callable[[], tuple[int | None, int | None]] | None = None
        #: The full-account message, made once: every write then in flight fails the same
        #: way, and the same sentence (same figures) is said once.
        self._full: str | None = None

    def url(self, path: str, folder: bool = False) -> str:
        # '..' would climb out of the DAV root (a segment that is '..' once stripped).
        if ".." in path and confine.escaping_segment(path) is not None:
            raise FatalError(_("{path} would lead outside the connection's folder; nothing is "
                               "written there").format(path=path))
        parent, _slash, name = path.strip("/").rpartition("/")
        # A folder's files all quote it alike: once per folder (`quote` works byte by byte).
        quoted = f"{_quoted(parent)}/{quote(name)}" if parent else quote(name, safe="/")
        if folder and quoted:
            quoted += "/"
        return self.base + quoted

    @property
    def session(self) -> requests.Session:
        if self._session is not None:
            return self._session
        with self._made:
            if self._session is None:
                import requests  # only for what writes or reads content: see LIGHT_METHODS
                from requests.adapters import HTTPAdapter

                session = requests.Session()
                session.auth = (self.user, self.password)
                session.verify = self.verify_tls
                session.headers["User-Agent"] = "transhumance-migrate"
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.pool_size,
                                      max_retries=0)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._session = session
            return self._session

    def _light_path(self) -> KeepAliveUploads | None:
        with self._made:
            if self._light is False:
                from connectors.dav.keepalive import KeepAliveUploads

                self._light = (KeepAliveUploads(self, self.user, self.password, self.verify_tls)
                               if KeepAliveUploads.is_usable(self.base) else None)
            return self._light  # type: ignore[return-value]

    def request(self, method: str, url: str, what: str, ok: tuple[int, ...] = (),
                **kwargs: Any) -> Any:
        """Send one request; answers in `ok` or 2xx are returned, others raised as our errors.

        The answer is a `requests.Response`, or for `LIGHT_METHODS` a `keepalive.Answer` with
        the same `status_code`, `reason`, `headers`, `content`, `json()`, `raw`, `close()`.
        `what` names the item or folder concerned, for messages."""
        if method in LIGHT_METHODS and set(kwargs) <= {"headers", "data", "stream"}:
            light = self._light_path()
            data = kwargs.get("data") or b""
            if light is not None and isinstance(data, (str, bytes)):
                answer = light.answer(method, url, what, data.encode() if isinstance(
                    data, str) else data, kwargs.get("headers"), ok, kwargs.get("stream", False))
                if answer is not None:
                    return answer
        import requests

        kwargs.setdefault("timeout", TIMEOUT)
        try:
            response = self.session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TransientError(connection_problem(error, what)) from None
        if response.status_code < 300 or response.status_code in ok:
            return response
        raise self.translate(response, what)

    def translate(self, response: Answer, what: str) -> ConnectorError:
        status = response.status_code
        exception, message = sabre_error(response)
        if status == 401:
            return FatalError(_("the server refused the login: the app password may have been "
                                "revoked or mistyped. {help}").format(help=self.account_help))
        if status == 403:
            return ConnectorError(_("the server does not allow writing {what} (HTTP 403: "
                                    "{reason})").format(what=what,
                                                         reason=message or response.reason))
        if status == 507:
            return InsufficientStorageError(self.full_message())
        if status == 423:
            return LockedError(_("the server says {what} is locked ({reason})").format(
                what=what, reason=message or response.reason),
                retry_after=retry_after(response))
        if status in RETRYABLE:
            reason = message or response.reason
            return TransientError(_("the server is busy or unavailable (HTTP {status}: "
                                    "{reason}) while writing {what}").format(
                                        status=status, reason=reason, what=what),
                                  retry_after=retry_after(response))
        if status == 400 and exception == INVALID_PATH:
            return SkipItem(_("the server refuses the name of {what}: {message}")
                            .format(what=what, message=message))
        return ConnectorError(_("the server answered HTTP {status} ({reason}) for {what}")
                              .format(status=status, reason=message or response.reason,
                                      what=what))

    def full_message(self) -> str:
        if self._full is None:
            self._full = self._full_message()
        return self._full

    def _full_message(self) -> str:
        used, free = self.quota() if self.quota else (None, None)
        if used is None or free is None:
            return _("the account on the server is full; free some space or ask the "
                     "administrator to raise the quota, then run 'migrate apply' again")
        return _("the Nextcloud account is full: {used} used, {free} free; free some space or "
                 "ask the administrator to raise the quota, then run 'migrate apply' again"
                 ).format(used=human_bytes(used), free=human_bytes(free))

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._light:
            self._light.close()  # type: ignore[union-attr]
