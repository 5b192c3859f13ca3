"""The OCS API: capabilities, the current user, users and groups (shares in `shares.py`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request

from sandbox.nextcloud import groupfolders, shares
from sandbox.nextcloud.responses import OcsError, ocs_envelope, render_ocs, status_line
from sandbox.nextcloud.state import SPACE_UNLIMITED, SandboxState

VERSION = {"major": 30, "minor": 0, "micro": 5, "string": "30.0.5", "edition": "",
           "extendedSupport": False}  # fmt: skip
Params = dict[str, Any]
Handler = Callable[[SandboxState, str, Params, list[str]], Any]


def parameters(request: Request) -> Params:
    """Query string, form body and JSON body merged (clients use all three); `x[]` -> list."""
    merged: Params = {}
    for source in (request.args, request.form):
        for key in source:
            values = source.getlist(key)
            if key.endswith("[]"):
                merged[key[:-2]] = values
            else:
                merged[key] = values[-1]
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        merged.update(body)
    return merged


def capabilities(state: SandboxState, base_url: str, user: str = "") -> dict[str, Any]:
    """What `cloud/capabilities` returns; a connector reads its limits from here. The Group
    folders app adds its entry only when it is enabled."""
    files = {
        "bigfilechunking": True,
        "chunked_upload": {"max_size": 100 * 1024 * 1024, "max_parallel_count": 5},
        **state.rules.capabilities(),
    }
    sharing = {
        "api_enabled": True,
        "public": {"enabled": True, "multiple_links": True, "upload": True,
                   "password": {"enforced": False, "askForOptionalPassword": False},
                   "expire_date": {"enabled": False}, "upload_files_drop": True},
        "user": {"send_mail": False, "expire_date": {"enabled": True}},
        "resharing": True, "group_sharing": True, "group": {"enabled": True,
                                                             "expire_date": {"enabled": True}},
        "default_permissions": 31, "federation": {"outgoing": False, "incoming": False},
    }  # fmt: skip
    found = {
        "core": {"pollinterval": 60, "webdav-root": "remote.php/webdav", "reference-api": True},
        "dav": {"chunking": "1.0", "bulkupload": "1.0"},
        "files": files,
        "files_sharing": sharing,
    }
    if state.group_folders_enabled:
        found.update(groupfolders.capability(state, user))
    return {"version": VERSION, "capabilities": found}


def user_details(state: SandboxState, name: str) -> dict[str, Any]:
    account = state.accounts[name]
    used = state.used_bytes(name)
    quota = account.quota if account.quota is not None else SPACE_UNLIMITED
    free = state.free_bytes(name)
    return {
        "enabled": account.enabled, "id": name, "display-name": account.display_name,
        "displayname": account.display_name, "email": account.email or None,
        "groups": sorted(g for g, members in state.groups.items() if name in members),
        "quota": {"free": free, "used": used, "total": used + max(free, 0),
                  "relative": 0 if quota < 0 else round(100 * used / max(quota, 1), 2),
                  "quota": quota},
        "backend": "Database", "language": "fr", "locale": "fr_FR",
    }  # fmt: skip


def _require_admin(state: SandboxState, user: str) -> None:
    if user not in state.groups.get("admin", set()):
        raise OcsError(403, "Logged in account must be an admin")


def _users(state: SandboxState, user: str, params: Params, rest: list[str]) -> Any:
    method = params["_method"]
    if not rest and method == "GET":
        _require_admin(state, user)
        search = str(params.get("search", "")).lower()
        return {"users": sorted(n for n in state.accounts if search in n.lower())}
    if not rest and method == "POST":
        return _create_user(state, user, params)
    name = rest[0]
    if name not in state.accounts:
        raise OcsError(404, "User does not exist")
    if len(rest) == 1 and method == "GET":
        if name != user:
            _require_admin(state, user)
        return user_details(state, name)
    if rest[1:] == ["groups"] and method == "GET":
        return {"groups": user_details(state, name)["groups"]}
    if rest[1:] == ["groups"] and method == "POST":
        _require_admin(state, user)
        group = str(params.get("groupid", ""))
        if group not in state.groups:
            raise OcsError(102, "Group does not exist")
        state.groups[group].add(name)
        return []
    raise OcsError(
        404,
        "Invalid query, please check the syntax. API specifications are here: "
        "http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.",
    )


def _create_user(state: SandboxState, user: str, params: Params) -> Any:
    _require_admin(state, user)
    name = str(params.get("userid", ""))
    if not name:
        raise OcsError(101, "Invalid userid")  # NC: "No valid user id given" family
    if name in state.accounts:
        raise OcsError(102, "User already exists")
    groups = params.get("groups") or []
    for group in groups:
        if group not in state.groups:
            raise OcsError(104, "Group does not exist")
    state.add_user(name, str(params.get("password") or ""), email=str(params.get("email", "")))
    state.accounts[name].display_name = str(params.get("displayName") or name)
    for group in groups:
        state.groups[group].add(name)
    return {"id": name}


def _groups(state: SandboxState, user: str, params: Params, rest: list[str]) -> Any:
    method = params["_method"]
    if not rest and method == "GET":
        search = str(params.get("search", "")).lower()
        return {"groups": sorted(g for g in state.groups if search in g.lower())}
    _require_admin(state, user)
    if not rest and method == "POST":
        group = str(params.get("groupid", ""))
        if not group:
            raise OcsError(101, "Invalid group name")
        if group in state.groups:
            raise OcsError(102, "group exists")
        state.groups[group] = set()
        return []
    if rest and rest[0] in state.groups and method == "GET":
        return {"users": sorted(state.groups[rest[0]])}
    raise OcsError(404, "The requested group could not be found")


ROUTES: dict[str, Handler] = {
    "cloud/users": _users,
    "cloud/groups": _groups,
    "apps/files_sharing/api/v1/shares": shares.handle,
    "apps/files_sharing/api/v1/sharees": shares.sharees,
    "apps/groupfolders/folders": groupfolders.handle,
}


#: Routes served by OCS v1 and index.php only: the Group folders app declares its API as plain
#: `routes` in appinfo/routes.php (stable31–34 and master), which Nextcloud serves under
#: index.php/apps/groupfolders/ and ocs/v1.php; ocs/v2.php answers 404 for them.
NOT_ON_V2 = ("apps/groupfolders/",)
INVALID_QUERY = ("Invalid query, please check the syntax. API specifications are here: "
                 "http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.")


def _dispatch(state: SandboxState, user: str, route: str, params: Params, base_url: str,
              version: int = 2) -> Any:
    if version == 2 and route.startswith(NOT_ON_V2):
        raise OcsError(998, INVALID_QUERY, http_status=404)
    if route == "cloud/capabilities":
        return capabilities(state, base_url, user)
    if route == "cloud/user":
        return user_details(state, user)
    for prefix, handler in ROUTES.items():
        if route == prefix or route.startswith(prefix + "/"):
            rest = [part for part in route[len(prefix) :].split("/") if part]
            return handler(state, user, params, rest)
    raise OcsError(998, INVALID_QUERY, http_status=404)


def handle_ocs(state: SandboxState, environ: dict[str, Any], start_response: Any,
               user: str | None, route: str, version: int) -> Iterable[bytes]:  # fmt: skip
    """Answer one OCS request (`route` is the part after `/ocs/vN.php/`)."""
    request = Request(environ)
    as_json = request.args.get("format") == "json" or "json" in request.headers.get("Accept", "")
    base_url = request.host_url.rstrip("/")
    error: OcsError | None = None
    data: Any = None
    if request.headers.get("OCS-APIRequest", "").lower() != "true":
        body = json.dumps({"message": "CSRF check failed"}).encode()
        start_response(status_line(412), [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(body)))])  # fmt: skip
        return [body]
    if user is None:
        error = OcsError(997, "Current user is not logged in", http_status=401)
    else:
        params = parameters(request)
        params["_method"] = request.method
        params["_base_url"] = base_url
        try:
            data = _dispatch(state, user, route.strip("/"), params, base_url, version)
        except OcsError as failure:
            error = failure
    http, document = ocs_envelope(version, data, error)
    content_type, body = render_ocs(document, as_json)
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if http == 401:
        headers.append(("WWW-Authenticate", 'Basic realm="Nextcloud", charset="UTF-8"'))
    start_response(status_line(http), headers)
    return [body]
