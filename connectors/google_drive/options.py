"""The options of `google_drive`: its connection's and a step's (read by auth.py and
connector.py, hence a module of their own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrate.options import option


@dataclass(frozen=True, kw_only=True)
class GoogleDriveOptions:
    credentials: str | None = option(
        secret=True, multiline=True,
        help="A service-account key (JSON), usually \"${file:google-key.json}\", or the "
             "path of one. Leave it out to use the account saved by 'migrate login'.")
    subject: str | None = option(
        help="With a service account and domain-wide delegation: the Workspace user to act "
             "as (e.g. comm@asso.org).")
    client_id: str | None = option(
        help="For 'migrate login': the OAuth client id (a 'Desktop app' client of your "
             "Google Cloud project).")
    client_secret: str | None = option(
        secret=True, help="For 'migrate login': the OAuth client secret, e.g. "
                          "\"${env:GOOGLE_CLIENT_SECRET}\".")
    api_endpoint: str | None = option(
        help="Another Drive API address (the local sandbox, tests); default: Google's.")
    token_uri: str | None = option(
        help="Another token address (the local sandbox, tests); default: the one in the key "
             "file, else Google's.")
    auth_uri: str | None = option(help="Another consent page for 'migrate login' (tests).")


@dataclass(frozen=True, kw_only=True)
class GoogleDriveStepOptions:
    google_docs: str = option(
        choices=("odf", "ooxml", "pdf"), default="odf",
        help="What Google Docs, Sheets and Slides become: OpenDocument (.odt, .ods, "
             ".odp; default), Microsoft Office (.docx, .xlsx, .pptx) or PDF. Drawings "
             "always become PDF.")
    shared_with_me: bool = option(
        "boolean", default=False,
        help="Also copy files others shared with this account, under 'Shared with me/'.")
    shared_drives: Any = option(
        "any",
        help="Also copy shared drives, under 'Shared drives/<name>/': a list of their "
             "names, or 'all'.")
    shortcuts: str = option(
        choices=("follow", "link", "skip"), default="follow",
        help="Drive shortcuts: copy what they point to when it is not copied anyway "
             "(follow), write a .url link file (link), or leave them out (skip).")
    unsupported: str = option(
        choices=("skip", "link"), default="skip",
        help="Google Forms, Sites, My Maps…, which have no file equivalent: list them "
             "as skipped (default) or write a .url link file to each.")
    acknowledge_abuse: bool = option(
        "boolean", default=False,
        help="Files Google flagged as malware or spam are not downloadable unless their "
             "owner acknowledges the risk: true copies those this account owns (check "
             "them first); by default they are skipped, with the reason.")
