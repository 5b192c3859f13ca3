"""What a Mailman 3 list holds, read in bulk once per step and kept up to date as we write.

Mailman answers `GET /lists/<id>/roster/member`, `/bans` and `/requests` in pages
(`count`, `page`, `total_size`). mailmanclient reads each of these in one unpaged request and
opens a new connection for every request (it calls `requests.request`), so the bulk reads go
through one pooled `requests.Session` instead; writes stay with mailmanclient.
See docs/decisions/0510-mailman3-target.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.error import HTTPError

PAGE = 500  # entries per page: few requests, and a page Mailman builds in well under a second


@dataclass
class ListState:
    """Members (lowercased, as Mailman stores them), bans (as stored) and pending subscription
    requests (tokens by our identity key). Every method takes the lock: several writers share it."""

    members: set[str] = field(default_factory=set)
    bans: set[str] = field(default_factory=set)
    pending: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def is_member(self, forms: list[str]) -> bool:
        with self.lock:
            return any(form in self.members for form in forms)

    def is_banned(self, forms: list[str]) -> bool:
        with self.lock:
            return any(form in self.bans for form in forms)

    def is_pending(self, key: str) -> bool:
        with self.lock:
            return bool(self.pending.get(key))

    def add_member(self, email: str) -> None:
        with self.lock:
            self.members.add(email.lower())

    def add_pending(self, key: str, token: str) -> None:
        with self.lock:
            self.pending.setdefault(key, []).append(token)

    def add_ban(self, form: str) -> None:
        with self.lock:
            self.bans.add(form)

    def suppression_plan(self, key: str, forms: list[str]) -> tuple[list[str], list[str],
                                                                   list[str]]:
        """The bans still to add, the member forms to unsubscribe and the pending tokens to
        discard for a suppressed address (the state changes only as each request succeeds)."""
        with self.lock:
            return ([form for form in forms if form not in self.bans],
                    [form for form in forms if form in self.members],
                    list(self.pending.get(key, [])))

    def remove_member(self, form: str) -> None:
        with self.lock:
            self.members.discard(form)

    def remove_pending(self, key: str, token: str) -> None:
        with self.lock:
            tokens = self.pending.get(key, [])
            if token in tokens:
                tokens.remove(token)


class BulkReader:
    """Paged GETs on one kept-alive session; HTTP errors come out as urllib's HTTPError (the
    type mailmanclient raises) so one translation serves both."""

    def __init__(self, base_url: str, user: str, password: str,
                 count: Callable[[], None]) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = (user, password)
        self._count = count

    def pages(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        """Every entry of a paged collection, page after page."""
        page = 1
        while True:
            content = self.get(path, {**params, "count": str(PAGE), "page": str(page)})
            entries = content.get("entries", [])
            yield from entries
            if not entries or page * PAGE >= int(content.get("total_size", 0)):
                return
            page += 1

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        answer = self._call("GET", path, params=params)
        return answer.json() if answer.content else {}

    def delete(self, path: str, data: dict[str, str]) -> None:
        """One DELETE (an unsubscription) on the kept-alive session."""
        self._call("DELETE", path, data=data)

    def _call(self, method: str, path: str, **arguments: Any) -> Any:
        """One counted request; an error comes out as mailmanclient raises it: an HTTPError
        whose reason is Mailman's description (so "database is locked" is recognised)."""
        url = f"{self.base_url}/{path}"
        self._count()
        answer = self.session.request(method, url, timeout=120, **arguments)
        if answer.status_code // 100 != 2:
            try:
                why = str(answer.json()["description"])
            except (KeyError, TypeError, ValueError):
                why = answer.text or answer.reason
            raise HTTPError(url, answer.status_code, why, answer.headers,  # type: ignore[arg-type]
                            None)
        return answer

    def read_state(self, list_id: str, identity: Callable[[str], str]) -> ListState:
        """The list's members, bans and subscribers' pending requests: three paged reads."""
        state = ListState()
        base = f"lists/{list_id}"
        for entry in self.pages(f"{base}/roster/member", fields="email"):
            state.members.add(entry["email"].lower())
        for entry in self.pages(f"{base}/bans"):
            state.bans.add(entry["email"])
        for entry in self.pages(f"{base}/requests", token_owner="subscriber",
                                request_type="subscription"):
            state.pending.setdefault(identity(entry["email"]), []).append(entry["token"])
        return state

    def close(self) -> None:
        self.session.close()
