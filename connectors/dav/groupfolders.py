"""Shared drives → Nextcloud group folders: where each drive lands, for whom, and the app's API.

A source item is in a shared drive when its first levels are `Shared drives/<name>`
(`FileMeta.segment_keys[0] == "path:Shared drives"`, see docs/decisions/0420-drive-levels.md).
The drive's members are the grants marked `space_member` in `FileMeta.permissions` (every item
of a drive carries them, so one item is enough to place its whole drive). Groups come from
`shared_drive_groups` when the plan names the drive there, otherwise from the members that
`identities` maps to a group; members mapped to a user, or not mapped, are reported, never
guessed. A drive with no group stays in the account's files. See docs/decisions/0430.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.dav.http import DavHttp
from connectors.dav.names import NameRules, encode_segment
from connectors.dav.sharing import GROUP, identity_of
from migrate.errors import ConnectorError
from migrate.i18n import _
from migrate.item_meta import NO_FILE_META
from migrate.model import SourceItem

SHARED_DRIVES_KEY = "path:Shared drives"
#: Where the app answers (its appinfo/routes.php, stable31–34 and master: plain routes under
#: index.php, also reachable on ocs/v1.php; ocs/v2.php answers 404). See docs/decisions/0440.
FOLDERS_API = "index.php/apps/groupfolders/folders"
#: Group folder permission bits (as OCS shares): read 1, update 2, create 4, delete 8, share 16.
READ, ALL = 1, 31
WRITE = 2 | 4
ROLE_BITS = {"organizer": ALL, "owner": ALL, "fileOrganizer": ALL, "writer": ALL,
             "commenter": READ, "reader": READ}
ADMIN_GROUP = "admin"


def drive_name(item: SourceItem) -> str | None:
    """The raw name of the shared drive `item` is inside, or None."""
    data = item.data or NO_FILE_META
    keys, segments = data.segment_keys or [], data.segments or []
    if len(keys) >= 3 and len(segments) == len(keys) and keys[0] == SHARED_DRIVES_KEY:
        return str(segments[1])
    return None


@dataclass(frozen=True)
class Placement:
    """Where one shared drive lands: its group folder's mount point, groups and bits, and the
    notes the plan shows. `groups` empty: it stays in the account's files."""

    drive: str
    mount: str
    groups: Mapping[str, int]
    notes: tuple[str, ...]
    rename_reasons: tuple[str, ...] = ()

    @property
    def is_group_folder(self) -> bool:
        return bool(self.groups)


def describe_bits(bits: int) -> str:
    return _("can edit") if bits & WRITE else _("can read")


@dataclass
class PlacementRules:
    """The step's options that decide placements, and the account's own groups."""

    explicit: Mapping[str, Any]
    identities: Mapping[str, Any]
    rules: NameRules
    user: str
    user_groups: frozenset[str]
    #: Whether drives go to group folders at all; `is_default`: nobody chose, so say why not.
    enabled: bool = True
    is_default: bool = True
    _cache: dict[str, Placement] = field(default_factory=dict)

    def placement(self, item: SourceItem) -> Placement | None:
        name = drive_name(item)
        if name is None:
            return None
        if name not in self._cache:
            self._cache[name] = self._place(name, (item.data or NO_FILE_META).permissions)
        return self._cache[name]

    def _place(self, name: str, permissions: list[Mapping[str, Any]]) -> Placement:
        mount, reasons = encode_segment(name, self.rules)
        if not self.enabled:
            notes = [_("shared drive '{name}' goes to your files under 'Shared drives/{name}': "
                       "this server has no Group folders app").format(name=name)]
            return Placement(name, mount, {}, tuple(notes) if self.is_default else ())
        if name in self.explicit:
            groups, notes = _explicit(self.explicit[name])
        else:
            groups, notes = self._derived(permissions)
        if not groups:
            notes.insert(0, _("shared drive '{name}' stays in your files under 'Shared drives/"
                              "{name}': none of its members is mapped to a Nextcloud group (map "
                              "them as {{group: …}} in 'identities', or list groups in "
                              "'shared_drive_groups')").format(name=name))
            return Placement(name, mount, {}, tuple(notes), tuple(reasons))
        listed = ", ".join(f"{g} ({describe_bits(b)})" for g, b in sorted(groups.items()))
        notes.insert(0, _("shared drive '{name}' goes to the group folder '/{mount}', for "
                          "groups: {groups}").format(name=name, mount=mount, groups=listed))
        if not any(bits & WRITE == WRITE for g, bits in groups.items() if g in self.user_groups):
            groups[ADMIN_GROUP] = ALL
            notes.append(_("'{user}' is in none of these groups, so the group '{admin}' gets "
                           "the folder too (all rights), to write the files; you may remove it "
                           "in the Group folders settings afterwards").format(
                               user=self.user, admin=ADMIN_GROUP))
        return Placement(name, mount, groups, tuple(notes), tuple(reasons))

    def _derived(self, permissions: list[Mapping[str, Any]]) -> tuple[dict[str, int], list[str]]:
        groups: dict[str, int] = {}
        notes: list[str] = []
        for grant in permissions:
            if not grant.get("space_member"):
                continue
            who, role = grant.get("email") or grant.get("type"), str(grant.get("role"))
            identities = {str(k).casefold(): v for k, v in self.identities.items()}
            found = identity_of(identities, grant.get("email"))
            if found is None:
                notes.append(_("no access to the group folder: {who} ({role}) has no match in "
                               "'identities'").format(who=who, role=role))
            elif found[0] != GROUP:
                notes.append(_("no access to the group folder: {who} ({role}) is mapped to the "
                               "user {user}; group folders are given to groups: add {user} to "
                               "one of them").format(who=who, role=role, user=found[1]))
            else:
                groups[found[1]] = groups.get(found[1], 0) | ROLE_BITS.get(role, READ)
        return groups, notes


