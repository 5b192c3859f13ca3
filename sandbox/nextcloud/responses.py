"""Error and envelope shapes exactly as Nextcloud answers them (Sabre XML, OCS JSON/XML)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

#: Sabre exception class names by HTTP status, as they appear in `<s:exception>`.
SABRE_EXCEPTIONS = {
    400: "Sabre\\DAV\\Exception\\BadRequest",
    401: "Sabre\\DAV\\Exception\\NotAuthenticated",
    403: "Sabre\\DAV\\Exception\\Forbidden",
    404: "Sabre\\DAV\\Exception\\NotFound",
    405: "Sabre\\DAV\\Exception\\MethodNotAllowed",
    409: "Sabre\\DAV\\Exception\\Conflict",
    412: "Sabre\\DAV\\Exception\\PreconditionFailed",
    415: "Sabre\\DAV\\Exception\\UnsupportedMediaType",
    423: "OCA\\DAV\\Connector\\Sabre\\Exception\\FileLocked",
    429: "OCA\\DAV\\Connector\\Sabre\\Exception\\TooManyRequests",
    503: "Sabre\\DAV\\Exception\\ServiceUnavailable",
    507: "Sabre\\DAV\\Exception\\InsufficientStorage",
}
INVALID_PATH = "OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath"
REASONS = {
    200: "OK", 201: "Created", 204: "No Content", 207: "Multi-Status", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 412: "Precondition Failed", 415: "Unsupported Media Type", 423: "Locked",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 507: "Insufficient Storage",
}  # fmt: skip

Headers = list[tuple[str, str]]


def status_line(code: int) -> str:
    return f"{code} {REASONS.get(code, 'Unknown')}"


class DavError(Exception):
    """An error a DAV handler answers with; rendered as Nextcloud's Sabre error document."""

    def __init__(
        self,
        status: int,
        message: str,
        exception: str | None = None,
        headers: Headers | None = None,
        retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.exception = exception or SABRE_EXCEPTIONS.get(status, "Sabre\\DAV\\Exception")
        self.headers = headers or []
        self.retry = retry

    def body(self) -> bytes:
        """`<d:error>` with `s:exception` and `s:message` (and `o:retry`/`o:reason` for
        InvalidPath, which Nextcloud adds so clients know not to retry)."""
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n',
            '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n',
            f"  <s:exception>{escape(self.exception)}</s:exception>\n",
            f"  <s:message>{escape(self.message)}</s:message>\n",
        ]
        if self.retry is not None:
            retry = "true" if self.retry else "false"
            parts.append(f'  <o:retry xmlns:o="o:">{retry}</o:retry>\n')
            parts.append(f'  <o:reason xmlns:o="o:">{escape(self.message)}</o:reason>\n')
        parts.append("</d:error>\n")
        return "".join(parts).encode()

    def respond(self, start_response: Any) -> Iterable[bytes]:
        body = self.body()
        headers = [
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *self.headers,
        ]
        if self.status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="Nextcloud", charset="UTF-8"'))
        start_response(status_line(self.status), headers)
        return [body]


class OcsError(Exception):
    """An OCS failure: `statuscode` goes in the envelope, `http_status` on the response (v2)."""

    def __init__(self, statuscode: int, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.statuscode = statuscode
        self.message = message
        # OCS v2 mirrors a status on HTTP; app-specific codes (101, 102…) become 400.
        mapped = {997: 401, 998: 404, 996: 500}.get(statuscode, 400)
        self.http_status = http_status or (statuscode if 200 <= statuscode < 600 else mapped)


def ocs_envelope(version: int, data: Any, error: OcsError | None = None) -> tuple[int, dict]:
    """(HTTP status, document) for an OCS answer. v1 says 100 for success and always
    answers HTTP 200 (except 401); v2 says 200 and mirrors the status code on HTTP."""
    if error is None:
        code = 100 if version == 1 else 200
        meta = {"status": "ok", "statuscode": code, "message": "OK"}
        return 200, {"ocs": {"meta": meta, "data": data}}
    meta = {"status": "failure", "statuscode": error.statuscode, "message": error.message}
    http = error.http_status if version == 2 or error.http_status == 401 else 200
    return http, {"ocs": {"meta": meta, "data": []}}


def render_ocs(document: dict, as_json: bool) -> tuple[str, bytes]:
    """(content type, body) in JSON (`?format=json`) or OCS XML (the default)."""
    if as_json:
        return "application/json; charset=utf-8", json.dumps(document).encode()
    return "text/xml; charset=UTF-8", (
        '<?xml version="1.0"?>\n' + _xml("ocs", document["ocs"])
    ).encode()


def _xml(tag: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml(str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(_xml("element", v) for v in value)
    elif isinstance(value, bool):
        inner = "1" if value else ""
    elif value is None:
        inner = ""
    else:
        inner = escape(str(value))
    return f"<{tag}>{inner}</{tag}>"
