"""A sample Google Takeout export of an association's Drive, made on the spot (no binary
fixtures): two zip parts, `Takeout/Mon Drive/…` as a French account gets it, a Gmail part
beside it that a Drive step ignores, real OpenDocument and PDF files, and a name Nextcloud
refuses (a trailing dot) so the demo shows a rename.

    archive = write_takeout_sample(folder)   # folder/takeout-20240315T101500Z-001.zip (+ -002)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from migrate.sandbox.google_drive.exports import ODS, ODT, PDF, render_export

STEM = "takeout-20240315T101500Z"
DRIVE = "Takeout/Mon Drive"
#: Fixed zip times (UTC, as Takeout writes them), so every run gives the same archive.
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
