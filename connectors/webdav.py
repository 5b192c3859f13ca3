"""`webdav`: a folder on any WebDAV server (Apache mod_dav, nginx, rclone serve, a NAS).

The `url` is the DAV folder itself; the location after the colon is a folder inside it.
Shares the code of `nextcloud` (`connectors/dav/`) without Nextcloud's additions: no chunking,
no checksums, no kept modification times (most servers refuse to set `getlastmodified`).
"""

from __future__ import annotations

from connectors.dav.collisions import NameFolding
from connectors.dav.http import DavHttp
from connectors.dav.names import NameRules
from connectors.dav.profile import ProfileStore
from connectors.dav.target import DavSettings, DavTarget
from connectors.dav.verification import parse_read_back
from connectors.nextcloud import CONNECTION_OPTIONS, DEFAULT_JOBS, READ_BACK
from migrate.connector import Capabilities, Connector, StepContext
from migrate.i18n import _
from migrate.options import Option, OptionSet

WEBDAV_HELP = ("Check the user name and password given for this server in the plan, then run "
               "'migrate apply' again.")


class WebdavConnector(Connector):
    name = "webdav"
    summary = "A folder on any WebDAV server."
    options = OptionSet((
        Option("url", "url", required=True,
               help="The WebDAV folder's address, e.g. https://nas.example.org/dav/"),
        *CONNECTION_OPTIONS[1:],
        Option("temporary_names", "boolean",
               help="Upload each file under a temporary name and rename it into place, so a cut "
                    "upload never shows as a partial file. Left out, Transhumance asks the "
                    "server once and does it only where the server does not already (Apache "
                    "mod_dav writes every upload to a temporary file itself): one request per "
                    "file saved there."),
        Option("case_insensitive", "boolean", default=False,
               help="Set to true for a server that keeps its files on a Windows or macOS disk, "
                    "where 'Budget.ods' and 'budget.ods' are one file: names differing only by "
                    "case are then told apart (one is numbered) instead of overwriting each "
                    "other."),
    ))
    target_actions = ("copy",)
    target_step_options = OptionSet((READ_BACK,))

    def open_target(self, location: str, step: StepContext) -> DavTarget:
        http = DavHttp(str(self.config["url"]), str(self.config["user"]),
                       str(self.config["password"]), 4 * DEFAULT_JOBS, _(WEBDAV_HELP),
                       bool(self.config.get("verify_tls", True)))
        given = self.config.get("temporary_names")
        # Names differing only in their Unicode form (NFC/NFD) are kept apart on every server:
        # some store them as sent, others (macOS, Nextcloud) make them one name.
        folding = NameFolding(unicode=True, case=bool(self.config.get("case_insensitive")))
        settings = DavSettings(rules=NameRules.plain_webdav(),
                               temporary_names=None if given is None else bool(given),
                               profiles=ProfileStore(step.state_dir), folding=folding,
                               read_back=parse_read_back(step.options.get("read_back")))
        return DavTarget(http, location, settings, Capabilities(default_jobs=DEFAULT_JOBS))
