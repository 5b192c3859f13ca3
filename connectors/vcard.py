"""`vcard`: a list as an address book, one vCard 4.0 (RFC 6350) per person who may be mailed.

    connections:
      carnet: {type: vcard, path: exports}
    steps:
      - id: carnet
        export: {from: mailchimp, to: "carnet:Lettre"}     # → exports/Lettre.vcf

Each card has FN (and N when a first and last name are known), EMAIL, CATEGORIES (the tags),
LANG, and the consent as `X-CONSENT-*` properties (status, sign-up (`OPTIN`) and confirmation
time and IP, source, e-mail permission, marketing permissions granted and refused), `X-VIP`,
`X-LAST-CHANGED`; merge fields as `X-FIELD-<NAME>`. `X-CONSENT-STATUS` is
`confirmed` (opt-in documented) or `unconfirmed` (pending or no evidence: ask before mailing).
Suppressed people never get a card: their address is kept only as a SHA-256 hash in
`Lettre.vcf-do-not-contact.csv`. Files are staged and rebuilt atomically
(connectors/mailing/filetarget.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from connectors.mailing.csv_target import CsvMemberTarget, as_list, cell
from connectors.mailing.filestage import StagedMember
from connectors.mailing.filetarget import (
    BLOCKED,
    CONFIRMED,
    UNCONFIRMED,
    FolderOptions,
    first_and_last,
    open_file_target,
)
from migrate.connector import Connector, StepContext
from migrate.consent import InvalidAddressError, address_key

NAMESPACE = uuid.UUID("5b1c3f52-3c55-4f0a-9d51-0c6c1b3a7e21")
CONSENT = (("optin_time", "X-CONSENT-OPTIN-TIME"), ("optin_ip", "X-CONSENT-OPTIN-IP"),
           ("confirm_time", "X-CONSENT-CONFIRM-TIME"), ("confirm_ip", "X-CONSENT-CONFIRM-IP"),
           ("source", "X-CONSENT-SOURCE"), ("email_permission", "X-CONSENT-EMAIL-PERMISSION"))
_PROPERTY = re.compile(r"[^A-Z0-9-]+")


class VcardConnector(Connector):
    name = "vcard"
    summary = "An address book (one vCard 4.0 per person who may be mailed), consent kept."
    Options = FolderOptions
    config: FolderOptions
    target_actions = ("export",)

    def open_target(self, location: str, step: StepContext) -> VcardTarget:
        target: VcardTarget = open_file_target(VcardTarget, self, location, step)
        return target


def escape(value: Any) -> str:
    """A vCard text value: backslash, comma, semicolon and newlines escaped (RFC 6350 3.4)."""
    text = cell(value)
    return (text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Lines longer than 75 octets folded (CRLF + space), never inside a UTF-8 character."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode("utf-8")) > 75:
            out.append(current)
            current = " "
        current += char
    out.append(current)
    return "\r\n".join(out)


def card(person: dict[str, Any]) -> str:
    name = person["name"] or person["email"]
    consent, fields = person["consent"], person["fields"]
    lines = ["BEGIN:VCARD", "VERSION:4.0",
             f"UID:urn:uuid:{uuid.uuid5(NAMESPACE, person['key'])}",
             f"FN:{escape(name)}"]
    first, last = first_and_last(person)
    if first or last:
        lines.append(f"N:{escape(last or '')};{escape(first or '')};;;")
    lines.append(f"EMAIL;TYPE=home:{person['email']}")
    if person["tags"]:
        lines.append("CATEGORIES:" + ",".join(escape(tag) for tag in person["tags"]))
    if person["language"]:
        lines.append(f"LANG:{escape(person['language'])}")
    lines.append(f"X-CONSENT-STATUS:{person['state']}")
    lines += [f"{prop}:{escape(consent[key])}" for key, prop in CONSENT if consent.get(key)]
    for permission in as_list(consent.get("permissions")):
        lines.append(f"X-CONSENT-PERMISSION:{escape(permission)}")
    for permission in as_list(consent.get("permissions_refused")):
        lines.append(f"X-CONSENT-PERMISSION-REFUSED:{escape(permission)}")
    if person.get("vip") is not None:
        lines.append(f"X-VIP:{'yes' if person['vip'] else 'no'}")
    if person.get("last_changed"):
        lines.append(f"X-LAST-CHANGED:{escape(person['last_changed'])}")
    for field in sorted(fields):
        prop = _PROPERTY.sub("-", field.upper()).strip("-") or "FIELD"
        lines.append(f"X-FIELD-{prop}:{escape(fields[field])}")
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)


def unfolded(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


class VcardTarget(CsvMemberTarget):
    """The address book; its do-not-contact file is written like the csv target's."""

    @property
    def people_file(self) -> str:
        return f"{self.stem}.vcf"

    @property
    def blocked_file(self) -> str:
        return f"{self.stem}.vcf-do-not-contact.csv"

    def render(self, rows: Sequence[StagedMember]) -> list[tuple[str, bytes]]:
        people = [r.record for r in rows if r.state != BLOCKED and r.record is not None]
        cards = "".join(card(person) for person in people).encode("utf-8")
        blocked = [["sha256", "reason"]] + [[r.hash, (r.record or {}).get("reason", "")]
                                             for r in rows if r.state == BLOCKED]
        return [(self.people_file, cards), (self.blocked_file, self._encode(blocked))]

    def read_back(self) -> list[tuple[str, str]]:
        found = [entry for entry in super().read_back() if entry[1] == BLOCKED]
        path = self.folder / self.people_file
        if not path.exists():
            return found
        email, state = None, UNCONFIRMED
        for line in unfolded(path.read_text(encoding="utf-8")):
            prop, _sep, value = line.partition(":")
            head = prop.split(";")[0].upper()
            if head == "BEGIN":
                email, state = None, UNCONFIRMED
            elif head == "EMAIL":
                email = value
            elif head == "X-CONSENT-STATUS":
                state = CONFIRMED if value == CONFIRMED else UNCONFIRMED
            elif head == "END" and email:
                try:
                    found.append((address_key(email), state))
                except InvalidAddressError:
                    continue
        return found
