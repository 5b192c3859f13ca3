"""The WSGI application: routing, authentication, faults, parameter checks, rendering.

Paths are those the official client builds when `api_endpoint` replaces the
`https://www.googleapis.com/drive/v3/` prefix (`/files`, `/files/ID/export`…); the same paths
under `/drive/v3/` are accepted too. `/token` is the OAuth endpoint, `/feeds/download/…` serves
exportLinks, `/_emulator/…` is the control plane for tests and benchmarks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import api, discovery, listing, media
from .auth import AuthServer
from .call import Call, check_parameters
from .control import control_plane
from .errors import DriveApiError
from .faults import Faults, RequestCounter
from .fields import apply, parse_mask, validate
from .state import DriveState

logger = logging.getLogger(__name__)

#: endpoint -> (discovery resource, method, handler). Handlers take (state, call, **path args).
_JSON_METHODS: dict[str, tuple[str, str, Callable[..., dict[str, Any]]]] = {
    "about.get": ("about", "get", api.get_about),
    "files.list": ("files", "list", listing.list_files),
    "files.get": ("files", "get", api.get_file),
    "permissions.list": ("permissions", "list", api.list_permissions),
    "permissions.get": ("permissions", "get", api.get_permission),
    "drives.list": ("drives", "list", api.list_drives),
    "drives.get": ("drives", "get", api.get_drive),
    "changes.getStartPageToken": ("changes", "getStartPageToken", api.get_start_page_token),
    "changes.list": ("changes", "list", api.list_changes),
    "files.download": ("files", "download", media.start_download),
    "operations.get": ("operations", "get", media.get_operation),
}

_ROUTES = Map(
    [
        Rule("/about", endpoint="about.get", methods=["GET"]),
        Rule("/files", endpoint="files.list", methods=["GET"]),
        Rule("/files/<file_id>", endpoint="files.get", methods=["GET"]),
        Rule("/files/<file_id>/export", endpoint="files.export", methods=["GET"]),
        Rule("/files/<file_id>/permissions", endpoint="permissions.list", methods=["GET"]),
        Rule(
            "/files/<file_id>/permissions/<permission_id>",
            endpoint="permissions.get",
            methods=["GET"],
        ),
        Rule("/drives", endpoint="drives.list", methods=["GET"]),
        Rule("/drives/<drive_id>", endpoint="drives.get", methods=["GET"]),
        Rule("/changes/startPageToken", endpoint="changes.getStartPageToken", methods=["GET"]),
        Rule("/changes", endpoint="changes.list", methods=["GET"]),
        Rule("/feeds/download/<segment>/export/Export", endpoint="exportLinks", methods=["GET"]),
        Rule("/files/<file_id>/download", endpoint="files.download", methods=["POST"]),
        Rule("/operations/<name>", endpoint="operations.get", methods=["GET"]),
        Rule("/download/<name>", endpoint="downloadUri", methods=["GET"]),
    ],
    strict_slashes=False,
)


class DriveApp:
    """The emulator as a WSGI callable over a `DriveState`, with its auth, faults and counters."""

    def __init__(self, state: DriveState) -> None:
        self.state = state
        self.auth = AuthServer(default_subject=state.user.email)
        self.faults = Faults()
        self.requests = RequestCounter()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        endpoint, response = self._handle(request)
        self.requests.record(endpoint, response.status_code)
        return response(environ, start_response)

    def _handle(self, request: Request) -> tuple[str, Response]:
        path = request.path
        if path.startswith("/drive/v3/"):
            path = path[len("/drive/v3") :]
        if path.startswith("/_emulator/"):
            return "_emulator", control_plane(self, request, path[len("/_emulator/") :])
        if path.rstrip("/") == "/token" and request.method == "POST":
            return "token", self.auth.token_endpoint(request)
        if path.rstrip("/") == "/o/oauth2/v2/auth" and request.method == "GET":
            return "consent", self.auth.consent_endpoint(request)
        endpoint = "unknown"
        try:
            try:
                endpoint, args = _ROUTES.bind("emulator").match(path, method=request.method)
            except (NotFound, MethodNotAllowed):
                raise DriveApiError(
                    404 if request.method == "GET" else 501,
                    "notFound" if request.method == "GET" else "notImplemented",
                    f"The Drive emulator does not serve {request.method} {path}.",
                ) from None
            if endpoint == "files.get" and request.args.get("alt") == "media":
                endpoint = "files.get_media"
            return endpoint, self._dispatch(request, path, endpoint, args)
        except DriveApiError as error:
            return endpoint, error.to_response()
        except Exception:
            logger.exception("Drive emulator failed on %s %s", request.method, request.full_path)
            return endpoint, DriveApiError(500, "internalError").to_response()

    def _dispatch(
        self, request: Request, path: str, endpoint: str, args: dict[str, str]
    ) -> Response:
        principal = self.auth.authenticate(
            request.headers.get("Authorization"), request.args.get("access_token")
        )
        self.auth.check_scope(request.headers.get("Authorization"))
        is_download = endpoint in ("files.get_media", "files.export", "exportLinks",
                                   "downloadUri")
        fault = self.faults.take(path, is_download)
        if fault is not None and fault.kind == "error":
            raise fault.to_error()
        self.faults.check_quotas(principal)
        call = Call(
            request, dict(request.args), principal, request.host_url.rstrip("/"), path_args=args
        )
        if endpoint == "exportLinks":
            return media.export_link(self.state, call, fault)
        if endpoint == "downloadUri":
            return media.operation_download(self.state, call, args["name"], fault)
        resource, method = (
            ("files", "get") if endpoint == "files.get_media" else endpoint.split(".")
        )
        check_parameters(call.params, resource, method, set(args))
        if endpoint == "files.get_media":
            return media.download(self.state, call, args["file_id"], fault)
        if endpoint == "files.export":
            return media.export(self.state, call, args["file_id"], fault)
        return self._json(call, endpoint, args)

    def _json(self, call: Call, endpoint: str, args: dict[str, str]) -> Response:
        resource, method, handler = _JSON_METHODS[endpoint]
        if "fields" in call.params:
            call.mask = parse_mask(call.params["fields"])
            schema = discovery.response_schema(resource, method)
            if schema is not None:
                validate(call.mask, schema)
        body = handler(self.state, call, **args)
        if call.mask is not None:
            body = apply(body, call.mask)
        else:
            body = apply(body, parse_mask(_DEFAULT_FIELDS[endpoint]))
        pretty = call.params.get("prettyPrint", "true").lower() != "false"
        text = json.dumps(body, ensure_ascii=False, indent=1 if pretty else None)
        return Response(text, mimetype="application/json")


#: What Drive v3 returns when the caller sends no `fields`: a deliberately small default.
_DEFAULT_FIELDS = {
    "about.get": "*",
    "files.list": "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)",
    "files.get": "kind,id,name,mimeType",
    "permissions.list": "kind,nextPageToken,permissions(kind,id,type,role)",
    "permissions.get": "kind,id,type,role",
    "drives.list": "kind,nextPageToken,drives(kind,id,name)",
    "drives.get": "kind,id,name",
    "changes.getStartPageToken": "kind,startPageToken",
    "changes.list": "kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,removed,"
    "fileId,driveId,file(kind,id,name,mimeType),drive(kind,id,name))",
    "files.download": "name,done,metadata,response,error",
    "operations.get": "name,done,metadata,response,error",
}
