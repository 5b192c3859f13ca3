"""The `csv` connector as a target: one row per person, and a do-not-contact file of hashes.

    Lettre.csv                  email, name, status, source_status, consent columns, tags,
                                language, then one column per merge field
    Lettre.do-not-contact.csv   sha256, reason — the SHA-256 of every suppressed address
                                (trimmed, casefolded, domain in punycode), never the address

`status` is `subscribed` (opt-in documented) or `unconfirmed` (pending, or no evidence: ask the
person to confirm before mailing). Suppressed people are never in `Lettre.csv`. Tags and
marketing permissions are written as Mailchimp writes its TAGS column: `"VIP","Bénévoles, AG"`.
UTF-8 with a BOM by default, so Excel opens accents right.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectors.mailing.csvfiles import DELIMITERS, decode, read_rows
from connectors.mailing.filestage import MemberStage, StagedMember
from connectors.mailing.filetarget import (
    BLOCKED,
    CONFIRMED,
    HASHED,
    UNCONFIRMED,
    FileMemberTarget,
)
from migrate.consent import InvalidAddressError, address_key
from migrate.errors import FatalError
from migrate.i18n import _

#: optin_* is the sign-up, confirm_* the confirmation (connectors/mailing/evidence.py).
COLUMNS = ("email", "name", "status", "source_status", "optin_time", "optin_ip",
           "confirm_time", "confirm_ip", "consent_source", "email_permission",
           "marketing_permissions", "marketing_permissions_refused", "tags", "language", "vip",
           "last_changed")
STATUS_WORDS = {CONFIRMED: "subscribed", UNCONFIRMED: "unconfirmed"}


def quoted_list(values: Sequence[Any]) -> str:
    """`"VIP","Bénévoles, AG"`: each value quoted, so commas inside stay inside."""
    return ",".join('"' + str(v).replace('"', '""') + '"' for v in values)


def as_list(value: Any) -> list[Any]:
    if not value:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


class CsvMemberTarget(FileMemberTarget):
    def __init__(self, folder: Path, stem: str, stage: MemberStage, encoding: str = "auto",
                 delimiter: str = "auto") -> None:
        super().__init__(folder, stem, stage)
        self.encoding = "utf-8-sig" if encoding == "auto" else encoding
        self.delimiter = DELIMITERS.get(delimiter, ",")

    @property
    def people_file(self) -> str:
        return f"{self.stem}.csv"

    @property
    def blocked_file(self) -> str:
        return f"{self.stem}.do-not-contact.csv"

    def render(self, rows: Sequence[StagedMember]) -> list[tuple[str, bytes]]:
        people = [r.record for r in rows if r.state != BLOCKED and r.record is not None]
        field_names = sorted({name for p in people for name in p["fields"]})
        header = [*COLUMNS, *(f"field:{n}" if n in COLUMNS else n for n in field_names)]
        table = [header] + [self._row(p, field_names) for p in people]
        blocked = [["sha256", "reason"]] + [[r.hash, (r.record or {}).get("reason", "")]
                                             for r in rows if r.state == BLOCKED]
        return [(self.people_file, self._encode(table)),
                (self.blocked_file, self._encode(blocked))]

    @staticmethod
    def _row(person: dict[str, Any], field_names: list[str]) -> list[str]:
        consent = person["consent"]
        vip = person.get("vip")
        return [person["email"], person["name"], STATUS_WORDS[person["state"]],
                person["source_status"], cell(consent.get("optin_time")),
                cell(consent.get("optin_ip")), cell(consent.get("confirm_time")),
                cell(consent.get("confirm_ip")), cell(consent.get("source")),
                cell(consent.get("email_permission")),
                quoted_list(as_list(consent.get("permissions"))),
                quoted_list(as_list(consent.get("permissions_refused"))),
                quoted_list(person["tags"]), person["language"],
                "" if vip is None else ("yes" if vip else "no"),
                cell(person.get("last_changed")),
                *(cell(person["fields"].get(name)) for name in field_names)]

    def _encode(self, table: list[list[str]]) -> bytes:
        text = io.StringIO()
        csv.writer(text, delimiter=self.delimiter, lineterminator="\r\n").writerows(table)
        try:
            return text.getvalue().encode(self.encoding)
        except UnicodeEncodeError as error:
            raise FatalError(_("a name or field cannot be written in {enc} ('{text}'): choose "
                               "'encoding: utf-8' for this connection").format(
                enc=self.encoding, text=error.object[error.start:error.end])) from None

    def read_back(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        people = self.folder / self.people_file
        if people.exists():
            for row in read_rows(decode(people.read_bytes())):
                state = {v: k for k, v in STATUS_WORDS.items()}.get(row.cells.get("status", ""))
                try:
                    found.append((address_key(row.cells.get("email", "")), state or UNCONFIRMED))
                except InvalidAddressError:
                    continue  # a row someone added by hand: not ours to match
        blocked = self.folder / self.blocked_file
        if blocked.exists():
            for row in read_rows(decode(blocked.read_bytes())):
                digest = row.cells.get("sha256", "")
                if len(digest) == len(hashlib.sha256().hexdigest()):
                    found.append((HASHED + digest, BLOCKED))
        return found

    def owns(self, filename: str) -> bool:
        return filename in (self.people_file, self.blocked_file)

    def read_status_files(self, kind: str, state_of: dict[str, str]) -> list[tuple[str, str]]:
        """Everyone in files named `<list>.<kind>-…-<word>.csv`, the state from the word
        (`state_of`); rows someone added by hand with an unreadable address are not ours."""
        found: list[tuple[str, str]] = []
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob(f"{self.stem}.{kind}-*.csv")):
            state = state_of.get(path.stem.rpartition("-")[2])
            if state is None:
                continue
            for row in read_rows(decode(path.read_bytes())):
                try:
                    found.append((address_key(row.cells.get("email", "")), state))
                except InvalidAddressError:
                    continue
        return found
