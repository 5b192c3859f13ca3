"""`webdav`: a folder on any WebDAV server (Apache mod_dav, nginx, rclone serve, a NAS).

The `url` is the DAV folder itself; the location after the colon is a folder inside it.
Shares the code of `nextcloud` (`connectors/dav/`) without Nextcloud's additions: no chunking,
no checksums, no kept modification times (most servers refuse to set `getlastmodified`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.dav.account import DEFAULT_JOBS, DavAccountOptions, DavStepOptions
from connectors.dav.collisions import NameFolding
from connectors.dav.http import DavHttp
from connectors.dav.listing import read_quota
from connectors.dav.names import NameRules
from connectors.dav.profile import ProfileStore
from connectors.dav.settings import DavSettings
from connectors.dav.target import DavTarget
from connectors.dav.verification import parse_read_back
from migrate.connector import Capabilities, Connector, StepContext
from migrate.errors import MigrateError
from migrate.i18n import _
from migrate.options import option

WEBDAV_HELP = ("Check the user name and password given for this server in the plan, then run "
               "'migrate apply' again.")


@dataclass(frozen=True, kw_only=True)
class WebdavOptions(DavAccountOptions):
    url: str = option("url", required=True,
                      help="The WebDAV folder's address, e.g. https://nas.example.org/dav/")
    temporary_names: bool | None = option(
        "boolean",
        help="Upload each file under a temporary name and rename it into place, so a cut "
             "upload never shows as a partial file. Left out, Transhumance asks the "
             "server once and does it only where the server does not already (Apache "
             "mod_dav writes every upload to a temporary file itself): one request per "
             "file saved there.")
    case_insensitive: bool = option(
        "boolean", default=False,
        help="Set to true for a server that keeps its files on a Windows or macOS disk, "
             "where 'Budget.ods' and 'budget.ods' are one file: names differing only by "
             "case are then told apart (one is numbered) instead of overwriting each "
             "other.")


class WebdavConnector(Connector):
    name = "webdav"
    summary = "A folder on any WebDAV server."
    Options = WebdavOptions
    config: WebdavOptions
    label = "WebDAV"
    target_actions = ("copy",)
    TargetStepOptions = DavStepOptions

    def open_target(self, location: str, step: StepContext) -> DavTarget:
        options: DavStepOptions = self.target_options(step)
        http = DavHttp(self.config.url, self.config.user, self.config.password,
                       4 * DEFAULT_JOBS, _(WEBDAV_HELP), self.config.verify_tls)
        # RFC 4331's quota properties, where the server gives them: a file larger than the
        # free space is then said in the plan (docs/decisions/0621).
        http.quota = lambda: read_quota(http)
        # Names differing only in their Unicode form (NFC/NFD) are kept apart on every server:
        # some store them as sent, others (macOS, Nextcloud) make them one name.
        folding = NameFolding(unicode=True, case=self.config.case_insensitive)
        rules = rules_behind(http, self.config.url)
        settings = DavSettings(rules=rules,
                               temporary_names=self.config.temporary_names,
                               profiles=ProfileStore(step.state_dir), folding=folding,
                               read_back=parse_read_back(options.read_back))
        # Its listing uses its own connections and `prepare_names` only the items, so the
        # source may be listed meanwhile; worth it only while the answers travel a network
        # (docs/decisions/0486).
        capabilities = Capabilities(default_jobs=DEFAULT_JOBS,
                                    lists_beside_source=not on_this_computer(self.config.url))
        return DavTarget(http, location, settings, capabilities)


def on_this_computer(url: str) -> bool:
    """Whether the server answers on this computer's loopback (`localhost`, 127.0.0.0/8,
    `::1`). Its answers then come back in well under a millisecond: the listing is the
    walkers' Python, which a source listed meanwhile only slows, holding the same interpreter
    lock (measured in decision 0486). Over a network the walkers mostly wait."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def rules_behind(http: DavHttp, url: str) -> NameRules:
    """The names the server refuses, when its address says which server it is.

    A Nextcloud or ownCloud DAV address (`…/remote.php/dav/files/…`, `…/remote.php/webdav/`)
    is one: its capabilities list the names it refuses (`.htaccess`, `.part`…), so the plan
    renames them as the `nextcloud` target does, rather than the server refusing them at apply.
    Any other server announces no such rules over WebDAV: only what no file system accepts."""
    base, marker, _rest = url.partition("/remote.php/")
    if not marker:
        return NameRules.plain_webdav()
    try:
        response = http.request("GET", f"{base}/ocs/v2.php/cloud/capabilities", base,
                                params={"format": "json"}, ok=(404,),
                                headers={"OCS-APIRequest": "true", "Accept": "application/json"})
        files = response.json()["ocs"]["data"]["capabilities"]["files"]
    except (MigrateError, ValueError, KeyError, TypeError):
        return NameRules.plain_webdav()  # not what it looked like: the generic rules
    return NameRules.from_capabilities(files) if isinstance(files, dict) else \
        NameRules.plain_webdav()
