"""Sample mailing-list exports (≈50 members of a French association, every status) for
`migrate demo` and the tests: a Mailchimp audience export zip, a Google Groups members CSV and
banned list, and a plain CSV — in every variant people send (UTF-8, BOM, cp1252 with `;`)."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

FIRST = ("Hélène", "Loïc", "Zoé", "Gaëlle", "Inès", "Benoît", "Cécile", "Raphaël", "Anaïs",
         "François", "Maëlys", "Jérôme", "Noémie", "Aurélien", "Léa", "Théo", "Chloé")
LAST = ("Lefèvre", "Müller", "Dupré", "Garçon", "Nguyễn", "Le Bihan", "Østergaard", "Tremblay",
        "D'Arcy", "Béranger", "Moreau", "Strauß")
TAGS = (("Bénévoles, Festival",), ("AG 2024",), ("Donateurs", "AG 2024"), ())
#: status → how many (members of the ≈50 in each, before the special cases below).
SPREAD = (("subscribed", 26), ("unsubscribed", 8), ("cleaned", 5), ("pending", 4),
          ("transactional", 3))


@dataclass
class SampleMember:
    email: str
    first: str
    last: str
    status: str
    tags: tuple[str, ...] = ()
    optin_time: str = ""
    optin_ip: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    #: GDPR marketing permissions (label → granted), for an audience that asks for them.
    permissions: dict[str, bool] = field(default_factory=dict)
    #: The confirmation columns when they differ from the sign-up ones (None: the same).
    confirm: tuple[str, str] | None = None


def sample_members() -> list[SampleMember]:
    """≈50 members: every status, accents, tags with commas, a case-duplicate of a member who
    unsubscribed, an IDN domain and one invalid address."""
    members: list[SampleMember] = []
    number = 0
    for status, count in SPREAD:
        for _ in range(count):
            first, last = FIRST[number % len(FIRST)], LAST[number % len(LAST)]
            local = _ascii(f"{first}.{last}".replace(" ", "").replace("'", "")).lower()
            evidence = status == "subscribed" and number % 3 != 0
            members.append(SampleMember(
                f"{local}{number}@jardin-partage.example", first, last, status,
                TAGS[number % len(TAGS)],
                "2021-03-04 10:00:00" if evidence else "", "192.0.2.7" if evidence else "",
                {"Ville": ("Saint-Étienne", "Besançon", "Orléans")[number % 3]}))
            number += 1
    gone = next(m for m in members if m.status == "unsubscribed")
    members += [
        # The same person as an unsubscribed one, written in capitals, still "subscribed".
        SampleMember(gone.email.upper(), gone.first, gone.last, "subscribed", ("VIP",)),
        SampleMember("Élodie@Café-Associatif.example", "Élodie", "Durand", "subscribed",
                     ("Bénévoles, Festival", "VIP"), "2022-05-01 08:30:00", "198.51.100.4"),
        SampleMember("contact@asso", "Contact", "Asso", "subscribed"),  # invalid: no TLD
        SampleMember("info@jardin-partage.example", "Info", "", "subscribed"),  # role address
    ]
    return members


#: The GDPR permissions of the sample audience, with Mailchimp's default labels.
PERMISSIONS = ("Email", "Direct Mail", "Customized Online Advertising")


def gdpr_export_members() -> list[SampleMember]:
    """The sample members of an audience with GDPR fields on, and the traps of a real export:
    everyone granted every permission except a subscriber who did not tick 'Email', two
    bulk-import rows (OPTIN_IP 127.0.0.1, and a private address an integration wrote), and a
    row whose CONFIRM_IP holds a timestamp."""
    granted = dict.fromkeys(PERMISSIONS, True)
    members = [SampleMember(m.email, m.first, m.last, m.status, m.tags, m.optin_time, m.optin_ip,
                            m.fields, dict(granted)) for m in sample_members()]
    members += [
        SampleMember("sans.permission@jardin-partage.example", "Sans", "Permission",
                     "subscribed", ("AG 2024",), "2022-01-02 09:00:00", "203.0.113.9",
                     permissions={**granted, "Email": False}),
        SampleMember("import.groupe@jardin-partage.example", "Import", "Groupé", "subscribed",
                     (), "2019-05-06 10:00:00", "127.0.0.1", permissions=dict(granted)),
        SampleMember("via.integration@jardin-partage.example", "Via", "Intégration",
                     "subscribed", (), "2020-07-08 11:00:00", "10.1.2.3",
                     permissions=dict(granted)),
        SampleMember("ip.horodatee@jardin-partage.example", "IP", "Horodatée", "subscribed",
                     (), "", "", permissions=dict(granted),
                     confirm=("2020-09-10 12:00:00", "2020-09-10 12:00:00")),
    ]
    return members


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


MAILCHIMP_COLUMNS = ("Email Address", "First Name", "Last Name", "Ville", "MEMBER_RATING",
                     "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE",
                     "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION",
                     "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS")
EXTRA = {"unsubscribed": ("UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID",
                          "UNSUB_REASON", "UNSUB_REASON_OTHER"),
         "cleaned": ("CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID")}
FILE_OF = {"subscribed": "subscribed", "unsubscribed": "unsubscribed", "cleaned": "cleaned",
           "transactional": "nonsubscribed", "pending": "nonsubscribed"}


def _csv_bytes(rows: Sequence[Sequence[str]], encoding: str = "utf-8", delimiter: str = ",",
               bom: bool = False) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding, errors="replace")
    return (b"\xef\xbb\xbf" + data) if bom else data


#: How Mailchimp has named the files of an audience export over the years: the folder, then
#: each status file (`{kind}` is subscribed, unsubscribed, cleaned or nonsubscribed).
LAYOUTS = {"current": ("audience_export_5f3a1c", "{kind}_email_audience_export_5f3a1c.csv"),
           "members": ("members_export_5f3a1c", "{kind}_members_export_5f3a1c.csv")}


def mailchimp_export_files(members: Sequence[SampleMember],
                           layout: str = "current") -> dict[str, bytes]:
    """The CSV files of a Mailchimp audience export, by name (status only in the name).
    Pending members appear in Mailchimp's nonsubscribed file, as the web export does. When
    members carry GDPR permissions, one column per permission follows the merge fields,
    `y` when granted."""
    labels = list(dict.fromkeys(label for m in members for label in m.permissions))
    files: dict[str, list[list[str]]] = {}
    for index, m in enumerate(members):
        kind = FILE_OF[m.status]
        header = [*MAILCHIMP_COLUMNS[:4], *labels, *MAILCHIMP_COLUMNS[4:], *EXTRA.get(kind, ())]
        rows = files.setdefault(kind, [header])
        confirm = m.confirm or (m.optin_time, m.optin_ip)
        row = [m.email, m.first, m.last, m.fields.get("Ville", ""),
               *("y" if m.permissions.get(label) else "" for label in labels), "2",
               m.optin_time, m.optin_ip, *confirm, "45.43", "4.39", "1", "2",
               "Europe/Paris", "FR", "ARA", "2024-01-10 12:00:00", str(1000 + index),
               f"e{index:06x}", "", ",".join(f'"{t}"' for t in m.tags)]
        if kind == "unsubscribed":
            row += ["2023-06-01 09:00:00", "Lettre de juin", "abc123", "NORMAL",
                    "Trop de messages, merci"]
        elif kind == "cleaned":
            row += ["2023-02-01 09:00:00", "Lettre de février", "def456"]
        rows.append(row)
    name = LAYOUTS[layout][1]
    return {name.format(kind=kind): _csv_bytes(rows) for kind, rows in files.items()}


def write_mailchimp_export(path: Path, members: Sequence[SampleMember] | None = None,
                           layout: str = "current") -> Path:
    """The zip as Mailchimp sends it today (`layout="current"`) or as it used to
    (`"members"`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        files = mailchimp_export_files(members or sample_members(), layout)
        for name, data in files.items():
            archive.writestr(f"{LAYOUTS[layout][0]}/{name}", data)
    return path


def write_google_groups_export(folder: Path, members: Sequence[SampleMember] | None = None,
                               encoding: str = "utf-8") -> tuple[Path, Path]:
    """`membres.csv` (title line, then Google's header) and `bannis.csv`."""
    folder.mkdir(parents=True, exist_ok=True)
    header = ["Email address", "Nickname", "Group status", "Email status", "Email preference",
              "Posting permissions", "Join year", "Join month", "Join day"]
    rows: list[list[str]] = [["Membres du groupe lettre@googlegroups.com"], header]
    banned = [["Email address", "Nickname"]]
    for m in members or sample_members():
        group, email_status, preference = "member", "", "Each email"
        if m.status == "unsubscribed":
            preference = "No email"
        elif m.status == "cleaned":
            email_status = "bouncing"
        elif m.status == "pending":
            group = "invited"
        elif m.status == "transactional":
            banned.append([m.email, f"{m.first} {m.last}"])
            continue
        rows.append([m.email, f"{m.first} {m.last}".strip(), group, email_status, preference,
                     "allowed", "2021", "3", "4"])
    members_path, banned_path = folder / "membres.csv", folder / "bannis.csv"
    members_path.write_bytes(_csv_bytes(rows, encoding))
    banned_path.write_bytes(_csv_bytes(banned, encoding))
    return members_path, banned_path


FRENCH_STATUS = {"subscribed": "abonné", "unsubscribed": "désabonné", "cleaned": "NPAI",
                 "pending": "en attente", "transactional": "transactional"}


def write_members_csv(path: Path, members: Sequence[SampleMember] | None = None,
                      encoding: str = "utf-8", delimiter: str = ",", bom: bool = False) -> Path:
    """A spreadsheet export in French: `Courriel;Prénom;Nom;Statut;Groupes;Ville;…`."""
    rows = [["Courriel", "Prénom", "Nom", "Statut", "Groupes", "Inscrit le", "IP", "Ville"]]
    for m in members or sample_members():
        rows.append([m.email, m.first, m.last, FRENCH_STATUS[m.status], "|".join(m.tags),
                     m.optin_time, m.optin_ip, m.fields.get("Ville", "")])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_csv_bytes(rows, encoding, delimiter, bom))
    return path


def write_mailing_samples(data: Path) -> None:
    """What `migrate demo` migrates: `data/mailchimp-export.zip`."""
    write_mailchimp_export(data / "mailchimp-export.zip")
