"""Deterministic seeded drives: a realistic association drive and a large one for benchmarks.

`seed_demo_drive` gathers every awkward case a migration meets (accents, non-Latin names,
duplicate files and folders, `/` in file and folder names, trailing spaces, empty files, an
over-10 MB Google Doc, shortcuts in and out of scope and dangling, Forms and Sites, a shared
drive, all kinds of sharing, trash).
Contents are generated on demand, so seeding costs little memory whatever the sizes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .exports import DOCX, ODT, PDF, render_export
from .model import DriveFile, User
from .state import DriveState

_EPOCH = datetime(2021, 9, 1, 9, 0, tzinfo=UTC)
_TOP_FOLDERS = ["Communication", "Administratif", "Événements", "Bénévoles", "Archives"]
_SUB_FOLDERS = [
    "Affiches",
    "Comptes rendus",
    "Photos été 2023",
    "Budget prévisionnel",
    "Assemblée générale",
    "Subventions",
    "Partenaires",
    "Réunions",
    "Modèles",
]
_STEMS = [
    "Compte rendu réunion",
    "Affiche fête de quartier",
    "Budget",
    "Liste des adhérents",
    "Statuts",
    "Règlement intérieur",
    "Rapport d'activité",
    "Photo atelier",
    "Note",
    "Convention partenariat",
    "Procès-verbal AG",
    "Planning bénévoles",
]
_BINARY_KINDS = [
    ("pdf", PDF),
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("txt", "text/plain"),
    ("docx", DOCX),
    ("odt", ODT),
    ("csv", "text/csv"),
    ("mp4", "video/mp4"),
]
_GOOGLE_KINDS = ["doc", "sheet", "slides", "drawing"]


@dataclass
class SeededDrive:
    """Ids of the notable items a seed created, so tests and demos can find them by role."""

    scope_folder_id: str = ""
    outside_folder_id: str = ""
    folder_ids: list[str] = field(default_factory=list)
    notable: dict[str, str] = field(default_factory=dict)
    shared_drive_id: str = ""
    item_count: int = 0


class _Seeder:
    def __init__(self, drive: DriveState, rng_seed: int) -> None:
        self.drive = drive
        self.rng = random.Random(rng_seed)
        self.result = SeededDrive()
        self.clock = _EPOCH

    def tick(self) -> dict[str, datetime]:
        # Times move forward deterministically, so modifiedTime ordering is stable across runs.
        self.clock += timedelta(minutes=self.rng.randint(1, 600))
        return {"created_time": self.clock, "modified_time": self.clock}

    def folder(self, name: str, parent: str | None) -> DriveFile:
        item = self.drive.add_folder(name, parent, **self.tick())
        self.result.folder_ids.append(item.id)
        self.result.item_count += 1
        return item

    def binary(self, name: str, parent: str, mime: str, size: int) -> DriveFile:
        self.result.item_count += 1
        if mime in (PDF, DOCX, ODT) and size < 200_000:
            # Office files and PDFs get real bytes of their format, cheap at these sizes.
            data = render_export(mime, name, size)
            return self.drive.add_file(name, parent, data, mime_type=mime, **self.tick())
        return self.drive.add_file(name, parent, mime_type=mime, size=size, **self.tick())

    def google(
        self, name: str, parent: str, kind: str, export_size: int | None = None
    ) -> DriveFile:
        self.result.item_count += 1
        return self.drive.add_google_doc(name, parent, kind, export_size=export_size, **self.tick())

    def random_item(self, parent: str, index: int) -> DriveFile:
        stem = f"{self.rng.choice(_STEMS)} {index:04d}"
        if self.rng.random() < 0.3:
            kind = self.rng.choice(_GOOGLE_KINDS)
            return self.google(stem, parent, kind, self.rng.randint(4_000, 60_000))
        extension, mime = self.rng.choice(_BINARY_KINDS)
        size = self.rng.choice([0, 120, 2_000, 15_000, 90_000, 300_000])
        return self.binary(f"{stem}.{extension}", parent, mime, size)


def _build_tree(seeder: _Seeder, root: str, depth: int) -> list[str]:
    """Nested folders down to `depth` levels under `root`; returns every folder id."""
    folders = [root]
    level = [root]
    for _ in range(depth):
        next_level = []
        for parent in level:
            for name in seeder.rng.sample(_SUB_FOLDERS, 2):
                next_level.append(seeder.folder(name, parent).id)
        level = next_level[:8]  # keep the tree narrow enough that deep levels stay populated
        folders += next_level
    return folders


def _seed_special_cases(seeder: _Seeder, scope: str, outside: str) -> None:
    drive, notes = seeder.drive, seeder.result.notable
    notes["non_latin_folder"] = seeder.folder("Доклады 報告", scope).id
    notes["duplicate_a"] = seeder.binary("Budget.xlsx", scope, "application/vnd.ms-excel", 900).id
    notes["duplicate_b"] = seeder.binary("Budget.xlsx", scope, "application/vnd.ms-excel", 950).id
    notes["slash_name"] = seeder.binary("Bilan 2023/2024.pdf", scope, PDF, 3_000).id
    # Two folders of one name, each with a file of one name: their children must not mix.
    for role, size in (("duplicate_folder_a", 2_000), ("duplicate_folder_b", 2_100)):
        photos = seeder.folder("Photos", scope)
        notes[role] = photos.id
        notes[role + "_file"] = seeder.binary("atelier.jpg", photos.id, "image/jpeg", size).id
    notes["slash_folder"] = seeder.folder("Saison 2023/2024", scope).id
    notes["slash_folder_file"] = seeder.binary("programme.pdf", notes["slash_folder"], PDF,
                                               1_500).id
    notes["trailing_space"] = seeder.binary("Note importante .txt ", scope, "text/plain", 200).id
    notes["empty_file"] = seeder.binary("vide.txt", scope, "text/plain", 0).id
    notes["big_doc"] = seeder.google("Rapport annuel complet", scope, "doc", 12 * 1024 * 1024).id
    notes["sheet"] = seeder.google("Trésorerie 2024", scope, "sheet").id
    notes["slides"] = seeder.google("Présentation AG", scope, "slides").id
    notes["drawing"] = seeder.google("Plan de salle", scope, "drawing").id
    notes["form"] = seeder.google("Inscription atelier", scope, "form").id
    notes["site"] = seeder.google("Site de l'association", scope, "site").id
    outside_file = seeder.binary("Charte graphique.pdf", outside, PDF, 5_000)
    notes["outside_file"] = outside_file.id
    notes["shortcut_inside"] = drive.add_shortcut(
        "Raccourci statuts", scope, notes["slash_name"]
    ).id
    notes["shortcut_outside"] = drive.add_shortcut("Raccourci charte", scope, outside_file.id).id
    notes["shortcut_dangling"] = drive.add_shortcut(
        "Raccourci cassé", scope, "1DanglingTargetIdThatDoesNotExist0", target_mime_type=PDF
    ).id
    trashed = seeder.binary("Ancien logo.png", scope, "image/png", 4_000)
    drive.trash(trashed.id)
    notes["trashed"] = trashed.id
    seeder.result.item_count += 3


def _seed_sharing(seeder: _Seeder, scope: str) -> None:
    drive, notes, domain = seeder.drive, seeder.result.notable, seeder.drive.domain
    shared_folder = seeder.folder("Partagé avec le bureau", scope)
    notes["shared_folder"] = shared_folder.id
    drive.add_permission(shared_folder.id, "group", "writer", email_address=f"bureau@{domain}")
    notes["shared_with_user"] = seeder.binary(
        "Ordre du jour.txt", shared_folder.id, "text/plain", 300
    ).id
    drive.add_permission(
        notes["shared_with_user"],
        "user",
        "commenter",
        email_address="claire.dupont@gmail.com",
        display_name="Claire Dupont",
    )
    notes["shared_with_domain"] = seeder.google("Annuaire interne", scope, "sheet").id
    drive.add_permission(notes["shared_with_domain"], "domain", "reader", domain=domain)
    notes["shared_with_anyone"] = seeder.binary("Affiche publique.pdf", scope, PDF, 8_000).id
    drive.add_permission(notes["shared_with_anyone"], "anyone", "reader")
    notes["shared_writer"] = seeder.google("Programme co-écrit", scope, "doc").id
    drive.add_permission(
        notes["shared_writer"],
        "user",
        "writer",
        email_address="marc@partenaire.org",
        display_name="Marc Partenaire",
    )


def _seed_shared_drive(seeder: _Seeder) -> None:
    shared = seeder.drive.add_shared_drive("Bureau de l'association", created_time=_EPOCH)
    seeder.result.shared_drive_id = shared.id
    folder = seeder.folder("Procès-verbaux", shared.id)
    for index in range(5):
        seeder.binary(f"PV {index + 1}.pdf", folder.id, PDF, 2_000 + index)
    seeder.result.notable["shared_drive_doc"] = seeder.google(
        "Feuille de route", shared.id, "doc"
    ).id


def seed_demo_drive(drive: DriveState, items: int = 1000, rng_seed: int = 7) -> SeededDrive:
    """Fill `drive` with a realistic association drive of about `items` items, deterministically.

    The migration scope is the "Communication" folder (`scope_folder_id`); "Archives" sits
    outside it. Notable items are listed by role in `SeededDrive.notable`.
    """
    seeder = _Seeder(drive, rng_seed)
    tops = {name: seeder.folder(name, "root").id for name in _TOP_FOLDERS}
    scope, outside = tops["Communication"], tops["Archives"]
    seeder.result.scope_folder_id, seeder.result.outside_folder_id = scope, outside
    folders = _build_tree(seeder, scope, depth=4) + list(tops.values())
    _seed_special_cases(seeder, scope, outside)
    _seed_sharing(seeder, scope)
    _seed_shared_drive(seeder)
    index = 0
    while seeder.result.item_count < items:
        index += 1
        seeder.random_item(seeder.rng.choice(folders), index)
    return seeder.result


def seed_large_drive(drive: DriveState, items: int = 20_000, rng_seed: int = 11) -> SeededDrive:
    """`items` items in a wide tree (about 50 files per folder) for listing/sync benchmarks."""
    seeder = _Seeder(drive, rng_seed)
    scope = seeder.folder("Grand volume", "root").id
    seeder.result.scope_folder_id = scope
    folders = [scope]
    index = 0
    while seeder.result.item_count < items:
        index += 1
        if index % 50 == 0:
            folders.append(
                seeder.folder(f"Dossier {index // 50:04d}", seeder.rng.choice(folders)).id
            )
        elif index % 10 == 0:
            seeder.google(f"Document {index:05d}", folders[-1], "doc", 6_000)
        else:
            size = seeder.rng.randint(0, 4_096)
            seeder.binary(f"Fichier {index:05d}.bin", folders[-1], "application/octet-stream", size)
    return seeder.result


def seed_awkward_drive(drive: DriveState) -> SeededDrive:
    """A small drive with what a real volunteer's drive holds beyond ordinary folders: an
    orphan, a Drive for desktop backup ("Computers"), a folder someone shared with the account,
    files the account may not download (DLP rule, owner's restriction), a file Google flagged
    as abusive, a temporary grant, a shared drive where the account is only a reader, and a
    shared drive the plan does not ask for. Notable items are in `notable` by role."""
    seeder = _Seeder(drive, 5)
    notes = seeder.result.notable
    lea = User("lea@autre-asso.org", "Léa Martin")
    association = seeder.folder("Association", "root")
    notes["plain"] = seeder.binary("Statuts.pdf", association.id, PDF, 3_000).id
    notes["orphan"] = seeder.binary("Reçu orphelin.pdf", association.id, PDF, 2_500).id
    drive.orphan(notes["orphan"])
    laptop = drive.add_computer("Portable de Léa", **seeder.tick())
    notes["computer"] = laptop.id
    documents = seeder.folder("Documents", laptop.id)
    notes["computer_file"] = seeder.binary("notes.txt", documents.id, "text/plain", 400).id
    notes["dlp"] = seeder.binary("Données adhérents.csv", association.id, "text/csv", 900).id
    drive.restrict(notes["dlp"], dlp=True)
    notes["abusive"] = seeder.binary("outil.exe", association.id, "application/x-msdownload",
                                     1_200).id
    drive.flag_abuse(notes["abusive"])
    notes["expiring"] = seeder.binary("Planning été.pdf", association.id, PDF, 1_800).id
    drive.add_permission(notes["expiring"], "user", "reader", email_address="marc@partenaire.org",
                         expiration_time=datetime(2030, 6, 30, 12, 0, tzinfo=UTC))
    shared = drive.add_folder("Dossier de Léa", "root", owner=lea, **seeder.tick())
    drive.add_permission(shared.id, "user", "writer", email_address=drive.user.email)
    drive.orphan(shared.id)
    notes["shared_with_me"] = shared.id
    for name in ("compte rendu.txt", "photo.jpg"):
        item = drive.add_file(name, shared.id, b"de Lea " + name.encode(), owner=lea,
                              **seeder.tick())
        notes["shared_with_me_" + name.split(".")[0].replace(" ", "_")] = item.id
    federation = drive.add_shared_drive("Fédération", created_time=_EPOCH, role="reader")
    seeder.result.shared_drive_id = federation.id
    drive.add_member(federation.id, "group", "organizer", "bureau@federation.org")
    notes["reader_drive_file"] = seeder.binary("Circulaire.pdf", federation.id, PDF, 2_200).id
    notes["reader_drive_restricted"] = seeder.binary("Liste confidentielle.pdf", federation.id,
                                                     PDF, 2_100).id
    drive.restrict(notes["reader_drive_restricted"], copy_requires_writer_permission=True)
    other = drive.add_shared_drive("Autre réseau", created_time=_EPOCH)
    notes["other_drive_file"] = seeder.binary("Hors champ.pdf", other.id, PDF, 1_000).id
    return seeder.result
