"""listmonk's data and the semantics of its SQL queries (queries.sql, v4/v5), in memory.

Each method mirrors one named query so that a connector meets the same behaviour here as on a
real instance; the query names are given in the docstrings.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

SUBSCRIPTION_STATUSES = ("unconfirmed", "confirmed", "unsubscribed")
SUBSCRIBER_STATUSES = ("enabled", "disabled", "blocklisted")

#: Go's `net/mail` atext (`isAtext`): printable ASCII but the specials, or any rune beyond
#: ASCII; a dot-atom on each side of the '@', or a domain literal after it.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\ud7ff\ue000-\U0010ffff]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
EMAIL_RE = re.compile(rf"^{_DOT_ATOM}@(?:{_DOT_ATOM}|\[[^\[\]\\]*\])$")


class ListmonkError(Exception):
    """An API error: HTTP status and listmonk's `{"message": ...}` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def now_iso() -> str:
    """listmonk's timestamps: microseconds and an explicit offset."""
    return datetime.now(UTC).isoformat()


def sanitize_email(email: str) -> str:
    """`ValidateFields` then `SanitizeEmail` (internal/subimporter/importer.go): more than
    1,000 bytes as sent is refused; then lowercased and trimmed, Go's `mail.ParseAddress` must
    give the address back unchanged — so no display name, no comment, no consecutive or
    trailing dots, no spaces or control characters, and no quoted local part (the parser
    returns it without its quotes, which is not the address sent)."""
    if len((email or "").encode("utf-8", "surrogatepass")) > 1000:
        raise ListmonkError(400, "Invalid email.")
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email):
        raise ListmonkError(400, "Invalid email.")
    return email


def name_from_email(email: str) -> str:
    """`ValidateFields`: a missing name becomes the title-cased local part, dots as spaces."""
    return " ".join(p.title() for p in email.split("@")[0].replace(".", " ").split())


