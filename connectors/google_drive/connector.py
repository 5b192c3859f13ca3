"""`google_drive`: a Google Drive (My Drive, shared drives, files shared with the account) as a
source, read with google-api-python-client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from connectors.google_drive.auth import build_credentials
from connectors.google_drive.auth import login as installed_app_login
from connectors.google_drive.client import DriveClient
from connectors.google_drive.listing import Scope
from connectors.google_drive.offer import OFFER
from connectors.google_drive.options import GoogleDriveOptions, GoogleDriveStepOptions
from connectors.google_drive.source import GoogleDriveSource
from migrate.connector import Connector, StepContext
from migrate.errors import PlanError
from migrate.i18n import _


class GoogleDriveConnector(Connector):
    name = "google_drive"
    init_offers = (OFFER,)
    summary = "Google Drive: My Drive, shared drives and files shared with the account."
    Options = GoogleDriveOptions
    config: GoogleDriveOptions
    label = "Google Drive"
    source_actions = ("copy",)
    SourceStepOptions = GoogleDriveStepOptions

    def login_file(self) -> Path:
        """Where 'migrate login' keeps this connection's refresh token (mode 0600)."""
        from migrate.cli.login import login_file

        return login_file(self.base_dir, self.connection or self.name)

    def open_source(self, location: str, step: StepContext) -> GoogleDriveSource:
        credentials = build_credentials(self.config, self.base_dir, self.login_file(),
                                        self.connection)
        client = DriveClient(credentials, self.config.api_endpoint)
        return GoogleDriveSource(client, scope_for(location, step, self.source_options(step)),
                                 self.connection, step)

    def login(self, store: Path, ask: Callable[[str], str], say: Callable[[str], None]) -> None:
        installed_app_login(self.config, store, ask, say)


def scope_for(location: str, step: StepContext, options: GoogleDriveStepOptions) -> Scope:
    drives = options.shared_drives
    if drives is None or drives is False:
        drives = ()
    elif drives != "all":
        if not isinstance(drives, list) or not all(isinstance(d, str) for d in drives):
            raise PlanError(_("step '{id}': 'shared_drives' must be a list of shared drive "
                              "names, or all").format(id=step.step_id))
        drives = tuple(drives)
    # `sharing` is the target's option (nextcloud): permissions are not even read when it
    # says they are ignored.
    return Scope(location=location, shared_with_me=options.shared_with_me,
                 shared_drives=drives, google_docs=options.google_docs,
                 shortcuts=options.shortcuts, unsupported=options.unsupported,
                 fetch_permissions=step.options.get("sharing") != "ignore",
                 acknowledge_abuse=options.acknowledge_abuse)