def _explicit(wanted: Any) -> tuple[dict[str, int], list[str]]:
    """`{group: role}` from `shared_drive_groups` (role: reader, commenter, writer…)."""
    if not isinstance(wanted, Mapping):
        return {}, [_("'shared_drive_groups' gives each drive a mapping of group to role, "
                      "e.g. {{benevoles: writer}}")]
    groups, notes = {}, []
    for group, role in wanted.items():
        if str(role) not in ROLE_BITS:
            notes.append(_("unknown role '{role}' for group {group}: reader is used").format(
                role=role, group=group))
        groups[str(group)] = ROLE_BITS.get(str(role), READ)
    return groups, notes


class GroupFolderApi:
    """Creates group folders and gives them to groups, idempotently (admin rights needed)."""

    def __init__(self, http: DavHttp, server_url: str) -> None:
        self.http = http
        self.url = f"{server_url.rstrip('/')}/{FOLDERS_API}"
        self.headers = {"OCS-APIRequest": "true", "Accept": "application/json"}
        self._lock = threading.Lock()
        self._ready: set[str] = set()

    def _call(self, method: str, route: str, what: str, **data: Any) -> Any:
        response = self.http.request(method, f"{self.url}{route}", what, ok=(400, 404),
                                     headers=self.headers, params={"format": "json"},
                                     data=data or None)
        body = response.json() if response.content else {}
        meta = body.get("ocs", {}).get("meta", {}) if isinstance(body, dict) else {}
        # The v1 envelope answers HTTP 200 and says the failure in `statuscode` (100 = OK).
        if response.status_code >= 300 or meta.get("statuscode", 100) not in (100, 200):
            message = meta.get("message") or response.reason
            raise ConnectorError(_("the group folder for {what} could not be set up: "
                                   "{message}").format(what=what, message=message))
        return body.get("ocs", {}).get("data")

    def mount_points(self) -> list[str]:
        """Every group folder's mount point (for listing what they hold)."""
        found = self._call("GET", "", _("the group folders")) or {}
        return sorted(str(f["mount_point"]) for f in dict(found).values())

    def ensure(self, mount: str, groups: Mapping[str, int], what: str) -> None:
        """The folder mounted at `mount` exists and each group has exactly its bits (other
        groups are left alone). Done once per mount point per run."""
        with self._lock:
            if mount in self._ready:
                return
            folders = dict(self._call("GET", "", what) or {}).values()
            folder = next((f for f in folders if f["mount_point"] == mount), None)
            if folder is None:
                folder = self._call("POST", "", what, mountpoint=mount)
            have = dict(folder.get("groups") or {})
            for group, bits in groups.items():
                if group not in have:
                    self._call("POST", f"/{folder['id']}/groups", what, group=group)
                if have.get(group) != bits:
                    self._call("POST", f"/{folder['id']}/groups/{group}", what,
                               permissions=bits)
            self._ready.add(mount)
