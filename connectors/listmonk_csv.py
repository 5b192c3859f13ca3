"""`listmonk_csv`: files for listmonk's importer (Subscribers › Import), for an organisation that
imports by hand (a hosted listmonk, no API user yet) rather than through the `listmonk` target.

listmonk applies one mode (subscribe or blocklist) and one subscription status to a whole
import, so a list becomes up to three files in listmonk's own columns `email,name,attributes`
(attributes as JSON: merge fields, tags, consent evidence, language), and a note that says how
to import each one:

    Lettre.listmonk-1-blocklist.csv     mode "Blocklist": everyone suppressed, by address
    Lettre.listmonk-2-confirmed.csv     mode "Subscribe", status "Confirmed": opt-in documented
    Lettre.listmonk-3-unconfirmed.csv   mode "Subscribe", status "Unconfirmed": pending, or no
                                        evidence (they are mailed only once they confirm)
    Lettre.listmonk-import.txt          the order, the settings, and why

The blocklist is imported first and "Overwrite" stays off for every file, so an import never
resets a status a subscriber already has in listmonk (an unsubscribe stays one). Suppressed
addresses appear in clear in the blocklist file only: blocklisting by address is how listmonk
learns never to mail them, as with the `listmonk` target. An empty name is left empty: listmonk
then names the subscriber after the address.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectors.mailing.csv_target import CsvMemberTarget
from connectors.mailing.filestage import MemberStage, StagedMember
from connectors.mailing.filetarget import (
    BLOCKED,
    CONFIRMED,
    UNCONFIRMED,
    FolderOptions,
    open_file_target,
)
from connectors.mailing.refusals import listmonk_refusal
from migrate.connector import Connector, StepContext
from migrate.i18n import _, number
from migrate.member_meta import member_of
from migrate.model import SourceItem

#: Import order (the file's number), file word, listmonk's mode and subscription status.
IMPORTS = ((BLOCKED, "blocklist", "Blocklist", ""),
           (CONFIRMED, "confirmed", "Subscribe", "Confirmed"),
           (UNCONFIRMED, "unconfirmed", "Subscribe", "Unconfirmed"))
STATE_OF = {word: state for state, word, _mode, _status in IMPORTS}


class ListmonkCsvConnector(Connector):
    name = "listmonk_csv"
    summary = ("CSV files for listmonk's importer (email, name, attributes): one per import "
               "mode and status, with a how-to note.")
    Options = FolderOptions
    config: FolderOptions
    target_actions = ("export",)

    def open_target(self, location: str, step: StepContext) -> ListmonkCsvTarget:
        target: ListmonkCsvTarget = open_file_target(ListmonkCsvTarget, self, location, step)
        return target


def attributes(person: dict[str, Any]) -> str:
    """listmonk's `attributes` column: one JSON object (what the `listmonk` target sends)."""
    consent = {k: v for k, v in (person["consent"] or {}).items() if v not in (None, "", [])}
    extra = {k: person[k] for k in ("vip", "last_changed") if person.get(k) not in (None, "")}
    return json.dumps({"fields": person["fields"], "tags": person["tags"], "consent": consent,
                       "language": person["language"],
                       "source_status": person["source_status"], **extra},
                      ensure_ascii=False, sort_keys=True)


class ListmonkCsvTarget(CsvMemberTarget):
    keeps_blocked_address = True

    def __init__(self, folder: Path, stem: str, stage: MemberStage) -> None:
        super().__init__(folder, stem, stage, encoding="utf-8", delimiter=",")

    @property
    def note_file(self) -> str:
        return f"{self.stem}.listmonk-import.txt"

    def file_name(self, position: int, word: str) -> str:
        return f"{self.stem}.listmonk-{position}-{word}.csv"

    def owns(self, filename: str) -> bool:
        return filename.startswith(f"{self.stem}.listmonk-")

    def refusal(self, item: SourceItem) -> str | None:
        # A row listmonk's importer would skip ("skipping line…") is said in the plan instead.
        return _refusal_of(item)

    def render(self, rows: Sequence[StagedMember]) -> list[tuple[str, bytes]]:
        people = [r.record for r in rows if r.record is not None]
        files, note = [], []
        for position, (state, word, mode, status) in enumerate(IMPORTS, start=1):
            members = [p for p in people if p["state"] == state]
            if not members:
                continue
            name = self.file_name(position, word)
            table = [["email", "name", "attributes"]]
            table += [[p["email"], "" if state == BLOCKED else p["name"],
                       "{}" if state == BLOCKED else attributes(p)] for p in members]
            files.append((name, self._encode(table)))
            note.append((name, len(members), mode, status))
        # People to mail are written first (see FileMemberTarget.render), the blocklist last.
        files.sort(key=lambda file: file[0].endswith("-blocklist.csv"))
        return [*files, (self.note_file, self._note(note).encode("utf-8"))]

    def _note(self, files: list[tuple[str, int, str, str]]) -> str:
        lines = [_("Importing the list '{list}' into listmonk (Subscribers › Import), one file "
                   "at a time, in this order; leave 'Overwrite' off for every file, so nobody's "
                   "status in listmonk is reset:").format(list=self.stem), ""]
        for name, count, mode, status in files:
            if status:
                lines.append(_("- {file} ({n}): mode '{mode}', subscription status '{status}', "
                               "list '{list}'").format(file=name, n=number(count), mode=mode,
                                                      status=status, list=self.stem))
            else:
                lines.append(_("- {file} ({n}): mode '{mode}'").format(
                    file=name, n=number(count), mode=mode))
        lines += ["", _("'Blocklist': people who left or bounced; first, so that no later "
                        "import can subscribe them again."),
                  _("'Unconfirmed': pending, or no proof of consent; on a double opt-in list "
                    "listmonk mails them only once they confirm (send them the opt-in "
                    "e-mail from the list's page).")]
        return "\n".join(lines) + "\n"

    def read_back(self) -> list[tuple[str, str]]:
        return self.read_status_files("listmonk", STATE_OF)


def _refusal_of(item: SourceItem) -> str | None:
    return listmonk_refusal((member_of(item).email or item.key).strip())
