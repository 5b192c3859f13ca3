"""Drive permissions → Nextcloud shares, through the OCS share API, never guessing identities.

A source puts permissions in `FileMeta.permissions` as a list of `Grant`
(`{"type": "user"|"group"|"domain"|"anyone", "role": "reader"|"commenter"|"writer"|"owner",
"email": str|None, "domain": str|None}`, migrate/item_meta.py). The step's `identities` maps
an email to a Nextcloud user (`alice`) or group (`{group: benevoles}`). Mapped permissions
become user (0), group (1) or read-only public link (3) shares; everything else is a note in
the plan and the report.
A grant may carry `expires` (RFC 3339, Drive's temporary access): the share gets that expiry
date, and a grant already expired is not shared. Grants marked `inherited` (a shared drive's
memberships below its top level) are shared once, on the top items, not again on each file.
A drive `organizer` becomes an editor, with a note (Nextcloud has no drive managers).
`FileMeta.sharing_unread` says why a source could not read an item's sharing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.dav.http import DavHttp
from migrate.errors import ConnectorError
from migrate.i18n import _, to_do
from migrate.item_meta import FileMeta

USER, GROUP, LINK = 0, 1, 3
READ = 1
#: Drive writers may edit and, by default (`writersCanShare`), reshare: read, update,
#: create, delete, share. Nextcloud drops create/delete on files by itself.
EDIT = 1 | 2 | 4 | 8 | 16
SHARES_API = "ocs/v2.php/apps/files_sharing/api/v1/shares"
SHAREES_API = "ocs/v2.php/apps/files_sharing/api/v1/sharees"
#: Whether a recipient (USER or GROUP, name) exists on the server.
Known = Callable[[int, str], bool]


@dataclass(frozen=True)
class Share:
    """One share to have on a path: type, recipient (None for links), permission bits."""

    share_type: int
    share_with: str | None
    permissions: int
    #: YYYY-MM-DD, Nextcloud's `expireDate`; None for a share that does not expire.
    expire_date: str | None = None

    def describe(self) -> str:
        level = _("can edit") if self.permissions & 2 else _("can read")
        if self.share_type == LINK:
            return _("share: public link, read only")
        kind = _("group") if self.share_type == GROUP else _("user")
        text = _("share: {kind} {name} {level}").format(kind=kind, name=self.share_with,
                                                        level=level)
        if self.expire_date:
            text += _(", until {date}").format(date=self.expire_date)
        return text


def _expiry(permission: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(the expiry date, whether the grant has expired already)."""
    stamp = permission.get("expires")
    if not stamp:
        return None, False
    moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return moment.astimezone(UTC).date().isoformat(), moment <= datetime.now(UTC)


def identity_of(identities: Mapping[str, Any], email: str | None) -> tuple[int, str] | None:
    """(USER or GROUP, Nextcloud name) that `identities` (casefolded keys) maps `email` to."""
    if not email:
        return None
    mapped = identities.get(email.casefold())
    if isinstance(mapped, str):
        return USER, mapped
    if isinstance(mapped, Mapping):
        if "group" in mapped:
            return GROUP, str(mapped["group"])
        if "user" in mapped:
            return USER, str(mapped["user"])
    return None


def plan_shares(permissions: list[Mapping[str, Any]], identities: Mapping[str, Any],
                known: Known | None = None) -> tuple[list[Share], list[str]]:
    """(shares to create, notes on what cannot be recreated), deterministic and in order.
    `known` (the server's sharee search) leaves out recipients the server does not have."""
    identities = {str(k).casefold(): v for k, v in identities.items()}
    shares: dict[tuple[int, str | None], Share] = {}
    notes: list[str] = []
    for permission in permissions:
        role, kind = permission.get("role"), permission.get("type")
        if role == "owner" or permission.get("inherited"):
            continue
        expire_date, expired = _expiry(permission)
        if expired:
            notes.append(_("not shared: the access of {who} ({role}) ended on {date}").format(
                who=permission.get("email") or kind, role=role, date=expire_date))
            continue
        bits = EDIT if role in ("writer", "organizer", "fileOrganizer") else READ
        if kind == "anyone":
            shares[(LINK, None)] = Share(LINK, None, READ)
            if role == "writer":
                notes.append(to_do(_("not kept: anyone with the link could edit; the public "
                                     "link is read only")))
            continue
        if kind == "domain":
            notes.append(to_do(_("not shared: everyone at {domain} ({role}) — Nextcloud has "
                                 "no sharing by domain; share with a group instead").format(
                                     domain=permission.get("domain"), role=_(str(role)))))
            continue
        found = identity_of(identities, permission.get("email"))
        if found is None:
            notes.append(to_do(_("not shared: {who} ({role}) has no match in "
                                 "'identities'").format(who=permission.get("email") or kind,
                                                        role=_(str(role)))))
            continue
        if known is not None and not known(*found):
            message = (_("not shared: {who} ({role}) is mapped to the group '{name}', which "
                         "does not exist on the server; check 'identities'")
                       if found[0] == GROUP else
                       _("not shared: {who} ({role}) is mapped to '{name}', which is not an "
                         "account on the server; check 'identities'"))
            notes.append(message.format(who=permission.get("email"), role=role, name=found[1]))
            continue
        if role == "organizer":
            notes.append(_("{who} manages the shared drive (organizer); Nextcloud has no such "
                           "role, so they can edit").format(who=permission.get("email") or kind))
        previous = shares.get(found)
        if previous is None or bits > previous.permissions:
            shares[found] = Share(found[0], found[1], bits, expire_date)
    return list(shares.values()), notes


