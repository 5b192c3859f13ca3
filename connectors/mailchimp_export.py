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
                entries = {name: (lambda n=name: archive.read(n))
                           for name in sorted(archive.namelist())}
            for name, read in entries.items():
                match = FILE_STATUS.match(PurePosixPath(name).name)
                if match:
                    found.append((name, STATUS_OF[match.group(1).lower()], read()))
        except FileNotFoundError:
            raise unreadable(self.path, _("the file does not exist")) from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
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
            for row in read_rows(decode(data)):
                _collect(collector, row.cells, status, _("{file} line {line}").format(
                    file=PurePosixPath(name).name, line=row.line))
        return collector.listing()


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
