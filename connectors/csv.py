"""`csv`: members from any CSV file, its columns named in the plan; or, as a target, a plain
export of a list (connectors/mailing/csv_target.py: one row per person with status and consent,
suppressed addresses only as hashes in a separate do-not-contact file).

    connections:
      adherents:
        type: csv
        path: data/adherents.csv
        columns: {email: Courriel, first_name: Prénom, last_name: Nom, status: Statut,
                  tags: Groupes, optin_time: "Date d'inscription", optin_ip: IP}
        statuses: {"désabonné": unsubscribed, "invalide": cleaned}

Encoding (UTF-8, UTF-8 with BOM, cp1252 from a French Excel) and delimiter (`,` `;` tab) are
detected, quoted cells honoured; both can be forced. Columns not mapped become merge fields.
A status cell is read through `statuses` then as one of the known statuses; a row without a
status column takes `default_status`. An unknown status stops the plan rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.mailing.csv_target import CsvMemberTarget
from connectors.mailing.csvfiles import (
    decode,
    delimiter_option,
    encoding_option,
    read_rows,
    unreadable,
)
from connectors.mailing.filetarget import open_file_target
from connectors.mailing.members import MemberCollector, MemberPolicy
from migrate.connector import Connector, Listing, Source, StepContext
from migrate.consent import STATUSES
from migrate.consent.hook import CONSENT
from migrate.errors import FatalError
from migrate.i18n import N_, _, os_reason
from migrate.init_offer import Offer, Question, Secrets, quoted
from migrate.options import option

ROLES = ("email", "name", "first_name", "last_name", "status", "tags", "language",
         "optin_time", "optin_ip", "confirm_time", "confirm_ip")
CONSENT_ROLES = ("optin_time", "optin_ip", "confirm_time", "confirm_ip")


@dataclass(frozen=True, kw_only=True)
class CsvOptions:
    path: str = option(
        required=True,
        help="As a source: the CSV file, relative to the plan. As a target: the folder "
             "the files are written to (named after the list in the step's 'to:').")
    columns: dict[str, str] = option(
        "mapping", default={"email": "email"},
        help="Which column holds what: email (required), name or first_name and "
             "last_name, status, tags, language, optin_time, optin_ip, confirm_time, "
             "confirm_ip. Other columns are kept as merge fields.")
    statuses: dict[str, str] = option(
        "mapping", default={},
        help="Your status words and what they mean, e.g. {désabonné: unsubscribed, "
             "'NPAI': cleaned}. Known without mapping: " + ", ".join(STATUSES) + ".")
    default_status: str = option(
        choices=STATUSES[:2], default="subscribed",
        help="The status of every row when the file has no status column.")
    tag_separator: str = option(default=",",
                                help="What separates several tags in the tags column.")
    encoding: str = encoding_option()
    delimiter: str = delimiter_option()


def _init_connection(answers: Mapping[str, str], secrets: Secrets) -> str:
    return ("  # The members' CSV file (path relative to this folder).\n"
            "  # Le fichier CSV des membres (chemin relatif à ce dossier).\n"
            f"  members_source: {{type: csv, path: {quoted(answers['csv_path'])}}}")


#: What `migrate init` offers: the members of a CSV file, as a source.
INIT_OFFER = Offer(
    moves="members", role="source", choice="csv", phrase=N_("from a CSV file"),
    connection=_init_connection, reference=lambda answers: "members_source",
    questions=(Question("csv_path", N_("Path of the CSV file, relative to the client's folder"),
                        "exports/members.csv"),), rank=20)


class CsvConnector(Connector):
    name = "csv"
    init_offers = (INIT_OFFER,)
    summary = ("Members from any CSV file (a spreadsheet export), columns mapped in the plan; "
               "or a plain CSV export of a list, with status and consent.")
    Options = CsvOptions
    config: CsvOptions
    source_actions = ("export",)
    target_actions = ("export",)
    SourceStepOptions = MemberPolicy

    def open_target(self, location: str, step: StepContext) -> CsvMemberTarget:
        target: CsvMemberTarget = open_file_target(
            CsvMemberTarget, self, location, step,
            encoding=self.config.encoding, delimiter=self.config.delimiter)
        return target

    def open_source(self, location: str, step: StepContext) -> CsvSource:
        path = Path(self.config.path)
        columns = {str(k): str(v) for k, v in self.config.columns.items()}
        unknown = sorted(set(columns) - set(ROLES))
        if unknown or "email" not in columns:
            raise FatalError(_("the csv 'columns' must name the 'email' column and may use: "
                               "{roles} (not {bad})").format(roles=", ".join(ROLES),
                                                             bad=", ".join(unknown) or "—"))
        statuses = {str(k).strip().casefold(): str(v)
                    for k, v in self.config.statuses.items()}
        return CsvSource(path if path.is_absolute() else self.base_dir / path, columns, statuses,
                         self.config, self.source_options(step))


class CsvSource(Source):
    step_hooks = (CONSENT,)  # suppression across steps, the reconciliation

    def __init__(self, path: Path, columns: dict[str, str], statuses: dict[str, str],
                 config: CsvOptions, policy: MemberPolicy) -> None:
        self.path, self.columns, self.statuses, self.policy = path, columns, statuses, policy
        self.encoding, self.delimiter = config.encoding, config.delimiter
        # An empty separator would split every character apart: the default then.
        self.default_status, self.tag_separator = config.default_status, config.tag_separator or ","

    def status(self, value: str | None, where: str) -> str:
        if value is None or not value.strip():
            return self.default_status
        word = value.strip().casefold()
        status = self.statuses.get(word, word)
        if status not in STATUSES:
            raise FatalError(_("{where}: unknown status '{value}'; say what it means in the "
                               "connection's 'statuses' (e.g. {{'{value}': unsubscribed}})")
                             .format(where=where, value=value))
        return status

    def list_items(self) -> Listing:
        try:
            text = decode(self.path.read_bytes(), self.encoding)
        except OSError as error:
            raise unreadable(self.path, os_reason(error)) from None
        collector = MemberCollector(f"csv:{self.path.name}", self.policy)
        mapped = set(self.columns.values())
        for row in read_rows(text, self.delimiter):
            cells, where = row.cells, _("{file} line {line}").format(file=self.path.name,
                                                                     line=row.line)
            if self.columns["email"] not in cells:
                raise unreadable(self.path, _("no column '{c}' (the columns are: {all})").format(
                    c=self.columns["email"], all=", ".join(cells)))
            cell = {role: cells.get(column, "") for role, column in self.columns.items()}
            name = cell.get("name") or " ".join(
                p for p in (cell.get("first_name"), cell.get("last_name")) if p)
            tags = [t.strip() for t in cell.get("tags", "").split(self.tag_separator)
                    if t.strip()]
            collector.add(cell["email"], self.status(cells.get(self.columns.get("status", "")),
                                                     where),
                          where, name=name, tags=tags, language=cell.get("language", ""),
                          fields={k: v for k, v in cells.items() if k not in mapped and v},
                          consent={**{r: cell.get(r) for r in CONSENT_ROLES},
                                   "source": f"CSV {self.path.name}"})
        return collector.listing()
