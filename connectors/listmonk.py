"""`listmonk`: members into a listmonk list through its REST API, consent kept.

- The list is matched by name, or created (on the first write: a plan writes nothing).
- A new member is one `POST /api/subscribers` with the list, attributes (merge fields, tags,
  consent evidence) and `preconfirm_subscriptions` only when opt-in evidence exists.
- A suppressed member is created `blocklisted` with no list, or an existing one is blocklisted
  by id: never subscribed.
- In bulk (`write_batch`, up to 1,000 members a request): listmonk's CSV import, mode
  `subscribe` with `overwrite: false` (an existing subscriber keeps its statuses, name and
  attributes) and one import per consent class — `confirmed` only for members with opt-in
  evidence, `unconfirmed` otherwise — and mode `blocklist` for suppressed members; the import is
  asynchronous: polled until finished, then the members are read back by address (100 a
  request) and each is reported as it stands. One import at a time (listmonk runs only one).
- Never `POST /api/subscribers/subscription` (it re-subscribes) nor `PUT /api/subscribers/{id}`
  (it deletes every membership left out and resets attributes; docs/decisions/0203). An
  existing subscriber is only added to the list when it has no row there (an unsubscribed row
  is left alone), and is never un-blocklisted.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.mailing import http as web
from connectors.mailing.members import is_documented, is_suppressed
from connectors.mailing.refusals import listmonk_refusal
from migrate.connector import Capabilities, Connector, Source, StepContext, Target
from migrate.consent import (
    MEMBER_CHECKSUM,
    SUPPRESSED_CHECKSUM,
    InvalidAddressError,
    address_key,
)
from migrate.errors import SkipItem, TransientError
from migrate.i18n import N_, _
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.member_meta import member_of
from migrate.model import Change, Fingerprint, ItemKind, SourceItem, TargetEntry, TargetName
from migrate.options import option

SERVICE = "listmonk"
MARK = "transhumance"
RENEW = ("Check the API user and token in listmonk (Admin › Users › API), and that the user "
         "may manage subscribers and lists.")


@dataclass(frozen=True, kw_only=True)
class ListmonkOptions:
    url: str = option("url", required=True,
                      help="listmonk's address, e.g. https://news.example.org")
    user: str = option(required=True, help="The API user's name (Admin › Users).")
    token: str = option(required=True, secret=True, help="The API user's token.")
    optin: str = option(choices=("single", "double"), default="double",
                        help="The opt-in kind of a list that has to be created.")


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    token = secrets.ref("LISTMONK_TOKEN", "the listmonk API token / le token de l'API listmonk")
    return ("  # The list server. Unsubscribed addresses are never subscribed again.\n"
            "  # Le serveur de listes. Les adresses désinscrites ne sont jamais réinscrites.\n"
            f"  list:\n    type: listmonk\n    url: {quoted(answers['list_url'])}\n"
            f"    user: {quoted(answers['list_user'])}\n"
            f"    token: \"{token}\"\n")


#: What `migrate init` offers: a listmonk list receiving the members.
INIT_OFFER = Offer(
    moves="members", role="target", choice="listmonk", phrase="listmonk",
    connection=_init_connection,
    reference=lambda answers: quoted("list:" + answers["list_name"]),
    questions=(
        Question("list_url", N_("Address of the listmonk server")),
        Question("list_user", N_("API user name on the list server"), "api"),
        Question("list_name", N_("Name of the list there")),
    ), rank=10)


class ListmonkConnector(Connector):
    name = "listmonk"
    init_offers = (INIT_OFFER,)
    summary = "A listmonk mailing list (REST API): subscribers, attributes, blocklist."
    Options = ListmonkOptions
    config: ListmonkOptions
    target_actions = ("export",)

    def open_target(self, location: str, step: StepContext) -> ListmonkTarget:
        return ListmonkTarget(self.config.url.rstrip("/"), self.config.user, self.config.token,
                              location.strip("/"), self.config.optin)


#: Members per import request; addresses per read-back request (kept short for proxies' URL
#: limits: nginx refuses request lines over 8 KB by default).
BATCH, READ_BACK = 1000, 100
IMPORT_WAIT = 600.0


class ListmonkTarget(Target):
    capabilities = Capabilities(default_jobs=4, max_jobs=8, batch_size=BATCH)

    def __init__(self, url: str, user: str, token: str, list_name: str, optin: str) -> None:
        self.url, self.list_name, self.optin = url, list_name, optin
        self.http = web.session(8)
        self.http.headers["Authorization"] = f"token {user}:{token}"
        self._list_id: int | None = None
        self._list_lock = threading.Lock()
        self._import_lock = threading.Lock()
        self.requests = 0

    # -- HTTP -----------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        self.requests += 1
        response = web.request(self.http, method, self.url + path, SERVICE, **kwargs)
        if response.status_code == 200:
            return response.json()["data"]
        transient = web.transient_or_none(response, SERVICE)
        if transient is not None:
            raise transient
        if response.status_code in (401, 403):
            raise web.refused(SERVICE, _(RENEW))
        message = _message(response)
        if response.status_code == 409:
            raise _Exists(message)
        raise SkipItem(_("listmonk refused it (HTTP {code}): {message}").format(
            code=response.status_code, message=message))

    def get_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return web.with_retries(lambda: self.call("GET", path, params={
            **params, "per_page": "all"})["results"])

    # -- the list -------------------------------------------------------------------------

    def find_list(self) -> int | None:
        if self._list_id is None:
            found = [r for r in self.get_all("/api/lists", query=self.list_name)
                     if r["name"] == self.list_name]
            self._list_id = found[0]["id"] if found else None
        return self._list_id

    def ensure_list(self) -> int:
        with self._list_lock:
            if self.find_list() is None:
                created = self.call("POST", "/api/lists", json={
                    "name": self.list_name, "type": "private", "optin": self.optin,
                    "description": _("Imported by Transhumance")})
                self._list_id = int(created["id"])
            return int(self._list_id)  # type: ignore[arg-type]

    # -- listing --------------------------------------------------------------------------

    def list_entries(self) -> list[TargetEntry]:
        list_id = self.find_list()
        return [entry for record in self.get_all("/api/subscribers")
                if (entry := self._entry(record, list_id)) is not None]

    def _entry(self, record: dict[str, Any], list_id: int | None) -> TargetEntry | None:
        """A subscriber in scope (on our list, or blocklisted) with what we wrote, if we did."""
        on_list = next((r["subscription_status"] for r in record.get("lists", [])
                        if r["id"] == list_id), None)
        blocked = record["status"] == "blocklisted"
        if on_list is None and not blocked:
            return None
        ours = (record.get("attribs") or {}).get(MARK) or {}
        state = "blocked" if blocked else on_list
        etag = f"{ours.get('fp', 'foreign')}|{state}"
        checksum = SUPPRESSED_CHECKSUM if state in ("blocked", "unsubscribed") else MEMBER_CHECKSUM
        return TargetEntry(_identity(record["email"]), ItemKind.MEMBER,
                           Fingerprint(etag=etag, checksum=checksum),
                           {"id": record["id"], "state": state})

    def name_for(self, item: SourceItem) -> TargetName:
        # What listmonk's own checks refuse is said in the plan (connectors/mailing/refusals.py).
        return TargetName(item.key, refusal=listmonk_refusal(member_of(item).email))

    # -- writing --------------------------------------------------------------------------

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        member = member_of(change.item)
        refused = listmonk_refusal(member.email)
        if refused:  # a saved plan made before the rule: never sent
            raise SkipItem(refused)
        suppressed = is_suppressed(change.item)
        body = {"email": member.email, "name": member.name,
                "attribs": _attributes(change.item, idempotency_key)}
        if suppressed:
            body |= {"status": "blocklisted", "lists": []}
        else:
            body |= {"status": "enabled", "lists": [self.ensure_list()],
                     "preconfirm_subscriptions": is_documented(change.item)}
        try:
            record = self.call("POST", "/api/subscribers", json=body)
        except _Exists:
            record = self._existing(change.item)
            record = self._adjust(record, change.item, suppressed)
        return self._written(change, record)

    def _existing(self, item: SourceItem) -> dict[str, Any]:
        address = _address(item)
        found = self.get_all("/api/subscribers",
                             query=f"LOWER(subscribers.email) = '{address}'")
        if not found:
            raise SkipItem(_("listmonk says the address exists but cannot find it"))
        return found[0]

    def _adjust(self, record: dict[str, Any], item: SourceItem,
                suppressed: bool) -> dict[str, Any]:
        """An existing subscriber: blocklist it, or add it to the list where it has no row."""
        if record["status"] == "blocklisted":
            return record  # never un-blocklisted by a migration
        if suppressed:
            self.call("PUT", f"/api/subscribers/{record['id']}/blocklist")
        else:
            list_id = self.ensure_list()
            if not any(r["id"] == list_id for r in record.get("lists", [])):
                status = "confirmed" if is_documented(item) else "unconfirmed"
                self.call("PUT", "/api/subscribers/lists", json={
                    "ids": [record["id"]], "action": "add", "target_list_ids": [list_id],
                    "status": status})
        return self.call("GET", f"/api/subscribers/{record['id']}")  # type: ignore[no-any-return]

    def _written(self, change: Change, record: dict[str, Any]) -> TargetEntry:
        entry = self._entry(record, self._list_id)
        if entry is None:
            raise SkipItem(_("listmonk did not keep the subscription"))
        return entry

    # -- writing in bulk (the CSV import) -------------------------------------------------

    def write_batch(self, changes: Sequence[Change], source: Source,
                    keys: Sequence[str]) -> list[TargetEntry | Exception]:
        classes: dict[str, list[int]] = {"blocklist": [], "confirmed": [], "unconfirmed": []}
        for index, change in enumerate(changes):
            kind = ("blocklist" if is_suppressed(change.item) else
                    "confirmed" if is_documented(change.item) else "unconfirmed")
            classes[kind].append(index)
        for kind, indexes in classes.items():  # suppressions first
            if indexes:
                self._import(kind, [(changes[i].item, keys[i]) for i in indexes])
        found = self._read_back([member_of(c.item).email for c in changes])
        return [self._imported(change, found) for change in changes]

    def _import(self, kind: str, members: list[tuple[SourceItem, str]]) -> None:
        """One import session; returns once listmonk says it is finished."""
        text = io.StringIO()
        rows = csv.writer(text, lineterminator="\n")
        rows.writerow(["email", "name", "attributes"])
        for item, key in members:
            member = member_of(item)
            rows.writerow([member.email.strip(), member.name,
                           json.dumps(_attributes(item, key), ensure_ascii=False)])
        params: dict[str, Any] = {"mode": "blocklist", "delim": ",", "overwrite": False}
        if kind != "blocklist":  # never overwrite: existing statuses are never reset
            params |= {"mode": "subscribe", "subscription_status": kind,
                       "lists": [self.ensure_list()]}
        with self._import_lock:
            self._until_idle()
            self.call("POST", "/api/import/subscribers", data={"params": json.dumps(params)},
                      files={"file": ("transhumance.csv", text.getvalue().encode("utf-8"),
                                      "text/csv")})
            status = self._until_idle()
            self.call("DELETE", "/api/import/subscribers")
        if status != "finished":
            raise TransientError(_("listmonk's import stopped ({status}); trying again").format(
                status=status))

    def _until_idle(self) -> str:
        """Poll the import until none is running (ours, or someone's in the admin)."""
        pause, deadline = 0.02, time.monotonic() + IMPORT_WAIT
        while True:
            status = str(web.with_retries(
                lambda: self.call("GET", "/api/import/subscribers"))["status"])
            if status != "importing":
                return status
            if time.monotonic() > deadline:
                raise TransientError(_("an import is still running in listmonk"),
                                     retry_after=60)
            time.sleep(pause)
            pause = min(pause * 1.5, 0.5)

    def _read_back(self, emails: list[str]) -> dict[str, dict[str, Any]]:
        """Subscribers by lowercased address, 100 addresses a request."""
        found: dict[str, dict[str, Any]] = {}
        wanted = sorted({email.strip().lower() for email in emails})
        for start in range(0, len(wanted), READ_BACK):
            chunk = ", ".join("'" + e.replace("'", "''") + "'"
                              for e in wanted[start:start + READ_BACK])
            for record in self.get_all("/api/subscribers",
                                       query=f"LOWER(subscribers.email) IN ({chunk})"):
                found[record["email"].lower()] = record
        return found

    def _imported(self, change: Change, found: dict[str, dict[str, Any]]
                  ) -> TargetEntry | Exception:
        record = found.get(member_of(change.item).email.strip().lower())
        entry = self._entry(record, self._list_id) if record else None
        if entry is None:
            return SkipItem(_("listmonk did not import it (its import log says why: Admin › "
                              "Subscribers › Import)"))
        if is_suppressed(change.item) and entry.ref["state"] != "blocked":
            return TransientError(_("listmonk has not blocklisted it yet; trying again"))
        return entry

    def verify(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry | None:
        address = _address(change.item)
        found = self.get_all("/api/subscribers",
                             query=f"LOWER(subscribers.email) = '{address}'")
        if not found:
            return None
        entry = self._entry(found[0], self.find_list())
        if entry is None:
            return None
        if is_suppressed(change.item) and entry.ref["state"] != "blocked":
            return None
        return entry

    def close(self) -> None:
        self.http.close()


def _identity(address: str) -> str:
    """The name the diff matches on: the same identity as the source's key (IDN in punycode)."""
    try:
        return address_key(address)
    except InvalidAddressError:
        return address.strip().lower()


class _Exists(Exception):
    """409: the address is already a subscriber (perhaps a case variant, or our own retry)."""


def _address(item: SourceItem) -> str:
    """The member's address as a quoted SQL string's content, for listmonk's `query`."""
    return member_of(item).email.strip().lower().replace("'", "''")


def _attributes(item: SourceItem, key: str) -> dict[str, Any]:
    member = member_of(item)
    optional = {"vip": member.vip, "last_changed": member.last_changed}
    return {"fields": member.fields, "tags": member.tags, "consent": member.consent,
            "language": member.language, "source_status": member.source_status,
            "origin": member.origin,
            **{k: value for k, value in optional.items() if value not in (None, "")},
            MARK: {"fp": item.fingerprint.etag, "key": key[:16]}}


def _message(response: Any) -> str:
    try:
        return str(response.json().get("message", ""))
    except ValueError:
        return response.reason or ""

