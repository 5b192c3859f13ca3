"""`nextcloud`: the files of one Nextcloud account, as a target (WebDAV + OCS).

The location after the colon (`cloud:/Communication`) is a folder in the account's files.
The code is shared with `webdav` in `connectors/dav/`; this module adds what Nextcloud says and
does beyond WebDAV: capabilities (filename rules, chunking, sharing), chunked upload v2,
`X-OC-MTime`/`OC-Checksum` and OCS shares. See docs/decisions/0400-nextcloud-client.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from connectors.dav.account import DEFAULT_JOBS, DavAccountOptions, DavStepOptions
from connectors.dav.collisions import NameFolding
from connectors.dav.group_target import GroupFolderTarget
from connectors.dav.groupfolders import GroupFolderApi, PlacementRules
from connectors.dav.http import DavHttp
from connectors.dav.listing import read_quota
from connectors.dav.names import NameRules
from connectors.dav.nextcloud_target import CHECKSUMS
from connectors.dav.settings import MEGABYTE, DavSettings
from connectors.dav.sharing import ShareApi
from connectors.dav.verification import parse_read_back
from migrate.connector import Capabilities, Connector, StepContext
from migrate.errors import FatalError
from migrate.i18n import N_, _
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.options import option

#: Nextcloud refuses chunks under 5 MiB (all but the last).
MIN_CHUNK_MB = 5
APP_PASSWORD_HELP = (
    "Create a new app password in Nextcloud (your avatar → Personal settings → Security → "
    "'Create new app password'), put it where the plan's password comes from (for example the "
    "environment variable), then run 'migrate apply' again."
)


@dataclass(frozen=True, kw_only=True)
class NextcloudOptions(DavAccountOptions):
    chunk_threshold_mb: float = option("number", default=10,
                                       help="Files larger than this (in megabytes) are sent in "
                                            "chunks, which survive interruptions.")
    chunk_size_mb: float = option("number", default=10,
                                  help="Size of each chunk in megabytes (at least 5).")


@dataclass(frozen=True, kw_only=True)
class NextcloudStepOptions(DavStepOptions):
    sharing: str = option(
        choices=("map", "report", "ignore"), default="report",
        help="What to do with the source's sharing: 'map' recreates it as Nextcloud "
             "shares using 'identities', 'report' only lists it, 'ignore' says nothing.")
    identities: dict[str, Any] = option(
        "mapping", default={},
        help="Who is who on Nextcloud: an email to a user name ("
             "\"alice@asso.org\": alice) or to a group (\"team@asso.org\": "
             "{group: benevoles}). Anyone not listed is reported, never guessed.")
    shared_drives_to: str | None = option(
        choices=("group_folders", "files"),
        help="Where a shared drive's files go: 'group_folders' puts each one in a group "
             "folder named after it, given to the drive members' groups; 'files' puts "
             "them in this account's files under 'Shared drives/<name>'. By default: "
             "group folders when the server has the Group folders app, else files.")
    shared_drive_groups: dict[str, Any] = option(
        "mapping", default={},
        help="Which Nextcloud groups get a shared drive's group folder, and with which "
             "role: {\"Bureau\": {bureau: writer, benevoles: reader}}. Drives not "
             "listed get the groups their members are mapped to in 'identities'.")


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    password = secrets.ref("NEXTCLOUD_PASSWORD", "an app password of the Nextcloud account / "
                           "un mot de passe d'application du compte Nextcloud")
    return ("  # The Nextcloud account that receives the documents.\n"
            "  # Le compte Nextcloud qui reçoit les documents.\n"
            f"  cloud:\n    type: nextcloud\n    url: {quoted(answers['nextcloud_url'])}\n"
            f"    user: {quoted(answers['nextcloud_user'])}\n"
            f"    password: \"{password}\"\n")


#: What `migrate init` offers: a Nextcloud account receiving the documents.
INIT_OFFER = Offer(
    moves="documents", role="target", choice="nextcloud", phrase="Nextcloud",
    connection=_init_connection,
    reference=lambda answers: quoted("cloud:" + answers["nextcloud_folder"]),
    questions=(
        Question("nextcloud_url", N_("Address of the Nextcloud server"),
                 "https://cloud.example.org"),
        Question("nextcloud_user", N_("Nextcloud account that receives the documents")),
        Question("nextcloud_folder", N_("Nextcloud folder to put them in"), "/Documents"),
    ), rank=10)


class NextcloudConnector(Connector):
    name = "nextcloud"
    init_offers = (INIT_OFFER,)
    summary = "A Nextcloud account's files (WebDAV), with chunked uploads and shares."
    Options = NextcloudOptions
    config: NextcloudOptions
    label = "Nextcloud"
    target_actions = ("copy",)
    TargetStepOptions = NextcloudStepOptions

    def open_target(self, location: str, step: StepContext) -> GroupFolderTarget:
        options: NextcloudStepOptions = self.target_options(step)
        url, user = self.config.url.rstrip("/"), self.config.user
        pool = 4 * DEFAULT_JOBS
        dav_root = f"{url}/remote.php/dav/files/{quote(user, safe='')}/"
        http = DavHttp(dav_root, user, self.config.password, pool, _(APP_PASSWORD_HELP),
                       self.config.verify_tls)
        http.quota = lambda: read_quota(http)
        found = _capabilities(http, url)
        files = found.get("files", {})
        chunk = max(MIN_CHUNK_MB, float(self.config.chunk_size_mb)) * MEGABYTE
        limit = (files.get("chunked_upload") or {}).get("max_size")
        if isinstance(limit, int) and limit > 0:
            chunk = min(chunk, limit)
        sharing = found.get("files_sharing", {}).get("api_enabled", False)
        settings = DavSettings(
            rules=NameRules.from_capabilities(files),
            chunk_threshold=int(float(self.config.chunk_threshold_mb) * MEGABYTE),
            chunk_size=int(chunk),
            uploads_url=f"{url}/remote.php/dav/uploads/{quote(user, safe='')}",
            shares=ShareApi(http, url) if sharing else None,
            sharing=options.sharing, identities=dict(options.identities),
            # Nextcloud stores every name in NFC (its View normalises each path).
            folding=NameFolding(unicode=True), stores_nfc=True,
            read_back=parse_read_back(options.read_back))
        capabilities = Capabilities(preserves_mtime=True, checksum_algorithms=CHECKSUMS,
                                    can_share=bool(sharing), default_jobs=DEFAULT_JOBS)
        enabled = _uses_group_folders(options, "groupfolders" in found, url)
        rules = PlacementRules(dict(options.shared_drive_groups),
                               settings.identities, settings.rules, user,
                               frozenset(_groups_of(http, url, user) if enabled else ()),
                               enabled=enabled,
                               is_default=options.shared_drives_to is None)
        return GroupFolderTarget(http, location, settings, capabilities,
                                 GroupFolderApi(http, url), rules)


def _uses_group_folders(options: NextcloudStepOptions, available: bool, url: str) -> bool:
    """`shared_drives_to`, defaulting to what the server has; asking for group folders on a
    server without the app stops the step with what to do."""
    wanted = options.shared_drives_to
    if wanted == "group_folders" and not available:
        raise FatalError(_("{url} has no Group folders app, which 'shared_drives_to: "
                           "group_folders' needs: ask the administrator to enable it, or use "
                           "'shared_drives_to: files'").format(url=url))
    return available if wanted is None else wanted == "group_folders"


def _groups_of(http: DavHttp, url: str, user: str) -> list[str]:
    """The account's groups (an account may read its own), to know if it can write a folder."""
    response = http.request("GET", f"{url}/ocs/v2.php/cloud/users/{quote(user, safe='')}", url,
                            params={"format": "json"},
                            headers={"OCS-APIRequest": "true", "Accept": "application/json"})
    return list(response.json().get("ocs", {}).get("data", {}).get("groups") or [])


def _capabilities(http: DavHttp, url: str) -> dict[str, Any]:
    """`cloud/capabilities`; also the first authenticated call, so a bad password stops here."""
    response = http.request("GET", f"{url}/ocs/v2.php/cloud/capabilities", url,
                            params={"format": "json"}, ok=(404,),
                            headers={"OCS-APIRequest": "true", "Accept": "application/json"})
    if response.status_code == 404:
        raise FatalError(_("{url} does not look like a Nextcloud server (no capabilities "
                           "endpoint); check the address, or use type 'webdav'").format(url=url))
    data = response.json().get("ocs", {}).get("data", {})
    return dict(data.get("capabilities") or {})
