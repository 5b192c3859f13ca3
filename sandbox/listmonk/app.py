"""The WSGI application of the listmonk REST API emulator (lists, subscribers, import)."""

from __future__ import annotations

import base64
import json
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.listmonk.importer import Importer
from sandbox.listmonk.query import compile_query
from sandbox.listmonk.store import (
    ListmonkError,
    ListmonkStore,
    name_from_email,
    sanitize_email,
)
from sandbox.mailchimp.control import ControlPlane, EmulatorApp

URLS = Map([
    Rule("/api/health", endpoint="health", methods=["GET"]),
    Rule("/api/lists", endpoint="lists", methods=["GET"]),
    Rule("/api/lists", endpoint="create_list", methods=["POST"]),
    Rule("/api/lists/<int:list_id>", endpoint="get_list", methods=["GET"]),
    Rule("/api/lists/<int:list_id>", endpoint="update_list", methods=["PUT"]),
    Rule("/api/lists/<int:list_id>", endpoint="delete_list", methods=["DELETE"]),
    Rule("/api/subscribers", endpoint="subscribers", methods=["GET"]),
    Rule("/api/subscribers", endpoint="create_subscriber", methods=["POST"]),
    Rule("/api/subscribers/blocklist", endpoint="blocklist", methods=["PUT"]),
    Rule("/api/subscribers/<int:sub_id>/blocklist", endpoint="blocklist", methods=["PUT"]),
    Rule("/api/subscribers/lists", endpoint="manage_lists", methods=["PUT"]),
    Rule("/api/subscribers/lists/<int:sub_id>", endpoint="manage_lists", methods=["PUT"]),
    Rule("/api/subscribers/query/blocklist", endpoint="blocklist_query", methods=["POST"]),
    Rule("/api/subscribers/<int:sub_id>", endpoint="get_subscriber", methods=["GET"]),
    Rule("/api/subscribers/<int:sub_id>", endpoint="update_subscriber", methods=["PUT"]),
    Rule("/api/subscribers/<int:sub_id>", endpoint="delete_subscriber", methods=["DELETE"]),
    Rule("/api/import/subscribers", endpoint="import_stats", methods=["GET"]),
    Rule("/api/import/subscribers", endpoint="import_start", methods=["POST"]),
    Rule("/api/import/subscribers", endpoint="import_stop", methods=["DELETE"]),
    Rule("/api/import/subscribers/logs", endpoint="import_logs", methods=["GET"]),
])


def message(status: int, text: str) -> Response:
    """listmonk's error body."""
    return Response(json.dumps({"message": text}), status=status, mimetype="application/json")


def data(document: Any) -> Response:
    """listmonk's success envelope."""
    return Response(json.dumps({"data": document}, ensure_ascii=False), status=200,
                    mimetype="application/json")


def paginate(request: Request, items: list[Any]) -> dict[str, Any]:
    """`page` (from 1) and `per_page` (default 20, or "all")."""
    try:
        page = max(int(request.args.get("page", 1)), 1)
        raw = request.args.get("per_page", "20")
        per_page = 0 if raw == "all" else max(int(raw), 1)
    except ValueError:
        raise ListmonkError(400, "Invalid page or per_page.") from None
    chosen = items if per_page == 0 else items[(page - 1) * per_page : page * per_page]
    return {"results": chosen, "total": len(items), "per_page": per_page or len(items),
            "page": page}


