"""`mailchimp_export`: the audience export zip downloaded from Mailchimp's web interface.

The zip holds one CSV per status, and the status is only in the file's name. Mailchimp has
named them three ways, all read (docs/decisions/0531):

    audience_export_<id>/subscribed_email_audience_export_<id>.csv     today's exports
    members_export_<id>/subscribed_members_export_<id>.csv             before
    subscribed_export_<id>.csv                                         older still

with `unsubscribed_…`, `cleaned_…` and `nonsubscribed_…` beside them (nonsubscribed: contacts
who never subscribed, e.g. from a shop: never imported). Columns: `Email Address`, `First Name`,
`Last Name`, other merge fields by their label, one column per GDPR marketing permission of the
audience (headed by its label, `Email`, `Direct Mail`…, `y` when granted), then Mailchimp's own
(`MEMBER_RATING`, `OPTIN_TIME`, `OPTIN_IP`, `CONFIRM_TIME`, `CONFIRM_IP`, `LATITUDE` …
`LAST_CHANGED`, `LEID`, `EUID`, `NOTES`, `TAGS` as `"VIP","Blog"`) and, in the unsubscribed and
cleaned files, `UNSUB_*` / `CLEAN_*`: the reason and date of the suppression, kept as consent.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.mailing.csvfiles import decode, read_rows, split_tags, unreadable
from connectors.mailing.evidence import permission_consent
from connectors.mailing.members import MemberCollector, MemberPolicy
from migrate import archives, printable
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.consent.hook import CONSENT
from migrate.i18n import _
from migrate.options import option

FILE_STATUS = re.compile(r"^(nonsubscribed|unsubscribed|subscribed|cleaned)[ _-]+"
                         r"(?:(?:members|email|audience)[ _-]+)*export(?:[ _-].*)?\.csv$",
                         re.IGNORECASE)
STATUS_OF = {"subscribed": "subscribed", "unsubscribed": "unsubscribed", "cleaned": "cleaned",
             "nonsubscribed": "transactional"}
CONSENT_COLUMNS = {"OPTIN_TIME": "optin_time", "OPTIN_IP": "optin_ip",
                   "CONFIRM_TIME": "confirm_time", "CONFIRM_IP": "confirm_ip",
                   "UNSUB_TIME": "unsubscribe_time", "UNSUB_CAMPAIGN_TITLE": "unsubscribe_campaign",
                   "CLEAN_TIME": "cleaned_time", "CLEAN_CAMPAIGN_TITLE": "cleaned_campaign"}
#: Mailchimp's default permission labels (English and French audiences); a renamed one is
#: named in the connection's `permissions`.
DEFAULT_PERMISSIONS = ("Email", "E-mail", "Courriel", "Direct Mail", "Courrier postal",
                       "Customized Online Advertising", "Publicité en ligne personnalisée")
GRANTED_WORDS = frozenset({"y", "yes", "true", "1", "x", "oui", "granted"})
NOT_FIELDS = {"Email Address", "TAGS", "LAST_CHANGED", *CONSENT_COLUMNS}


@dataclass(frozen=True, kw_only=True)
class MailchimpExportOptions:
    path: str = option(
        required=True,
        help="The export zip (or the folder it was unzipped into), relative to the plan.")
    permissions: tuple[str, ...] = option(
        "list", default=list(DEFAULT_PERMISSIONS),
        help="The columns that hold the audience's GDPR marketing permissions (their "
             "labels, as in the signup form). Mailchimp's defaults are known; name "
             "yours if you renamed them. A column about e-mail ('Email', 'Courriel'…) "
             "decides whether a person may be subscribed.")


class MailchimpExportConnector(Connector):
    name = "mailchimp_export"
    summary = "A Mailchimp audience export (the zip from Audience › Export audience)."
    Options = MailchimpExportOptions
    config: MailchimpExportOptions
    source_actions = ("export",)
    SourceStepOptions = MemberPolicy

    def open_source(self, location: str, step: StepContext) -> MailchimpExportSource:
        path = Path(self.config.path)
        # An empty list in the plan means the defaults, as when it is not given.
        labels = self.config.permissions or DEFAULT_PERMISSIONS
        return MailchimpExportSource(path if path.is_absolute() else self.base_dir / path,
                                     self.source_options(step),
                                     [str(label) for label in labels])


class MailchimpExportSource(Source):
    step_hooks = (CONSENT,)  # suppression across steps, the reconciliation

    def __init__(self, path: Path, policy: MemberPolicy,
                 permissions: list[str] | None = None) -> None:
        self.path, self.policy = path, policy
        self.permissions = {p.strip().casefold() for p in permissions or DEFAULT_PERMISSIONS}

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
            raise unreadable(self.path, _(
                "no Mailchimp status file inside ('subscribed_email_audience_export_….csv', "
                "'subscribed_members_export_….csv', or their 'unsubscribed_', 'cleaned_', "
                "'nonsubscribed_' siblings): is it a Mailchimp audience export?"))
        return found

    def list_items(self) -> Listing:
        collector = MemberCollector(f"mailchimp_export:{self.path.name}", self.policy)
        never = 0
        for name, status, data in self.files():
            text = decode(data)
            _require_email_column(self.path, name, text)
            for row in read_rows(text, name=PurePosixPath(name).name):
                never += status == STATUS_OF["nonsubscribed"]
                self._collect(collector, row.cells, status, _("{file} line {line}").format(
                    file=PurePosixPath(name).name, line=row.line))
        if never:
            collector.tally.groups["nonsubscribed"] = never
            collector.tally.notes.append(_(
                "{n} contacts of the 'nonsubscribed' file never subscribed (a purchase, a "
                "form without consent…): never imported (counted as 'transactional')").format(
                    n=never))
        return collector.listing()

    def _collect(self, collector: MemberCollector, cells: dict[str, str], status: str,
                 where: str) -> None:
        permission_columns = [k for k in cells if k.strip().casefold() in self.permissions]
        fields: dict[str, Any] = {
            k: v for k, v in cells.items() if v and k not in NOT_FIELDS
            and k not in permission_columns and not k.startswith(("UNSUB_", "CLEAN_"))}
        consent: dict[str, Any] = {ours: cells.get(theirs) for theirs, ours in
                                   CONSENT_COLUMNS.items()}
        consent |= permission_consent(
            (k, cells[k].strip().casefold() in GRANTED_WORDS) for k in permission_columns)
        consent["unsubscribe_reason"] = " — ".join(
            v for k in ("UNSUB_REASON", "UNSUB_REASON_OTHER") if (v := cells.get(k)))
        consent["source"] = "Mailchimp export"
        name = " ".join(p for p in (cells.get("First Name", ""), cells.get("Last Name", "")) if p)
        collector.add(cells.get("Email Address", ""), status, where, name=name, fields=fields,
                      tags=split_tags(cells.get("TAGS", "")), consent=consent,
                      last_changed=cells.get("LAST_CHANGED", ""))


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
