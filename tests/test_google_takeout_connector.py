"""`google_takeout` on archives built on the fly: multi-part zip, tgz, extracted folder."""

from __future__ import annotations

import calendar
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from connectors.google_takeout import GoogleTakeoutConnector
from migrate.connector import StepContext
from migrate.errors import FatalError
from migrate.model import ItemKind
from tests.conformance.source_suite import SourceSuite

CONTENT = {
    "Communication/Affiche été.pdf": b"%PDF-1.4 affiche\n" * 200,
    "Communication/Comptes rendus/AG 2024.odt": b"PK odt " * 50,
    "Budget.xlsx": b"PK xlsx",
    "vide.txt": b"",
}
WHEN = (2023, 6, 15, 10, 30, 0)


def _context(tmp_path: Path) -> StepContext:
    return StepContext("takeout", "copy", {}, "p", tmp_path)


def make_zips(folder: Path, drive_name: str = "Drive", parts: int = 2) -> Path:
    """takeout-…-001.zip, -002.zip: the files spread over the parts, as Takeout does."""
    names = list(CONTENT)
    archives = []
    for part in range(parts):
        archive = folder / f"takeout-20240101T000000Z-{part + 1:03d}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            if part == 0:
                out.writestr(zipfile.ZipInfo(f"Takeout/{drive_name}/Dossier vide/", WHEN), b"")
                out.writestr(zipfile.ZipInfo("Takeout/Mail/ignored.mbox", WHEN), b"x")
            for name in names[part::parts]:
                out.writestr(zipfile.ZipInfo(f"Takeout/{drive_name}/{name}", WHEN), CONTENT[name])
        archives.append(archive)
    return archives[0]


def make_tgz(folder: Path) -> Path:
    archive = folder / "takeout-20240101T000000Z-001.tgz"
    with tarfile.open(archive, "w:gz") as out:
        for name, data in CONTENT.items():
            info = tarfile.TarInfo(f"Takeout/Drive/{name}")
            info.size, info.mtime = len(data), 1_700_000_000
            out.addfile(info, io.BytesIO(data))
    return archive


def open_takeout(tmp_path: Path, path: str, location: str = ""):
    connector = GoogleTakeoutConnector({"path": path}, tmp_path)
    return connector.open_source(location, _context(tmp_path))


class TestGoogleTakeoutSource(SourceSuite):
    @pytest.fixture
    def expected(self) -> dict:
        return dict(CONTENT)

    @pytest.fixture
    def source(self, tmp_path: Path):
        make_zips(tmp_path, "Mon Drive")
        return open_takeout(tmp_path, "takeout-20240101T000000Z-001.zip")


def test_every_part_is_read_and_mtimes_come_from_the_archive(tmp_path: Path) -> None:
    make_zips(tmp_path, parts=3)
    items = {i.path: i for i in open_takeout(tmp_path, ".").list_items().items}
    assert set(items) == {*CONTENT, "Dossier vide"}
    assert items["Dossier vide"].kind is ItemKind.FOLDER
    assert items["Budget.xlsx"].key == "Budget.xlsx"  # no ids in Takeout: the path is the key
    assert items["Budget.xlsx"].fingerprint.mtime == calendar.timegm((*WHEN, 0, 0, 0))


def test_tgz_and_extracted_folder_give_the_same_files(tmp_path: Path) -> None:
    make_tgz(tmp_path)
    from_tgz = open_takeout(tmp_path, "takeout-20240101T000000Z-001.tgz")
    extracted = tmp_path / "extrait"
    with tarfile.open(tmp_path / "takeout-20240101T000000Z-001.tgz") as archive:
        archive.extractall(extracted, filter="data")
    from_folder = open_takeout(tmp_path, "extrait")
    for source in (from_tgz, from_folder):
        for item in source.list_items().items:
            with source.open(item) as stream:
                assert stream.read() == CONTENT[item.path]


def test_location_limits_to_a_folder(tmp_path: Path) -> None:
    make_zips(tmp_path, "Mon Drive")
    source = open_takeout(tmp_path, ".", "/Communication")
    assert sorted(i.path for i in source.list_items().items) == [
        "Affiche été.pdf", "Comptes rendus/AG 2024.odt"]


def test_truncated_zip_names_the_file(tmp_path: Path) -> None:
    first = make_zips(tmp_path)
    second = tmp_path / "takeout-20240101T000000Z-002.zip"
    second.write_bytes(second.read_bytes()[:-60])
    with pytest.raises(FatalError, match=r"takeout-20240101T000000Z-002\.zip is not a complete"):
        open_takeout(tmp_path, first.name).list_items()
