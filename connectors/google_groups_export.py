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

from dataclasses import dataclass
from pathlib import Path

from connectors.mailing.csvfiles import (
    decode,
    delimiter_option,
    encoding_option,
    read_rows,
    unreadable,
)
from connectors.mailing.members import MemberCollector, MemberPolicy
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.consent.hook import CONSENT
from migrate.i18n import _, os_reason
from migrate.options import option

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


@dataclass(frozen=True, kw_only=True)
class GoogleGroupsExportOptions:
    path: str = option(required=True,
                       help="The members CSV exported from Google Groups (People › Members › "
                            "Export), relative to the plan.")
    banned_path: str | None = option(
        help="The banned members CSV, if you exported it (People › Banned): every address in "
             "it is suppressed everywhere.")
    encoding: str = encoding_option()
    delimiter: str = delimiter_option()


class GoogleGroupsExportConnector(Connector):
    name = "google_groups_export"
    summary = "A Google Group's exported members CSV (and its banned list)."
    Options = GoogleGroupsExportOptions
    config: GoogleGroupsExportOptions
    source_actions = ("export",)
    SourceStepOptions = MemberPolicy

    def open_source(self, location: str, step: StepContext) -> GoogleGroupsExportSource:
        def where(value: object) -> Path | None:
            if not value:
                return None
            path = Path(str(value))
            return path if path.is_absolute() else self.base_dir / path

        members = where(self.config.path)
        assert members is not None
        return GoogleGroupsExportSource(members, where(self.config.banned_path),
                                        self.config.encoding, self.config.delimiter,
                                        self.source_options(step))


class GoogleGroupsExportSource(Source):
    step_hooks = (CONSENT,)  # suppression across steps, the reconciliation

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
