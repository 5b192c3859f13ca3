"""Sample Google Takeout exports of an association's Drive, made on the spot (no binary
fixtures), in the layouts Google actually produces (docs/decisions/0470-takeout-layouts.md).

- `write_takeout_sample`: a personal Takeout, two zip parts, `Takeout/Drive/…`, a Gmail part
  beside it that a Drive step ignores, real OpenDocument and PDF files, and a name Nextcloud
  refuses (a trailing dot) so the demo shows a rename.
- `write_workspace_sample`: a Google Workspace export (the admin's Data Export): `Drive/My
  Drive/…` with `-info.json` metadata (full, cut to `-i.json`, numbered for a second file of the
  same name), comments, a Drive for desktop backup, `Unorganized/`, the trash, `Workspaces.json`,
  and an `archive_browser.html` listing a file Google could not put in the archive.

    archive = write_takeout_sample(folder)   # folder/takeout-20240315T101500Z-001.zip (+ -002)
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from sandbox.google_drive.exports import ODS, ODT, PDF, render_export

STEM = "takeout-20240315T101500Z"
DRIVE = "Takeout/Drive"
#: Zip entry times are the time Google wrote the archive, not the files' Drive times.
WHEN = (2024, 3, 15, 10, 15, 0)


def _files() -> dict[str, bytes]:
    """Path inside Drive -> bytes, deterministic."""
    return {
        "Jardin partagé/Compte rendu réunion de mars.odt":
            render_export(ODT, "Compte rendu réunion de mars", 6_000),
        "Jardin partagé/Plan des parcelles.pdf": render_export(PDF, "Plan des parcelles", 8_000),
        "Jardin partagé/Semis 2024.ods": render_export(ODS, "Semis 2024", 5_000),
        "Jardin partagé/Photos/Récolte de courges.txt": "Légende : récolte du 12 octobre.\n"
                                                       .encode(),
        "Adhésions/Bulletin d'adhésion 2024.pdf": render_export(PDF, "Bulletin d'adhésion", 4_000),
        "Adhésions/Liste à jour.csv": "nom;année\nZoé;2024\nKarim;2024\n".encode(),
        "Brouillon.": b"Un brouillon dont le nom finit par un point.\n",
        "Lisez-moi.txt": "Export Google Takeout du Drive du jardin partagé.\n".encode(),
    }


def write_takeout_sample(folder: Path, parts: int = 2) -> Path:
    """Write the sample archive's parts into `folder`; return the first part's path."""
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(_files().items())
    archives = [folder / f"{STEM}-{index + 1:03d}.zip" for index in range(parts)]
    for index, archive in enumerate(archives):
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            if index == 0:
                out.writestr(zipfile.ZipInfo("Takeout/archive_browser.html", WHEN), b"<html/>")
                out.writestr(zipfile.ZipInfo("Takeout/Mail/Tous les messages.mbox", WHEN), b"")
            for path, data in files[index::parts]:  # spread over the parts, as Takeout does
                out.writestr(zipfile.ZipInfo(f"{DRIVE}/{path}", WHEN), data)
    return archives[0]


def takeout_sample_files() -> dict[str, bytes]:
    """What the sample holds under its Drive folder: path -> bytes (for tests)."""
    return _files()


# -- a Google Workspace export

WORKSPACE_STEM = "takeout-20240610T080000Z"
LONG_NAME = "Procès-verbal de l'assemblée générale extraordinaire du 12 avril 2024"
#: Drive modification times the -info.json files give (UTC), by path in the copy.
WORKSPACE_TIMES = {
    "Compte rendu AG.docx": "2024-04-12T18:30:05.123Z",
    "Budget 2024.xlsx": "2024-05-02T09:00:00.000Z",
    "Affiche.pdf": "2023-11-20T14:00:00.000Z",
    "Affiche(1).pdf": "2024-01-08T16:45:00.000Z",
    f"{LONG_NAME}.pdf": "2024-04-13T08:00:00.000Z",
}
OWNER = "secretariat@jardin.example"
EDITOR = "zoe@jardin.example"


def _workspace_files() -> dict[str, bytes]:
    """Path in the copy -> bytes."""
    return {
        "Compte rendu AG.docx": b"PK docx du compte rendu " * 40,
        "Budget 2024.xlsx": b"PK xlsx du budget " * 30,
        "Affiche.pdf": b"%PDF-1.4 affiche 2023\n" * 20,
        "Affiche(1).pdf": b"%PDF-1.4 affiche 2024\n" * 25,
        f"{LONG_NAME}.pdf": b"%PDF-1.4 proces-verbal\n" * 10,
        "Photos/Fête des semis.jpg": b"\xff\xd8\xff jpeg " * 50,
        "Computers/Portable du bureau/Documents/notes.txt": b"Notes du portable.\n",
        "Orphans/Sans dossier.txt": b"Un fichier dont le dossier n'est plus visible.\n",
    }


def _info(title: str, modified: str, shared: bool = False) -> bytes:
    permissions = [{"id": "1", "name": "Secrétariat", "type": "user", "role": "owner",
                    "email_address": OWNER, "kind": "drive#permission", "deleted": False}]
    if shared:
        permissions.append({"id": "2", "name": "Zoé", "type": "user", "role": "writer",
                            "email_address": EDITOR, "kind": "drive#permission"})
        permissions.append({"id": "3", "type": "user", "role": "reader",
                            "additional_roles": ["commenter"],
                            "email_address": "karim@jardin.example"})
    return json.dumps({
        "title": title, "starred": False, "viewers_can_download": True,
        "editors_can_edit_access": True, "last_modified_by_any_user": modified,
        "last_modified_by_me": modified, "content_last_modified": modified,
        "created": "2023-09-01T10:00:00.000Z", "permissions": permissions,
    }, ensure_ascii=False).encode()


def _workspace_entries() -> dict[str, bytes]:
    """Name under Takeout/ -> bytes, as the Data Export writes them."""
    files, times = _workspace_files(), WORKSPACE_TIMES
    my_drive = f"{DRIVE}/My Drive"
    entries = {
        f"{DRIVE}/Workspaces.json": b'{"workspaces": []}',
        f"{my_drive}/Compte rendu AG.docx": files["Compte rendu AG.docx"],
        # A Google Doc exported to .docx: its info is named after the title, without extension.
        f"{my_drive}/Compte rendu AG-info.json": _info("Compte rendu AG",
                                                        times["Compte rendu AG.docx"]),
        f"{my_drive}/Compte rendu AG-comments.html":
            b"<html><title>Compte rendu AG</title><body>Relire le budget.</body></html>",
        f"{my_drive}/Budget 2024.xlsx": files["Budget 2024.xlsx"],
        f"{my_drive}/Budget 2024.xlsx-info.json": _info("Budget 2024.xlsx",
                                                         times["Budget 2024.xlsx"], shared=True),
        f"{my_drive}/Affiche.pdf": files["Affiche.pdf"],
        f"{my_drive}/Affiche.pdf-info.json": _info("Affiche.pdf", times["Affiche.pdf"]),
        f"{my_drive}/Affiche(1).pdf": files["Affiche(1).pdf"],
        f"{my_drive}/Affiche.pdf-info(1).json": _info("Affiche.pdf", times["Affiche(1).pdf"]),
        f"{my_drive}/{LONG_NAME}.pdf": files[f"{LONG_NAME}.pdf"],
        # Too long a name: Google cut the metadata file's name to fit.
        f"{my_drive}/{LONG_NAME[:40]}-i.json": _info(f"{LONG_NAME}.pdf",
                                                      times[f"{LONG_NAME}.pdf"]),
        f"{my_drive}/Photos/Fête des semis.jpg": files["Photos/Fête des semis.jpg"],
        f"{my_drive}/Photos-info.json": _info("Photos", "2024-02-01T00:00:00.000Z",
                                              shared=True),
        # A Google Form cannot be exported: its metadata comes without a file.
        f"{my_drive}/Inscriptions-info.json": _info("Inscriptions", "2024-03-01T00:00:00.000Z"),
        f"{DRIVE}/Portable du bureau/Documents/notes.txt":
            files["Computers/Portable du bureau/Documents/notes.txt"],
        f"{DRIVE}/Unorganized/Sans dossier.txt": files["Orphans/Sans dossier.txt"],
        f"{DRIVE}/Trash/Ancien budget.xlsx": b"PK un budget mis a la corbeille",
    }
    return entries


ARCHIVE_BROWSER = """<html><body>
<div class="job-id hidden">0f1e2d3c</div>
<h1 class="header_title">Archive for secretariat@jardin.example</h1>
<div class="header_subtext">Jun 10, 2024, 8:00:00 AM UTC &bull; 1 MB</div>
<div id="service-details-DRIVE" class="service-detail"><div class="service-header">
<h1>Drive</h1>9 files exported successfully</div>
<div class="extracted-folder-name">My Drive</div>
<div class="file-leaf"><div class="extracted-file-name">Compte rendu AG.docx</div></div>
<div class="file-leaf"><div class="extracted-file-name">Budget 2024.xlsx</div></div>
<div class="file-leaf"><div class="extracted-file-name">Rapport moral 2023.pdf</div></div>
<div class="extracted-folder-name">My Drive/Photos</div>
<div class="file-leaf"><div class="extracted-file-name">F&ecirc;te des semis.jpg</div></div>
</div></body></html>"""
#: In the index above but in no part: reported as not in the archive.
NOT_EXPORTED = "Rapport moral 2023.pdf"


def write_workspace_sample(folder: Path, when: tuple[int, ...] = (2024, 6, 10, 8, 5, 0),
                           changed: dict[str, bytes] | None = None) -> Path:
    """A Workspace export of two parts (index first); `when` is the zip entry time (the time of
    the export), `changed` replaces some files' bytes (a later export). Returns part 1."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = _workspace_entries()
    for path, data in (changed or {}).items():
        entries[f"{DRIVE}/My Drive/{path}"] = data
    names = sorted(entries)
    first = folder / f"{WORKSPACE_STEM}-001.zip"
    for number, chunk in enumerate((names[::2], names[1::2]), start=1):
        with zipfile.ZipFile(folder / f"{WORKSPACE_STEM}-{number:03d}.zip", "w",
                             zipfile.ZIP_DEFLATED) as out:
            if number == 1:
                out.writestr(zipfile.ZipInfo("Takeout/archive_browser.html", when),
                             ARCHIVE_BROWSER.encode())
            for name in chunk:
                out.writestr(zipfile.ZipInfo(name, when), entries[name])
    return first


def workspace_sample_files() -> dict[str, bytes]:
    """What the Workspace sample's copy must hold (trash and metadata left out): path -> bytes."""
    return _workspace_files()
