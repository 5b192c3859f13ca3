"""The front WSGI application: counting, faults, Basic auth, then routing to wsgidav, the
Nextcloud write paths (PUT, chunked upload v2), OCS and the control plane."""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlparse

from sandbox.nextcloud import locks, uploads
from sandbox.nextcloud.control import handle_control
from sandbox.nextcloud.dav import FILES_ROOT, LEGACY_ROOT, UPLOADS_ROOT, build_dav_app
from sandbox.nextcloud.faults import (
    CORRUPT,
    DROP,
    ConnectionDropped,
    CorruptingInput,
    DroppingInput,
    cut_socket,
)
from sandbox.nextcloud.ocs import VERSION, handle_ocs
from sandbox.nextcloud.responses import DavError, status_line
from sandbox.nextcloud.state import SandboxState

GROUP_FOLDERS_FRONT = "/index.php/apps/groupfolders/"
NOT_AUTHENTICATED = "No public access to this resource., Username or password was incorrect"
FAULT_MESSAGES = {
    401: NOT_AUTHENTICATED,
    423: '"{path}" is locked',
    429: "Too many requests, slow down",
    503: "System is in maintenance mode.",
    507: "Insufficient space in {path}",
}


def request_path(environ: dict[str, Any]) -> str:
    """PATH_INFO as text: WSGI servers hand it over latin-1 decoded (PEP 3333)."""
    raw = environ.get("PATH_INFO", "") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def normalise_names(environ: dict[str, Any], path: str) -> str:
    """Nextcloud stores every name in Unicode NFC: `\\OC\\Files\\View` normalises each path
    it is given (`Filesystem::normalizePath`), so `café` sent decomposed (NFD, as macOS
    writes it) names the same file as `café` composed. Done here for the request path and the
    `Destination` header, before anything else reads them."""
    normal = unicodedata.normalize("NFC", path)
    if normal != path:
        environ["PATH_INFO"] = normal.encode("utf-8").decode("latin-1")
    destination = environ.get("HTTP_DESTINATION")
    if destination:
        parts = urlparse(destination)
        named = unicodedata.normalize("NFC", unquote(parts.path))
        if named != unquote(parts.path):
            environ["HTTP_DESTINATION"] = parts._replace(path=quote(named)).geturl()
    return normal


#: Requests that change the files: what a per-host write cap limits.
WRITE_METHODS = frozenset({"PUT", "MKCOL", "MOVE", "COPY", "DELETE", "PROPPATCH"})