class ListmonkApp(EmulatorApp):
    """WSGI callable; `store`, `importer` and `control` are shared with `ListmonkServer`."""

    def __init__(self, store: ListmonkStore, credentials: dict[str, str]) -> None:
        self.store = store
        self.credentials = credentials
        self.importer = Importer(store)
        self.control = ControlPlane()
        self.urls = URLS

    def error(self, status: int, detail: str | None) -> Response:
        return message(status, detail or ("Not found" if status == 404
                                          else "Internal server error"))

    def handle(self, request: Request, rule: Rule, args: dict[str, Any]) -> Response:
        """Authenticate, then run the handler."""
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        self.control.pause()
        try:
            return getattr(self, f"do_{rule.endpoint}")(request, **args)
        except ListmonkError as error:
            return message(error.status, error.message)

    def authenticate(self, request: Request) -> Response | None:
        """`Authorization: token user:token`, or Basic user:token (kept for old clients)."""
        header = request.headers.get("Authorization", "").strip()
        if not header:
            return message(403, "invalid session")
        if header.startswith("token"):
            pair = header[len("token"):].strip()
        elif header.startswith("Basic"):
            try:
                pair = base64.b64decode(header[len("Basic"):].strip()).decode()
            except ValueError:
                return message(400, "invalid Base64 value in Basic Authorization header")
        else:
            return message(400, "unknown Authorization scheme")
        user, _, token = pair.partition(":")
        if not user or not token:
            return message(400, "empty `api_key` or `token`")
        if self.credentials.get(user) != token:
            return message(403, "invalid API credentials")
        return None

    # -- lists ---------------------------------------------------------------------------

    def list_json(self, record: dict[str, Any]) -> dict[str, Any]:
        counts = self.store.list_counts(record["id"])
        return {**record, "subscriber_count": sum(counts.values()),
                "subscriber_statuses": counts}

    def do_health(self, request: Request) -> Response:
        return data(True)

    def do_lists(self, request: Request) -> Response:
        query = request.args.get("query", "").lower()
        with self.store.lock:
            found = [self.list_json(r) for r in self.store.lists.values()
                     if query in r["name"].lower()]
        return data(paginate(request, found))

    def do_create_list(self, request: Request) -> Response:
        body = body_of(request)
        record = self.store.create_list(body.get("name", ""), body.get("type", "private"),
                                        body.get("optin", "single"), body.get("tags") or [],
                                        body.get("description", ""))
        return data(self.list_json(record))

    def do_get_list(self, request: Request, list_id: int) -> Response:
        with self.store.lock:
            return data(self.list_json(self.store.get_list(list_id)))

    def do_update_list(self, request: Request, list_id: int) -> Response:
        body = body_of(request)
        with self.store.lock:
            record = self.store.get_list(list_id)
            for key in ("name", "type", "optin", "description"):
                record[key] = body.get(key) or record[key]
            record["tags"] = body.get("tags") or []  # `update-list` always replaces tags
            return data(self.list_json(record))

    def do_delete_list(self, request: Request, list_id: int) -> Response:
        self.store.delete_list(list_id)
        return data(True)

    # -- subscribers ---------------------------------------------------------------------

    def do_subscribers(self, request: Request) -> Response:
        keep = compile_query(request.args.get("query", ""))
        list_ids = [int(i) for i in request.args.getlist("list_id") if i.isdigit()]
        found = self.store.query(keep, list_ids, request.args.get("subscription_status", ""))
        order_by = request.args.get("order_by", "id")
        if order_by not in ("id", "email", "name", "status", "created_at", "updated_at"):
            order_by = "id"
        found.sort(key=lambda r: r[order_by],
                   reverse=request.args.get("order", "asc").lower() == "desc")
        page = paginate(request, found)
        with self.store.lock:
            page["results"] = [self.store.render(r) for r in page["results"]]
        return data({**page, "query": request.args.get("query", "")})

    def do_create_subscriber(self, request: Request) -> Response:
        body = body_of(request)
        email = sanitize_email(body.get("email", ""))
        status = body.get("status") or "enabled"
        if status not in ("enabled", "blocklisted"):
            raise ListmonkError(400, "Invalid status.")
        record = self.store.insert_subscriber(
            email, (body.get("name") or "").strip() or name_from_email(email), status,
            body.get("attribs") or {}, body.get("lists") or [],
            bool(body.get("preconfirm_subscriptions")))
        with self.store.lock:
            return data(self.store.render(record))

    def do_get_subscriber(self, request: Request, sub_id: int) -> Response:
        with self.store.lock:
            return data(self.store.render(self.store.get_subscriber(sub_id)))

    def do_update_subscriber(self, request: Request, sub_id: int) -> Response:
        body = body_of(request)
        status = body.get("status") or ""
        if status and status not in ("enabled", "disabled", "blocklisted"):
            raise ListmonkError(400, "Invalid status.")
        record = self.store.update_subscriber(
            sub_id, sanitize_email(body.get("email", "")), (body.get("name") or "").strip(),
            status, body.get("attribs"), body.get("lists") or [],
            bool(body.get("preconfirm_subscriptions")))
        with self.store.lock:
            return data(self.store.render(record))

    def do_delete_subscriber(self, request: Request, sub_id: int) -> Response:
        self.store.delete_subscribers([sub_id])
        return data(True)

    def do_blocklist(self, request: Request, sub_id: int | None = None) -> Response:
        ids = [sub_id] if sub_id else body_of(request).get("ids") or []
        if not ids:
            raise ListmonkError(400, "No IDs given.")
        self.store.blocklist(ids)
        return data(True)

    def do_blocklist_query(self, request: Request) -> Response:
        body = body_of(request)
        if not body.get("query"):
            raise ListmonkError(400, "Invalid query.")
        keep = compile_query(body["query"])
        found = self.store.query(keep, body.get("list_ids") or [], "")
        self.store.blocklist([r["id"] for r in found])
        return data(True)

    def do_manage_lists(self, request: Request, sub_id: int | None = None) -> Response:
        body = body_of(request)
        ids = body.get("ids") or []
        if not ids:
            raise ListmonkError(400, "No IDs given.")
        ids = [sub_id] if sub_id else ids
        targets = body.get("target_list_ids") or []
        if not targets:
            raise ListmonkError(400, "No lists given.")
        action, status = body.get("action"), body.get("status") or ""
        if status and status not in ("unconfirmed", "confirmed", "unsubscribed"):
            raise ListmonkError(400, "Invalid subscription status.")
        if action == "add":
            self.store.add_subscriptions(ids, targets, status)
        elif action == "remove":
            self.store.delete_subscriptions(ids, targets)
        elif action == "unsubscribe":
            self.store.unsubscribe(ids, targets)
        else:
            raise ListmonkError(400, "Invalid action.")
        return data(True)

    # -- import --------------------------------------------------------------------------

    def do_import_stats(self, request: Request) -> Response:
        return data(self.importer.stats())

    def do_import_start(self, request: Request) -> Response:
        try:
            params = json.loads(request.form.get("params", ""))
        except ValueError as error:
            raise ListmonkError(400, f"Invalid params: {error}") from None
        upload = request.files.get("file")
        if upload is None:
            raise ListmonkError(400, "Invalid file: no file uploaded")
        return data(self.importer.start(params, upload.filename or "", upload.read()))

    def do_import_stop(self, request: Request) -> Response:
        return data(self.importer.stop())

    def do_import_logs(self, request: Request) -> Response:
        return data(self.importer.logs())


def body_of(request: Request) -> dict[str, Any]:
    """The JSON body (listmonk's `c.Bind`); a malformed one is a 400."""
    if not request.data:
        return {}
    try:
        body = json.loads(request.data)
    except ValueError as error:
        raise ListmonkError(400, f"Invalid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ListmonkError(400, "Invalid JSON: expected an object")
    return body
