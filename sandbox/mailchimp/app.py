"""The WSGI application of the Mailchimp Marketing API v3 emulator (read endpoints).

Request pipeline, in Mailchimp's order as far as a client can tell: count the request, apply an
injected fault (edge errors come before authentication), authenticate, take one of the key's
simultaneous-connection slots (429 past the limit), then answer.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.mailchimp.control import ControlPlane, EmulatorApp
from sandbox.mailchimp.masks import apply_masks
from sandbox.mailchimp.store import (
    STATUSES,
    Audience,
    MailchimpStore,
    render_audience,
    render_member,
    subscriber_hash,
)

ERROR_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"
MAX_COUNT = 1000
TITLES = {
    400: "Invalid Resource",
    401: "API Key Invalid",
    403: "Forbidden",
    404: "Resource Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
DETAILS = {
    401: "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
    404: "The requested resource could not be found.",
    429: "You have exceeded the limit of 10 simultaneous connections.",
    500: "An unexpected internal error has occurred. Please contact Support for more information.",
}

URLS = Map(
    [
        Rule("/3.0/ping", endpoint="ping"),
        Rule("/3.0/lists", endpoint="lists"),
        Rule("/3.0/lists/<list_id>", endpoint="list"),
        Rule("/3.0/lists/<list_id>/members", endpoint="members"),
        Rule("/3.0/lists/<list_id>/members/<member>", endpoint="member"),
        Rule("/3.0/lists/<list_id>/members/<member>/tags", endpoint="member_tags"),
        Rule("/3.0/lists/<list_id>/merge-fields", endpoint="merge_fields"),
        Rule("/3.0/lists/<list_id>/interest-categories", endpoint="categories"),
        Rule("/3.0/lists/<list_id>/interest-categories/<category_id>/interests",
             endpoint="interests"),
    ],
    strict_slashes=False,
)


class ProblemError(Exception):
    """Raised by handlers to answer with Mailchimp's problem-details document."""

    def __init__(self, status: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def problem(status: int, detail: str | None = None, instance: str | None = None) -> Response:
    """Mailchimp's error body (RFC 7807 shape) with its `application/problem+json` type.

    The official Python SDK only parses bodies whose type contains `application/json`, so it
    hands these back as raw text in `ApiClientError.text`: a connector must `json.loads` it.
    """
    document = {
        "type": ERROR_DOC,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status, "Your request could not be processed."),
        "instance": instance or str(uuid.uuid4()),
    }
    return Response(json.dumps(document), status=status,
                    content_type="application/problem+json; charset=utf-8")


def ok(document: Any, request: Request) -> Response:
    """200 with the `fields` / `exclude_fields` masks applied."""
    masked = apply_masks(document, request.args.get("fields"), request.args.get("exclude_fields"))
    return Response(json.dumps(masked, ensure_ascii=False), status=200,
                    content_type="application/json; charset=utf-8")


