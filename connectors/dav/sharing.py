"""Drive permissions → Nextcloud shares, through the OCS share API, never guessing identities.

A source puts permissions in `item.meta["permissions"]` as a list of
`{"type": "user"|"group"|"domain"|"anyone", "role": "reader"|"commenter"|"writer"|"owner",
"email": str|None, "domain": str|None}`. The step's `identities` maps an email to a Nextcloud
user (`alice`) or group (`{group: benevoles}`). Mapped permissions become user (0), group (1)
or read-only public link (3) shares; everything else is a note in the plan and the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.dav.http import DavHttp
from migrate.errors import ConnectorError
from migrate.i18n import _, to_do

USER, GROUP, LINK = 0, 1, 3
READ = 1
#: Drive writers may edit and, by default (`writersCanShare`), reshare: read, update,
#: create, delete, share. Nextcloud drops create/delete on files by itself.
EDIT = 1 | 2 | 4 | 8 | 16
SHARES_API = "ocs/v2.php/apps/files_sharing/api/v1/shares"


@dataclass(frozen=True)
class Share:
    """One share to have on a path: type, recipient (None for links), permission bits."""

    share_type: int
    share_with: str | None
    permissions: int

    def describe(self) -> str:
        level = _("can edit") if self.permissions & 2 else _("can read")
        if self.share_type == LINK:
            return _("share: public link, read only")
        kind = _("group") if self.share_type == GROUP else _("user")
        return _("share: {kind} {name} {level}").format(kind=kind, name=self.share_with,
                                                        level=level)


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


def plan_shares(permissions: list[Mapping[str, Any]], identities: Mapping[str, Any]
                ) -> tuple[list[Share], list[str]]:
    """(shares to create, notes on what cannot be recreated), deterministic and in order."""
    identities = {str(k).casefold(): v for k, v in identities.items()}
    shares: dict[tuple[int, str | None], Share] = {}
    notes: list[str] = []
    for permission in permissions:
        role, kind = permission.get("role"), permission.get("type")
        if role == "owner":
            continue
        bits = EDIT if role == "writer" else READ
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
        previous = shares.get(found)
        if previous is None or bits > previous.permissions:
            shares[found] = Share(found[0], found[1], bits)
    return list(shares.values()), notes


def share_notes(meta: Mapping[str, Any], mode: str, identities: Mapping[str, Any]
                ) -> tuple[str, ...]:
    """The notes `name_for` returns for an item: planned shares and what stays unshared."""
    permissions = meta.get("permissions") or []
    if mode == "ignore" or not permissions:
        return ()
    if mode == "report":
        return tuple(to_do(_("Drive share not recreated (sharing: report): {who}, {role}").format(
            who=p.get("email") or p.get("domain") or p.get("type"), role=_(str(p.get("role")))))
            for p in permissions if p.get("role") != "owner")
    shares, notes = plan_shares(permissions, identities)
    return (*(share.describe() for share in shares), *notes)


class ShareApi:
    """Idempotent share creation for paths in the user's files (relative to their root)."""

    def __init__(self, http: DavHttp, server_url: str) -> None:
        self.http = http
        self.url = server_url.rstrip("/") + "/" + SHARES_API
        self.headers = {"OCS-APIRequest": "true", "Accept": "application/json"}

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
