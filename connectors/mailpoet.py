"""`mailpoet`: CSV files ready for MailPoet's importer (MailPoet › Subscribers › Import).

MailPoet applies ONE status and ONE set of tags to a whole import, so the list is split into one
file per status and per tag set, numbered, and a note (`Lettre.mailpoet-import.txt`) says for
each file which status to pick and which tags to add. An address MailPoet will refuse is left
out in the plan, with its reason (connectors/mailing/refusals.py).

- Columns as MailPoet names its fields, so the importer matches them by itself: `email`,
  `first_name`, `last_name`, `subscribed_ip`, `created_at`, `confirmed_ip`, `confirmed_at`; dates
  as `YYYY-MM-DD HH:MM:SS` (UTC), which its importer reads whatever the site's date format.
  `subscribed_ip`/`created_at` are the sign-up (`optin_*`), `confirmed_*` the confirmation, only
  for people imported as subscribed. Then what MailPoet has no field for (`consent_source`,
  `email_permission`, `marketing_permissions`, `vip`, `last_changed`) and the merge fields,
  under their own names (to map to custom fields in the importer, or leave out).
- `subscribed`: opt-in documented. `inactive`: pending, or no evidence — MailPoet's importer
  offers no "unconfirmed" status; inactive subscribers are not mailed until they confirm.
- `unsubscribed`: every suppressed address (unsubscribed, cleaned, banned, blocklisted), by
  address: importing them as Unsubscribed is how MailPoet learns never to mail them. This is the
  one file target that keeps suppressed addresses in clear (MailPoet cannot block a hash).
- Refused by MailPoet (Services/Validator.php): role addresses (`postmaster@`, `noreply@`,
  `webmaster@`, `abuse@`…), addresses shorter than 6 or longer than 150 characters, more than
  64 characters before the '@' (PHP's FILTER_VALIDATE_EMAIL) and non-English letters
  (WordPress's is_email); domains are written in punycode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from connectors.mailing.csv_target import CsvMemberTarget, as_list, cell, quoted_list
from connectors.mailing.filestage import MemberStage, StagedMember
from connectors.mailing.filetarget import (
    BLOCKED,
    CONFIRMED,
    UNCONFIRMED,
    FolderOptions,
    first_and_last,
    open_file_target,
)
from connectors.mailing.refusals import mailpoet_refusal
from migrate.connector import Connector, StepContext
from migrate.i18n import _
from migrate.member_meta import member_of
from migrate.model import SourceItem

#: Our state → the status to choose in MailPoet's importer, and the file name part.
MAILPOET_STATUS = {CONFIRMED: "subscribed", UNCONFIRMED: "inactive", BLOCKED: "unsubscribed"}
STATE_OF = {v: k for k, v in MAILPOET_STATUS.items()}
COLUMNS = ("email", "first_name", "last_name", "subscribed_ip", "created_at", "confirmed_ip",
           "confirmed_at")
#: What MailPoet has no field for, kept in columns to map to custom fields (or leave out).
CONSENT_COLUMNS = ("consent_source", "email_permission", "marketing_permissions", "vip",
                   "last_changed")


class MailpoetConnector(Connector):
    name = "mailpoet"
    summary = "CSV files for MailPoet's importer: one per status and tag set, with a how-to note."
    Options = FolderOptions
    config: FolderOptions
    target_actions = ("export",)

    def open_target(self, location: str, step: StepContext) -> MailpoetTarget:
        target: MailpoetTarget = open_file_target(MailpoetTarget, self, location, step)
        return target


def mailpoet_date(value: Any) -> str:
    """`2021-03-04T10:00:00+02:00` → `2021-03-04 08:00:00` (UTC); unreadable → empty."""
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def mailpoet_address(person: dict[str, Any]) -> str:
    """The address as MailPoet will store it: lowercased, the domain in punycode."""
    local = person["email"].rpartition("@")[0]
    return f"{local}@{person['key'].rpartition('@')[2]}".lower()


class MailpoetTarget(CsvMemberTarget):
    keeps_blocked_address = True

    def __init__(self, folder: Path, stem: str, stage: MemberStage) -> None:
        super().__init__(folder, stem, stage, encoding="utf-8", delimiter=",")

    @property
    def note_file(self) -> str:
        return f"{self.stem}.mailpoet-import.txt"

    def owns(self, filename: str) -> bool:
        return filename.startswith(f"{self.stem}.mailpoet-")

    def refusal(self, item: SourceItem) -> str | None:
        # What MailPoet's importer would drop is said in the plan, not left in a file.
        return _refusal_of(item)

    def render(self, rows: Sequence[StagedMember]) -> list[tuple[str, bytes]]:
        people = [r.record for r in rows if r.record is not None]
        order = (CONFIRMED, UNCONFIRMED, BLOCKED)  # people to mail first (see FileMemberTarget)

        def group(person: dict[str, Any]) -> tuple[int, tuple[str, ...]]:
            tags = () if person["state"] == BLOCKED else tuple(sorted(set(person["tags"])))
            return order.index(person["state"]), tags

        field_names = sorted({n for p in people for n in p["fields"] if n not in COLUMNS})
        files, plan = [], []
        for number, ((rank, tags), members) in enumerate(
                groupby(sorted(people, key=group), key=group), start=1):
            members = list(members)
            status = MAILPOET_STATUS[order[rank]]
            name = f"{self.stem}.mailpoet-{number:02d}-{status}.csv"
            table = [[*COLUMNS, *CONSENT_COLUMNS, *field_names]]
            table += [self._mailpoet_row(p, field_names) for p in members]
            files.append((name, self._encode(table)))
            plan.append((name, status, tags, members))
        return [*files, (self.note_file, self._note(plan).encode("utf-8"))]

    @staticmethod
    def _mailpoet_row(person: dict[str, Any], field_names: list[str]) -> list[str]:
        consent, first_last = person["consent"], first_and_last(person)
        confirmed = person["state"] == CONFIRMED
        vip = person.get("vip")
        # The sign-up is a fact whatever the state; a confirmation is written only for people
        # imported as subscribed, so MailPoet never shows an unproven one.
        return [mailpoet_address(person), *first_last, cell(consent.get("optin_ip")),
                mailpoet_date(consent.get("optin_time")),
                cell(consent.get("confirm_ip")) if confirmed else "",
                mailpoet_date(consent.get("confirm_time")) if confirmed else "",
                cell(consent.get("source")), cell(consent.get("email_permission")),
                quoted_list(as_list(consent.get("permissions"))),
                "" if vip is None else ("yes" if vip else "no"), cell(person.get("last_changed")),
                *(cell(person["fields"].get(n)) for n in field_names)]

    def _note(self, plan: list[tuple[str, str, tuple[str, ...], list[dict[str, Any]]]]) -> str:
        lines = [_("Importing the list '{list}' into MailPoet (Subscribers › Import › Upload a "
                   "file), one file at a time, in this order:").format(list=self.stem), ""]
        for name, status, tags, members in plan:
            lines.append(_("- {file} ({n} people): status '{status}', tags: {tags}").format(
                file=name, n=len(members), status=_(status),
                tags=", ".join(tags) or _("none")))
        lines += ["", _("'inactive': pending or without proof of consent: MailPoet will not "
                        "mail them; ask them to confirm first."),
                  _("'unsubscribed': people who left or bounced: importing them makes sure "
                    "MailPoet never mails them. Choose 'Unsubscribed' for existing subscribers "
                    "too.")]
        return "\n".join(lines) + "\n"

    def read_back(self) -> list[tuple[str, str]]:
        return self.read_status_files("mailpoet", STATE_OF)


def _refusal_of(item: SourceItem) -> str | None:
    email = member_of(item).email or item.key
    return mailpoet_refusal(mailpoet_address({"email": email.strip(), "key": item.key}))
