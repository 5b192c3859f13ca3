"""`google_groups_export`: a Google Group's members as Google Groups exports them, and its bans.

The members CSV starts with a title line, then the header `Email address, Nickname, Group
status, Email status, Email preference, Posting permissions` (and join dates). Mapping:

- Group status `invited`/`pending`: never consented → `pending` (double opt-in or dropped).
- Group status `banned`, and every address of the banned list: `banned` (suppressed everywhere).
- Email preference `No email`: the person chose to receive nothing → `unsubscribed`.
- Email status `bouncing`/`disabled`: mail no longer reaches them → `cleaned`.
- Any other member, manager or owner: `subscribed`. Google keeps no opt-in time and IP, so no
  target pre-confirms them: they are asked to confirm.
"""

from __future__ import annotations

from pathlib import Path

from connectors.mailing.csvfiles import (
    DELIMITER_OPTION,
    ENCODING_OPTION,
    decode,
    read_rows,
    unreadable,
)
from connectors.mailing.members import MEMBER_STEP_OPTIONS, MemberCollector, MemberPolicy
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.i18n import _, os_reason
from migrate.options import Option, OptionSet

HEADER = "Email address"


def status_of(cells: dict[str, str]) -> str:
    group = cells.get("Group status", "").strip().casefold()
    email = cells.get("Email status", "").strip().casefold()
    preference = cells.get("Email preference", "").strip().casefold()
    if group == "banned":
        return "banned"
    if email in ("bouncing", "bounced", "disabled"):
        return "cleaned"
    if preference in ("no email", "no_email", "none"):
        return "unsubscribed"
    if group in ("invited", "pending", "requested"):
        return "pending"
    return "subscribed"


class GoogleGroupsExportConnector(Connector):
    name = "google_groups_export"
    summary = "A Google Group's exported members CSV (and its banned list)."
    options = OptionSet((
        Option("path", required=True, help="The members CSV exported from Google Groups "
                                           "(People › Members › Export), relative to the plan."),
        Option("banned_path", help="The banned members CSV, if you exported it (People › "
                                   "Banned): every address in it is suppressed everywhere."),
        ENCODING_OPTION, DELIMITER_OPTION,
    ))
    source_actions = ("export",)
    source_step_options = MEMBER_STEP_OPTIONS

    def open_source(self, location: str, step: StepContext) -> GoogleGroupsExportSource:
        def where(value: object) -> Path | None:
            if not value:
                return None
            path = Path(str(value))
            return path if path.is_absolute() else self.base_dir / path

        members = where(self.config["path"])
        assert members is not None
        return GoogleGroupsExportSource(members, where(self.config.get("banned_path")),
                                        str(self.config.get("encoding") or "auto"),
                                        str(self.config.get("delimiter") or "auto"),
                                        MemberPolicy.from_options(step.options))


class GoogleGroupsExportSource(Source):
    def __init__(self, members: Path, banned: Path | None, encoding: str, delimiter: str,
                 policy: MemberPolicy) -> None:
        self.members, self.banned = members, banned
        self.encoding, self.delimiter, self.policy = encoding, delimiter, policy

    def _rows(self, path: Path):  # type: ignore[no-untyped-def]
        try:
            text = decode(path.read_bytes(), self.encoding)
        except OSError as error:
            raise unreadable(path, os_reason(error)) from None
        rows = list(read_rows(text, self.delimiter, header_starts=HEADER))
        if rows and HEADER not in rows[0].cells:
            raise unreadable(path, _("no '{h}' column: is it a Google Groups members "
                                     "export?").format(h=HEADER))
        return rows

    def list_items(self) -> Listing:
        collector = MemberCollector(f"google_groups_export:{self.members.name}", self.policy)
        for row in self._rows(self.members):
            cells = row.cells
            collector.add(cells.get(HEADER, ""), status_of(cells),
                          _("{file} line {line}").format(file=self.members.name, line=row.line),
                          name=cells.get("Nickname", ""),
                          fields={k: v for k, v in cells.items() if k != HEADER and v},
                          consent={"source": "Google Groups"})
        if self.banned is not None:
            for row in self._rows(self.banned):
                collector.add(row.cells.get(HEADER, ""), "banned",
                              _("{file} line {line}").format(file=self.banned.name,
                                                             line=row.line))
        return collector.listing()