class ListmonkStore:
    """Lists, subscribers and subscriptions of one instance, guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.lists: dict[int, dict[str, Any]] = {}
        self.subscribers: dict[int, dict[str, Any]] = {}
        self.by_email: dict[str, int] = {}
        self.subscriptions: dict[int, dict[int, dict[str, Any]]] = {}
        self._list_ids = itertools.count(1)
        self._sub_ids = itertools.count(1)

    # -- lists ---------------------------------------------------------------------------

    def create_list(self, name: str, type_: str = "private", optin: str = "single",
                    tags: Iterable[str] = (), description: str = "") -> dict[str, Any]:
        """`create-list`."""
        if not name.strip():
            raise ListmonkError(400, "Invalid name.")
        if type_ not in ("public", "private", "temporary") or optin not in ("single", "double"):
            raise ListmonkError(400, "Invalid list type or opt-in.")
        stamp = now_iso()
        with self.lock:
            record = {"id": next(self._list_ids), "uuid": str(uuid.uuid4()), "name": name,
                      "type": type_, "optin": optin, "tags": list(tags),
                      "description": description, "created_at": stamp, "updated_at": stamp}
            self.lists[record["id"]] = record
            return record

    def get_list(self, list_id: int) -> dict[str, Any]:
        """A list or 404."""
        if list_id not in self.lists:
            raise ListmonkError(404, "List not found.")
        return self.lists[list_id]

    def delete_list(self, list_id: int) -> None:
        """`delete-lists`: subscriptions to it go too (ON DELETE CASCADE)."""
        with self.lock:
            self.get_list(list_id)
            del self.lists[list_id]
            for subs in self.subscriptions.values():
                subs.pop(list_id, None)

    def list_counts(self, list_id: int) -> dict[str, int]:
        """`subscriber_statuses` of a list: subscriptions per status."""
        counts: dict[str, int] = {}
        for subs in self.subscriptions.values():
            if list_id in subs:
                status = subs[list_id]["status"]
                counts[status] = counts.get(status, 0) + 1
        return counts

    # -- subscribers ---------------------------------------------------------------------

    def get_subscriber(self, sub_id: int) -> dict[str, Any]:
        """A subscriber or 404."""
        if sub_id not in self.subscribers:
            raise ListmonkError(404, "Subscriber not found.")
        return self.subscribers[sub_id]

    def insert_subscriber(self, email: str, name: str, status: str, attribs: dict[str, Any],
                          list_ids: Iterable[int], preconfirm: bool) -> dict[str, Any]:
        """`insert-subscriber`: 409 on an existing address; new subscriptions `unconfirmed`
        (single and double opt-in lists alike) unless preconfirmed, `unsubscribed` when the
        subscriber is blocklisted."""
        with self.lock:
            if email in self.by_email:
                raise ListmonkError(409, "E-mail already exists.")
            stamp = now_iso()
            record = {"id": next(self._sub_ids), "uuid": str(uuid.uuid4()), "email": email,
                      "name": name, "attribs": attribs or {}, "status": status or "enabled",
                      "created_at": stamp, "updated_at": stamp}
            self.subscribers[record["id"]] = record
            self.by_email[email] = record["id"]
            self.subscriptions[record["id"]] = {}
            wanted = "confirmed" if preconfirm else "unconfirmed"
            if record["status"] == "blocklisted":
                wanted = "unsubscribed"
            for list_id in self._existing(list_ids):
                self._subscribe(record["id"], list_id, wanted)
            return record

    def update_subscriber(self, sub_id: int, email: str, name: str, status: str,
                          attribs: dict[str, Any] | None, list_ids: Iterable[int],
                          preconfirm: bool) -> dict[str, Any]:
        """`update-subscriber-with-lists` as `PUT /api/subscribers/:id` calls it
        (deleteLists=true). See docs/decisions/0203 for the consequences:

        - email, name, status change only when non-empty; attribs are replaced wholesale and
          become `{}` when omitted;
        - every subscription to a list *not* in `lists` is deleted (omit `lists` and the
          subscriber loses them all, with their confirmation history);
        - lists in `lists`: new ones get `unconfirmed` (or `confirmed` with preconfirm);
          existing `confirmed` and `unsubscribed` stay, `unconfirmed` becomes the new status;
          with status `blocklisted` all of them become `unsubscribed`.
        """
        with self.lock:
            record = self.get_subscriber(sub_id)
            if email and email != record["email"]:
                if email in self.by_email:
                    raise ListmonkError(409, "E-mail already exists.")
                del self.by_email[record["email"]]
                self.by_email[email] = sub_id
                record["email"] = email
            record["name"] = name or record["name"]
            record["status"] = status or record["status"]
            record["attribs"] = attribs or {}
            record["updated_at"] = now_iso()
            keep = set(self._existing(list_ids))
            subs = self.subscriptions[sub_id]
            for list_id in [i for i in subs if i not in keep]:
                del subs[list_id]
            wanted = "confirmed" if preconfirm else "unconfirmed"
            for list_id in keep:
                current = subs.get(list_id, {}).get("status")
                if status == "blocklisted":
                    self._subscribe(sub_id, list_id, "unsubscribed")
                elif current not in ("confirmed", "unsubscribed"):
                    self._subscribe(sub_id, list_id, wanted)
            return record

    def delete_subscribers(self, sub_ids: Iterable[int]) -> None:
        """`delete-subscribers`."""
        with self.lock:
            for sub_id in sub_ids:
                record = self.subscribers.pop(sub_id, None)
                if record:
                    self.by_email.pop(record["email"], None)
                    self.subscriptions.pop(sub_id, None)

    def blocklist(self, sub_ids: Iterable[int]) -> None:
        """`blocklist-subscribers`: status blocklisted, every subscription unsubscribed."""
        with self.lock:
            for sub_id in sub_ids:
                if sub_id in self.subscribers:
                    self.subscribers[sub_id]["status"] = "blocklisted"
                    self.subscribers[sub_id]["updated_at"] = now_iso()
                    for list_id in self.subscriptions[sub_id]:
                        self._subscribe(sub_id, list_id, "unsubscribed")

    def add_subscriptions(self, sub_ids: Iterable[int], list_ids: Iterable[int],
                          status: str) -> None:
        """`add-subscribers-to-lists`: new rows get `status` or `unconfirmed`; existing rows
        take `status` only when one is given."""
        with self.lock:
            for sub_id in self._existing_subs(sub_ids):
                for list_id in self._existing(list_ids):
                    current = self.subscriptions[sub_id].get(list_id)
                    if current is None or status:
                        self._subscribe(sub_id, list_id, status or "unconfirmed")

    def delete_subscriptions(self, sub_ids: Iterable[int], list_ids: Iterable[int]) -> None:
        """`delete-subscriptions`."""
        with self.lock:
            for sub_id in self._existing_subs(sub_ids):
                for list_id in list_ids:
                    self.subscriptions[sub_id].pop(list_id, None)

    def unsubscribe(self, sub_ids: Iterable[int], list_ids: Iterable[int]) -> None:
        """`unsubscribe-subscribers-from-lists`: only rows that exist change."""
        with self.lock:
            for sub_id in self._existing_subs(sub_ids):
                for list_id in list_ids:
                    if list_id in self.subscriptions[sub_id]:
                        self._subscribe(sub_id, list_id, "unsubscribed")

    def upsert(self, email: str, name: str, attribs: dict[str, Any], list_ids: list[int],
               sub_status: str, overwrite: bool) -> None:
        """`upsert-subscriber` (CSV import, mode subscribe): an existing subscriber keeps name
        and attribs unless `overwrite`; its existing subscriptions keep their status unless
        `overwrite`; a blocklisted subscriber's new subscriptions are `unsubscribed`."""
        with self.lock:
            sub_id = self.by_email.get(email)
            if sub_id is None:
                sub_id = self.insert_subscriber(email, name, "enabled", attribs, [], False)["id"]
            elif overwrite:
                self.subscribers[sub_id].update(name=name, attribs=attribs or {},
                                                updated_at=now_iso())
            blocked = self.subscribers[sub_id]["status"] == "blocklisted"
            for list_id in self._existing(list_ids):
                exists = list_id in self.subscriptions[sub_id]
                if not exists or overwrite:
                    self._subscribe(sub_id, list_id, "unsubscribed" if blocked else sub_status)

    def upsert_blocklist(self, email: str, name: str, attribs: dict[str, Any]) -> None:
        """`upsert-blocklist-subscriber` (CSV import, mode blocklist)."""
        with self.lock:
            sub_id = self.by_email.get(email)
            if sub_id is None:
                self.insert_subscriber(email, name, "blocklisted", attribs, [], False)
            else:
                self.blocklist([sub_id])

    def query(self, keep: Callable[[dict[str, Any]], bool], list_ids: list[int],
              sub_status: str) -> list[dict[str, Any]]:
        """`query-subscribers`: optional list and subscription-status filters, then `keep`."""
        with self.lock:
            found = []
            for sub_id, record in self.subscribers.items():
                subs = self.subscriptions[sub_id]
                if list_ids and not any(
                    i in subs and (not sub_status or subs[i]["status"] == sub_status)
                    for i in list_ids
                ):
                    continue
                if keep(record):
                    found.append(record)
            return found

    def render(self, record: dict[str, Any]) -> dict[str, Any]:
        """A subscriber's JSON with `lists[]` carrying each `subscription_status`."""
        lists = []
        for list_id, sub in sorted(self.subscriptions.get(record["id"], {}).items()):
            lists.append({"subscription_status": sub["status"],
                          "subscription_created_at": sub["created_at"],
                          "subscription_updated_at": sub["updated_at"],
                          "subscription_meta": sub["meta"], **self.lists[list_id]})
        return {**record, "attribs": dict(record["attribs"]), "lists": lists}

    def _subscribe(self, sub_id: int, list_id: int, status: str) -> None:
        stamp = now_iso()
        current = self.subscriptions[sub_id].get(list_id)
        if current is None:
            self.subscriptions[sub_id][list_id] = {"status": status, "created_at": stamp,
                                                   "updated_at": stamp, "meta": {}}
        else:
            current.update(status=status, updated_at=stamp)

    def _existing(self, list_ids: Iterable[int]) -> list[int]:
        # The SQL joins on `lists`, so unknown list ids are silently ignored, not errors.
        return [i for i in dict.fromkeys(list_ids or []) if i in self.lists]

    def _existing_subs(self, sub_ids: Iterable[int]) -> list[int]:
        return [i for i in sub_ids if i in self.subscribers]
