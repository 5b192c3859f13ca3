"""`google_drive`: a Google Drive (My Drive, shared drives, files shared with the account) as a
source, read with google-api-python-client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from connectors.google_drive.auth import build_credentials
from connectors.google_drive.auth import login as installed_app_login
from connectors.google_drive.client import DriveClient
from connectors.google_drive.listing import Scope
from connectors.google_drive.source import GoogleDriveSource
from migrate.connector import Connector, StepContext
from migrate.errors import PlanError
from migrate.i18n import _
from migrate.options import Option, OptionSet


class GoogleDriveConnector(Connector):
    name = "google_drive"
    summary = "Google Drive: My Drive, shared drives and files shared with the account."
    label = "Google Drive"
    options = OptionSet((
        Option("credentials", secret=True, multiline=True,
               help="A service-account key (JSON), usually \"${file:google-key.json}\", or the "
                    "path of one. Leave it out to use the account saved by 'migrate login'."),
        Option("subject", help="With a service account and domain-wide delegation: the "
                               "Workspace user to act as (e.g. comm@asso.org)."),
        Option("client_id", help="For 'migrate login': the OAuth client id (a 'Desktop app' "
                                 "client of your Google Cloud project)."),
        Option("client_secret", secret=True, help="For 'migrate login': the OAuth client "
                                                  "secret, e.g. \"${env:GOOGLE_CLIENT_SECRET}\"."),
        Option("api_endpoint", help="Another Drive API address (the local sandbox, tests); "
                                    "default: Google's."),
        Option("token_uri", help="Another token address (the local sandbox, tests); default: "
                                 "the one in the key file, else Google's."),
        Option("auth_uri", help="Another consent page for 'migrate login' (tests)."),
    ))
    source_actions = ("copy",)
    source_step_options = OptionSet((
        Option("google_docs", choices=("odf", "ooxml", "pdf"), default="odf",
               help="What Google Docs, Sheets and Slides become: OpenDocument (.odt, .ods, "
                    ".odp; default), Microsoft Office (.docx, .xlsx, .pptx) or PDF. Drawings "
                    "always become PDF."),
        Option("shared_with_me", "boolean", default=False,
               help="Also copy files others shared with this account, under 'Shared with me/'."),
        Option("shared_drives", "any",
               help="Also copy shared drives, under 'Shared drives/<name>/': a list of their "
                    "names, or 'all'."),
        Option("shortcuts", choices=("follow", "link", "skip"), default="follow",
               help="Drive shortcuts: copy what they point to when it is not copied anyway "
                    "(follow), write a .url link file (link), or leave them out (skip)."),
        Option("unsupported", choices=("skip", "link"), default="skip",
               help="Google Forms, Sites, My Maps…, which have no file equivalent: list them "
                    "as skipped (default) or write a .url link file to each."),
        Option("acknowledge_abuse", "boolean", default=False,
               help="Files Google flagged as malware or spam are not downloadable unless their "
                    "owner acknowledges the risk: true copies those this account owns (check "
                    "them first); by default they are skipped, with the reason."),
    ))

    def login_file(self) -> Path:
        """Where 'migrate login' keeps this connection's refresh token (mode 0600)."""
        from migrate.login import login_file

        return login_file(self.base_dir, self.connection or self.name)

    def open_source(self, location: str, step: StepContext) -> GoogleDriveSource:
        credentials = build_credentials(self.config, self.base_dir, self.login_file(),
                                        self.connection)
        client = DriveClient(credentials, self.config.get("api_endpoint"))
        return GoogleDriveSource(client, scope_for(location, step), self.connection, step)

    def login(self, store: Path, ask: Callable[[str], str], say: Callable[[str], None]) -> None:
        installed_app_login(self.config, store, ask, say)


def scope_for(location: str, step: StepContext) -> Scope:
    options = step.options
    drives = options.get("shared_drives")
    if drives is None or drives is False:
        drives = ()
    elif drives != "all":
        if not isinstance(drives, list) or not all(isinstance(d, str) for d in drives):
            raise PlanError(_("step '{id}': 'shared_drives' must be a list of shared drive "
                              "names, or all").format(id=step.step_id))
        drives = tuple(drives)
    return Scope(location=location, shared_with_me=bool(options.get("shared_with_me")),
                 shared_drives=drives, google_docs=options.get("google_docs", "odf"),
                 shortcuts=options.get("shortcuts", "follow"),
                 unsupported=options.get("unsupported", "skip"),
                 fetch_permissions=options.get("sharing") != "ignore",
                 acknowledge_abuse=bool(options.get("acknowledge_abuse")))
