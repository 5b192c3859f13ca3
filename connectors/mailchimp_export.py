"""`mailchimp_export`: the audience export zip downloaded from Mailchimp's web interface.

The zip holds one CSV per status, and the status is only in the file's name:
`subscribed_members_export_<id>.csv`, `unsubscribed_…`, `cleaned_…`, `nonsubscribed_…`
(contacts that never subscribed: imported nowhere). Columns: `Email Address`, `First Name`,
`Last Name`, other merge fields by their label, then Mailchimp's own (`MEMBER_RATING`,
`OPTIN_TIME`, `OPTIN_IP`, `CONFIRM_TIME`, `CONFIRM_IP`, `LATITUDE` … `LEID`, `EUID`, `NOTES`,
`TAGS` as `"VIP","Blog"`) and, in the unsubscribed and cleaned files, `UNSUB_*` / `CLEAN_*`.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.mailing.csvfiles import decode, read_rows, split_tags, unreadable
from connectors.mailing.members import MEMBER_STEP_OPTIONS, MemberCollector, MemberPolicy
from migrate import archives, printable
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.i18n import _
from migrate.options import Option, OptionSet

FILE_STATUS = re.compile(r"^(subscribed|unsubscribed|cleaned|nonsubscribed)_"
                         r"(?:members_)?export.*\.csv$", re.IGNORECASE)
STATUS_OF = {"subscribed": "subscribed", "unsubscribed": "unsubscribed", "cleaned": "cleaned",
             "nonsubscribed": "transactional"}
CONSENT_COLUMNS = {"OPTIN_TIME": "optin_time", "OPTIN_IP": "optin_ip",
                   "CONFIRM_TIME": "confirm_time", "CONFIRM_IP": "confirm_ip"}
NOT_FIELDS = {"Email Address", "TAGS", *CONSENT_COLUMNS}


class MailchimpExportConnector(Connector):
    name = "mailchimp_export"
    summary = "A Mailchimp audience export (the zip from Audience › Export audience)."
    options = OptionSet((
        Option("path", required=True,
               help="The export zip (or the folder it was unzipped into), relative to the plan."),
    ))
    source_actions = ("export",)
    source_step_options = MEMBER_STEP_OPTIONS

    def open_source(self, location: str, step: StepContext) -> MailchimpExportSource:
        path = Path(str(self.config["path"]))
        return MailchimpExportSource(path if path.is_absolute() else self.base_dir / path,
                                     MemberPolicy.from_options(step.options))


class MailchimpExportSource(Source):
    def __init__(self, path: Path, policy: MemberPolicy) -> None:
        self.path, self.policy = path, policy

    def files(self) -> list[tuple[str, str, bytes]]:
        """(name, status, bytes) of every status file, in a stable order."""
        found: list[tuple[str, str, bytes]] = []
        try:
            if self.path.is_dir():
                entries = {p.relative_to(self.path).as_posix(): p.read_bytes
                           for p in sorted(self.path.rglob("*.csv"))}
            else:
                archive = zipfile.ZipFile(self.path)
                # Bounded, checked reads (zip bombs, bad entries): migrate/archives.py
                entries = {name: (lambda n=name: archives.read_entry(archive, n))
                           for name in sorted(archive.namelist())}
            for name, read in entries.items():
                match = FILE_STATUS.match(PurePosixPath(name).name)
                if match:
                    found.append((name, STATUS_OF[match.group(1).lower()], read()))
        except FileNotFoundError:
            raise unreadable(self.path, _("the file does not exist")) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
                UnicodeDecodeError) as error:
            raise unreadable(self.path, _("it is not a complete zip file ({kind}); download "
                                          "the export from Mailchimp again").format(
                kind=type(error).__name__)) from None
        if not found:
            raise unreadable(self.path, _("no 'subscribed_…', 'unsubscribed_…' or 'cleaned_…' "
                                          "CSV file inside: is it a Mailchimp audience export?"))
        return found

    def list_items(self) -> Listing:
        collector = MemberCollector(f"mailchimp_export:{self.path.name}", self.policy)
        for name, status, data in self.files():
            text = decode(data)
            _require_email_column(self.path, name, text)
            for row in read_rows(text, name=PurePosixPath(name).name):
                _collect(collector, row.cells, status, f"{PurePosixPath(name).name} line "
                                                       f"{row.line}")
        return collector.listing()


def _require_email_column(path: Path, name: str, text: str) -> None:
    """A file without Mailchimp's `Email Address` column (another tool's CSV, or text in
    UTF-16 read as bytes) would turn every row into "invalid address ''": refuse it."""
    header = next(read_rows(text + "\n\n", name=name, header_only=True), None)
    if header is None or "Email Address" not in header.cells:
        columns = ", ".join(list(header.cells)[:8]) if header else ""
        raise unreadable(path, _("{name} has no 'Email Address' column (its columns: {all}); "
                                 "export the audience from Mailchimp again, or save the file "
                                 "as CSV UTF-8").format(name=PurePosixPath(name).name,
                                                        all=printable.one_line(columns[:200])))


def _collect(collector: MemberCollector, cells: dict[str, str], status: str, where: str) -> None:
    fields: dict[str, Any] = {k: v for k, v in cells.items() if k not in NOT_FIELDS and v}
    consent: dict[str, Any] = {ours: cells.get(theirs) for theirs, ours in
                               CONSENT_COLUMNS.items()}
    reason = " — ".join(v for k in ("UNSUB_REASON", "UNSUB_REASON_OTHER", "CLEAN_CAMPAIGN_TITLE")
                        if (v := cells.get(k)))
    consent["unsubscribe_reason"] = reason
    consent["source"] = "Mailchimp export"
    name = " ".join(p for p in (cells.get("First Name", ""), cells.get("Last Name", "")) if p)
    collector.add(cells.get("Email Address", ""), status, where, name=name, fields=fields,
                  tags=split_tags(cells.get("TAGS", "")), consent=consent)