class NextcloudApp:
    """WSGI callable serving one `SandboxState`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.dav = build_dav_app(state)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = request_path(environ)
        if path.startswith("/_sandbox/"):
            return handle_control(self.state, environ, start_response, path[len("/_sandbox/") :])
        method = environ["REQUEST_METHOD"]
        self.state.count_request(method)
        writing = method in WRITE_METHODS
        if writing:
            self.state.write_started()
        try:
            self._apply_fault(environ, method, path)
            user = self._authenticate(environ)
            return self._route(environ, start_response, path, user)
        except DavError as error:
            return error.respond(start_response)
        except ConnectionDropped:
            # The socket is already gone; anything written now is discarded by the server.
            start_response(status_line(500), [("Content-Length", "0")])
            return []
        finally:
            if writing:
                self.state.write_finished()

    def _apply_fault(self, environ: dict[str, Any], method: str, path: str) -> None:
        fault = self.state.faults.take(method, path)
        if fault is None:
            return
        if fault.status == DROP:
            cut = cut_socket(environ.get("nc.socket"))
            environ["wsgi.input"] = DroppingInput(environ["wsgi.input"], fault.after_bytes, cut)
            return
        if fault.status == CORRUPT:
            environ["wsgi.input"] = CorruptingInput(environ["wsgi.input"])
            return
        headers = []
        if fault.retry_after is not None:
            headers.append(("Retry-After", str(fault.retry_after)))
        message = FAULT_MESSAGES.get(fault.status, "Injected fault").format(path=path)
        raise DavError(fault.status, message, headers=headers)

    def _authenticate(self, environ: dict[str, Any]) -> str | None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            login, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.state.authenticate(login, secret)

    def _route(self, environ: dict[str, Any], start_response: Any, path: str,
               user: str | None) -> Iterable[bytes]:  # fmt: skip
        if path == "/status.php":
            return _json(start_response, _status())
        for version in (1, 2):
            prefix = f"/ocs/v{version}.php/"
            if path.startswith(prefix):
                return handle_ocs(self.state, environ, start_response, user,
                                  path[len(prefix):], version)  # fmt: skip
        if path.startswith(GROUP_FOLDERS_FRONT):
            # The app's FrontpageRoutes are OCS controllers too: v1 envelope on index.php.
            return handle_ocs(self.state, environ, start_response, user,
                              path[len("/index.php/"):], 1)  # fmt: skip
        if not path.startswith("/remote.php/"):
            raise DavError(404, f"No route for {path}")
        if user is None:
            raise DavError(401, NOT_AUTHENTICATED)
        environ["nc.user"] = environ["wsgidav.auth.user_name"] = user
        path = normalise_names(environ, path)
        if path.startswith(UPLOADS_ROOT + "/"):
            return self._uploads(environ, start_response, path, user)
        inner = self._files_path(path, user)
        return self._files(environ, start_response, inner, user)

    def _files_path(self, path: str, user: str) -> str:
        """The user-relative path of a files URL (new or legacy endpoint); 404 for others."""
        if path == LEGACY_ROOT or path.startswith(LEGACY_ROOT + "/"):
            return "/" + path[len(LEGACY_ROOT) :].strip("/")
        owner, _, rest = path[len(FILES_ROOT) :].strip("/").partition("/")
        if not path.startswith(FILES_ROOT + "/") or owner != user:
            raise DavError(404, f"Principal with name {owner or path} not found")
        return "/" + rest.strip("/")

    def _destination(self, environ: dict[str, Any], user: str) -> str:
        header = environ.get("HTTP_DESTINATION")
        if not header:
            raise DavError(400, "The destination header was not supplied")
        return self._files_path(unquote(urlparse(header).path), user)

    def _files(self, environ: dict[str, Any], start_response: Any, inner: str,
               user: str) -> Iterable[bytes]:  # fmt: skip
        method = environ["REQUEST_METHOD"]
        if method in ("LOCK", "UNLOCK") and environ.get("HTTP_X_USER_LOCK"):
            return self._user_lock(start_response, method, user, inner)
        uploads.check_permission(self.state, user, inner, method)
        if method in ("PUT", "DELETE", "MOVE"):
            locks.check_unlocked(self.state, user, inner)
        if method == "PUT":
            written = uploads.put_file(self.state, environ, user, inner)
            return _empty(start_response, 201 if written.created else 204, written.headers)
        if method == "MKCOL":
            uploads.check_name(self.state, inner)
            uploads.check_folder_quota(self.state, user, inner)
        if method in ("MOVE", "COPY"):
            destination = self._destination(environ, user)
            uploads.check_name(self.state, destination)
            uploads.check_permission(self.state, user, destination, "PUT")
            locks.check_unlocked(self.state, user, destination)
        return self._through_dav(environ, start_response)

    def _user_lock(self, start_response: Any, method: str, user: str,
                   inner: str) -> Iterable[bytes]:  # fmt: skip
        """files_lock's `LOCK`/`UNLOCK` with `X-User-Lock` (LockPlugin::httpLock)."""
        found = locks.lock(self.state, user, inner) if method == "LOCK" else None
        if method == "UNLOCK":
            locks.unlock(self.state, user, inner)
        body = locks.properties_body(found)
        start_response(status_line(200), [("Content-Type", "application/xml; charset=utf-8"),
                                          ("Content-Length", str(len(body)))])  # fmt: skip
        return [body]

    def _uploads(self, environ: dict[str, Any], start_response: Any, path: str,
                 user: str) -> Iterable[bytes]:  # fmt: skip
        owner, upload_id, chunk = ([*path[len(UPLOADS_ROOT) :].strip("/").split("/", 2), "", ""])[
            :3
        ]
        if owner != user:
            raise DavError(404, f"Principal with name {owner} not found")
        method = environ["REQUEST_METHOD"]
        if method == "MKCOL" and upload_id and not chunk:
            destination = None
            if environ.get("HTTP_DESTINATION"):
                destination = self._destination(environ, user)
            uploads.start_upload(self.state, user, upload_id, destination)
            return _empty(start_response, 201, [])
        if method == "PUT" and chunk:
            uploads.put_chunk(self.state, environ, user, upload_id, chunk)
            return _empty(start_response, 201, [])
        if method == "MOVE" and chunk == ".file":
            destination = self._destination(environ, user)
            locks.check_unlocked(self.state, user, destination)
            written = uploads.finish_upload(self.state, environ, user, upload_id, destination)
            return _empty(start_response, 201 if written.created else 204, written.headers)
        if method == "DELETE" and upload_id and not chunk:
            self.state.index.forget_upload(user, upload_id)
        return self._through_dav(environ, start_response)

    def _through_dav(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        """Run wsgidav, replacing its HTML error pages with Nextcloud's Sabre error bodies."""
        failed: list[int] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            code = int(status[:3])
            if code >= 400 and environ["REQUEST_METHOD"] != "HEAD":
                failed.append(code)
                return lambda _data: None
            return start_response(status, headers, exc_info)

        result = self.dav(environ, capture)
        try:
            for chunk in result:
                if failed:
                    break
                yield chunk
        finally:
            if hasattr(result, "close"):
                result.close()
        if failed:
            yield from DavError(failed[0], _dav_message(failed[0], environ)).respond(start_response)


def _dav_message(code: int, environ: dict[str, Any]) -> str:
    path = request_path(environ)
    return {
        404: f"File with name {path.rsplit('/', 1)[-1]} could not be located",
        405: "The resource you tried to create already exists",
        409: "Parent node does not exist",
        412: "An If-Match header was specified, but none of the specified ETags matched.",
    }.get(code, f"{environ['REQUEST_METHOD']} failed")


def _status() -> dict[str, Any]:
    return {
        "installed": True, "maintenance": False, "needsDbUpgrade": False,
        "version": "30.0.5.1", "versionstring": VERSION["string"], "edition": "",
        "productname": "Nextcloud", "extendedSupport": False,
    }  # fmt: skip


def _json(start_response: Any, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(status_line(200), [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]


def _empty(start_response: Any, status: int, headers: list[tuple[str, str]]) -> Iterable[bytes]:
    start_response(status_line(status), [*headers, ("Content-Length", "0")])
    return []
