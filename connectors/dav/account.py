"""What `nextcloud` and `webdav` share of their options, apart from either connector, so that a
plan using one does not load the other (`webdav` does not need Nextcloud's group folders,
chunked uploads or `migrate init` offer; their import is a tenth of a re-run's start-up)."""

from __future__ import annotations

from dataclasses import dataclass

from migrate.options import option

DEFAULT_JOBS = 8


@dataclass(frozen=True, kw_only=True)
class DavAccountOptions:
    """The connection options `nextcloud` and `webdav` share (webdav words `url` its way)."""

    url: str = option("url", required=True,
                      help="The server's address, e.g. https://cloud.example.org")
    user: str = option(required=True, help="The account's user name (login).")
    password: str = option(required=True, secret=True,
                           help="An app password created for this migration, usually "
                                "${env:NEXTCLOUD_PASSWORD}.")
    verify_tls: bool = option("boolean", default=True,
                              help="Check the server's HTTPS certificate (turn off only for a "
                                   "test server).")


@dataclass(frozen=True, kw_only=True)
class DavStepOptions:
    """The step options of every WebDAV target."""

    read_back: str = option(
        default="none",
        help="Download files again after upload and compare them with the source byte for "
             "byte: 'all', or a number of files chosen at random (e.g. 20), or 'none'. Without "
             "it only sizes are checked: Nextcloud keeps the checksum it is sent without "
             "checking it.")