def share_notes(data: FileMeta | None, mode: str, identities: Mapping[str, Any],
                known: Known | None = None) -> tuple[str, ...]:
    """The notes `name_for` returns for an item: planned shares and what stays unshared."""
    if data is None:
        return ()
    permissions = data.permissions
    unread = () if mode == "ignore" or not data.sharing_unread else (
        _("sharing not read: {why}").format(why=data.sharing_unread),)
    if mode == "ignore" or not permissions:
        return unread
    if mode == "report":
        return tuple(to_do(_("Drive share not recreated (sharing: report): {who}, {role}").format(
            who=p.get("email") or p.get("domain") or p.get("type"), role=_(str(p.get("role")))))
            for p in permissions if p.get("role") != "owner" and not p.get("inherited"))
    shares, notes = plan_shares(permissions, identities, known)
    return (*(share.describe() for share in shares), *notes, *unread)


class ShareApi:
    """Idempotent share creation for paths in the user's files (relative to their root)."""

    def __init__(self, http: DavHttp, server_url: str) -> None:
        self.http = http
        self.url = server_url.rstrip("/") + "/" + SHARES_API
        self.sharees_url = server_url.rstrip("/") + "/" + SHAREES_API
        self.headers = {"OCS-APIRequest": "true", "Accept": "application/json"}
        self._known: dict[tuple[int, str], bool] = {}
        self._known_lock = threading.Lock()

    def exists(self, share_type: int, name: str) -> bool:
        """Whether the server has this user or group, asked once per name through the sharee
        search the share dialog uses (`ShareesAPIController::search`, an exact match). When
        the server cannot say (an old server, sharing restricted), assume it does."""
        with self._known_lock:
            if (share_type, name) in self._known:
                return self._known[(share_type, name)]
        response = self.http.request(
            "GET", self.sharees_url, name, ok=(400, 403, 404), headers=self.headers,
            params={"format": "json", "search": name, "itemType": "file", "perPage": 50,
                    "lookup": "false", "shareType[]": share_type})
        found = True
        if response.status_code < 300:
            data = (response.json().get("ocs") or {}).get("data") or {}
            exact = (data.get("exact") or {}).get("groups" if share_type == GROUP else "users")
            found = any(str((e.get("value") or {}).get("shareWith", "")).casefold()
                        == name.casefold() for e in exact or [])
        with self._known_lock:
            self._known[(share_type, name)] = found
        return found

    def _call(self, method: str, what: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.url, what, ok=(400, 403, 404),
                                     headers=self.headers, **kwargs)
        body = response.json() if response.content else {}
        if response.status_code >= 300:
            message = body.get("ocs", {}).get("meta", {}).get("message") or response.reason
            raise ConnectorError(_("{what} was copied but could not be shared: {message}")
                                 .format(what=what, message=message))
        return body.get("ocs", {}).get("data")

    def ensure(self, path: str, wanted: list[Share], what: str) -> None:
        """Create the shares of `wanted` that `path` does not have yet; fix permissions."""
        if not wanted:
            return
        path = "/" + path.strip("/")
        existing = self._call("GET", what, params={"path": path, "reshares": "false"}) or []
        have = {(int(s["share_type"]), s.get("share_with") if int(s["share_type"]) != LINK
                 else None): s for s in existing}
        for share in wanted:
            current = have.get((share.share_type, share.share_with))
            if current is None:
                data = {"path": path, "shareType": share.share_type,
                        "permissions": share.permissions}
                if share.share_with is not None:
                    data["shareWith"] = share.share_with
                if share.expire_date:
                    data["expireDate"] = share.expire_date
                self._call("POST", what, data=data)
            elif share.share_type != LINK and not _has(current, share.permissions):
                self._update(current, share, what)

    def _update(self, current: Mapping[str, Any], share: Share, what: str) -> None:
        response = self.http.request("PUT", f"{self.url}/{current['id']}", what,
                                     ok=(400, 404), headers=self.headers,
                                     data={"permissions": share.permissions})
        if response.status_code >= 300:
            raise ConnectorError(_("{what} was copied but its share could not be updated")
                                 .format(what=what))


def _has(current: Mapping[str, Any], wanted: int) -> bool:
    """Whether an existing share already grants `wanted` (files never hold create/delete)."""
    if current.get("item_type") == "file":
        wanted &= ~(4 | 8)
    return int(current["permissions"]) & wanted == wanted