class MailchimpApp(EmulatorApp):
    """WSGI callable; `store` and `control` are shared with `MailchimpServer`."""

    def __init__(self, store: MailchimpStore, api_key: str, max_connections: int = 10) -> None:
        self.store = store
        self.api_key = api_key
        self.max_connections = max_connections
        self.control = ControlPlane()
        self.urls = URLS
        self._in_flight: dict[str, int] = {}
        self._slots = threading.Lock()

    def error(self, status: int, detail: str | None) -> Response:
        return problem(status)  # Mailchimp's own wording for the status, not werkzeug's

    def handle(self, request: Request, rule: Rule, args: dict[str, Any]) -> Response:
        """Authenticate, hold one of the key's connection slots, then run the handler."""
        key = self._api_key(request)
        if key != self.api_key:
            return problem(401)
        if not self._acquire(key):
            return problem(429)
        try:
            self.control.pause()
            if request.method != "GET":
                return problem(405, "This emulator serves the read endpoints only.")
            return getattr(self, f"get_{rule.endpoint}")(request, **args)
        except ProblemError as error:
            return problem(error.status, error.detail)
        finally:
            self._release(key)

    @staticmethod
    def _api_key(request: Request) -> str | None:
        """Basic auth with any username (what the SDK sends), or `apikey`/`Bearer` headers."""
        if request.authorization and request.authorization.type == "basic":
            return request.authorization.password
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return value.strip() if scheme.lower() in ("apikey", "bearer") else None

    def _acquire(self, key: str) -> bool:
        with self._slots:
            if self._in_flight.get(key, 0) >= self.max_connections:
                return False
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return True

    def _release(self, key: str) -> None:
        with self._slots:
            self._in_flight[key] -= 1

    # -- handlers -------------------------------------------------------------------------

    def get_ping(self, request: Request) -> Response:
        return ok({"health_status": "Everything's Chimpy!"}, request)

    def get_lists(self, request: Request) -> Response:
        with self.store.lock:
            audiences = [render_audience(a) for a in self.store.audiences.values()]
        offset, count = page_window(request)
        return ok({"lists": audiences[offset : offset + count], "total_items": len(audiences),
                   "constraints": {"may_create": True, "max_instances": 0,
                                   "current_total_instances": len(audiences)},
                   "_links": []}, request)

    def get_list(self, request: Request, list_id: str) -> Response:
        with self.store.lock:
            return ok(render_audience(self.audience(list_id)), request)

    def get_members(self, request: Request, list_id: str) -> Response:
        offset, count = page_window(request)
        with self.store.lock:
            audience = self.audience(list_id)
            keep = member_filter(request)
            selected = [(k, m) for k, m in audience.members.items() if keep(m)]
            page = [render_member(audience, k, m) for k, m in selected[offset : offset + count]]
        return ok({"members": page, "list_id": list_id, "total_items": len(selected),
                   "_links": []}, request)

    def get_member(self, request: Request, list_id: str, member: str) -> Response:
        with self.store.lock:
            audience = self.audience(list_id)
            key = self.member_key(audience, member)
            return ok(render_member(audience, key, audience.members[key]), request)

    def get_member_tags(self, request: Request, list_id: str, member: str) -> Response:
        offset, count = page_window(request)
        with self.store.lock:
            audience = self.audience(list_id)
            tags = audience.tags.get(self.member_key(audience, member), [])
            return ok({"tags": tags[offset : offset + count], "total_items": len(tags),
                       "_links": []}, request)

    def get_merge_fields(self, request: Request, list_id: str) -> Response:
        offset, count = page_window(request)
        with self.store.lock:
            fields = self.audience(list_id).merge_fields
            return ok({"merge_fields": fields[offset : offset + count], "list_id": list_id,
                       "total_items": len(fields), "_links": []}, request)

    def get_categories(self, request: Request, list_id: str) -> Response:
        offset, count = page_window(request)
        with self.store.lock:
            categories = self.audience(list_id).categories
            return ok({"list_id": list_id, "categories": categories[offset : offset + count],
                       "total_items": len(categories), "_links": []}, request)

    def get_interests(self, request: Request, list_id: str, category_id: str) -> Response:
        offset, count = page_window(request)
        with self.store.lock:
            audience = self.audience(list_id)
            if category_id not in audience.interests:
                raise ProblemError(404)
            interests = [
                {**i, "subscriber_count": str(sum(
                    1 for m in audience.members.values()
                    if m["interests"].get(i["id"]) and m["status"] == "subscribed"))}
                for i in audience.interests[category_id][offset : offset + count]
            ]
            return ok({"interests": interests, "list_id": list_id, "category_id": category_id,
                       "total_items": len(audience.interests[category_id]), "_links": []},
                      request)

    def audience(self, list_id: str) -> Audience:
        """The audience or a 404 problem."""
        try:
            return self.store.audiences[list_id]
        except KeyError:
            raise ProblemError(404) from None

    @staticmethod
    def member_key(audience: Audience, member: str) -> str:
        """Members are addressed by hash; Mailchimp also accepts the address itself."""
        key = subscriber_hash(member) if "@" in member else member.lower()
        if key not in audience.members:
            raise ProblemError(404)
        return key


def page_window(request: Request) -> tuple[int, int]:
    """`offset` and `count` (default 10, at most 1000) of a collection request."""
    try:
        count = int(request.args.get("count", 10))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise ProblemError(400, "count and offset must be integers") from None
    if count > MAX_COUNT or count < 0 or offset < 0:
        raise ProblemError(400, f"count must be between 0 and {MAX_COUNT}; offset >= 0")
    return offset, count


def member_filter(request: Request) -> Callable[[dict[str, Any]], bool]:
    """The predicate for the members collection's query filters."""
    args = request.args
    status = args.get("status")
    if status and status not in STATUSES:
        raise ProblemError(400, f"status must be one of {', '.join(STATUSES)}")
    bounds = [(field, op, _instant(args[name]))
              for name, field, op in (("since_last_changed", "last_changed", "gt"),
                                      ("before_last_changed", "last_changed", "lt"),
                                      ("since_timestamp_opt", "timestamp_opt", "gt"),
                                      ("before_timestamp_opt", "timestamp_opt", "lt"))
              if args.get(name)]
    email_type = args.get("email_type")
    vip_only = args.get("vip_only", "").lower() == "true"
    unique_id = args.get("unique_email_id")

    def keep(member: dict[str, Any]) -> bool:
        if status and member["status"] != status:
            return False
        # Archived contacts are left out of the listing unless asked for (decision 0532).
        if not status and member["status"] == "archived":
            return False
        if (email_type and member["email_type"] != email_type) or (vip_only and not member["vip"]):
            return False
        if unique_id and member["unique_email_id"] != unique_id:
            return False
        for field, op, bound in bounds:
            if not member[field]:
                return False
            value = _instant(member[field])
            if (op == "gt" and value <= bound) or (op == "lt" and value >= bound):
                return False
        return True

    return keep


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ProblemError(400, f"{text!r} is not an ISO 8601 date-time") from None
    # Mailchimp reads a date-time without offset as UTC; comparing needs aware values.
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
