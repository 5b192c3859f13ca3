"""`google_takeout` on archives built on the fly, one quirk of real exports each: Drive folder
names (Workspace layout, languages), metadata and trash, parts and mixes, tgz in one pass,
entry times that are the export's."""

from __future__ import annotations

import calendar
import gzip
import io
import json
import random
import tarfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from connectors.google_takeout import GoogleTakeoutConnector
from connectors.google_takeout.gzindex import GzipRandomAccess
from migrate.connector import StepContext
from migrate.errors import FatalError
from migrate.model import ItemKind
from tests.conformance.source_suite import SourceSuite
from tests.helpers import migrate, snapshot

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
    connector = "google_takeout"

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


# -- point 10: Drive folders as Google names them, and refusing what is not recognised

def _zip(path: Path, entries: dict[str, bytes], when: tuple[int, ...] = WHEN) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries.items():
            out.writestr(zipfile.ZipInfo(name, when), data)
    return path


def _read_all(source) -> dict[str, bytes]:
    found = {}
    for item in source.list_items().items:
        if item.kind is ItemKind.FILE and not item.skip_reason:
            with source.open(item) as stream:
                found[item.path] = stream.read()
    return found


@pytest.mark.parametrize("my_drive", ["My Drive", "Mon Drive", "Meine Ablage", "Mi unidad"])
def test_workspace_layout_in_any_language_places_computers_and_unorganized(
        tmp_path: Path, my_drive: str) -> None:
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {
        f"Takeout/Drive/{my_drive}/Budget.xlsx": b"budget",
        f"Takeout/Drive/{my_drive}/AG/PV.odt": b"pv",
        "Takeout/Drive/Mon Portable/Bureau/notes.txt": b"notes",
        "Takeout/Drive/Unorganized/orphelin.txt": b"orphelin",
    })
    assert _read_all(open_takeout(tmp_path, ".")) == {
        "Budget.xlsx": b"budget", "AG/PV.odt": b"pv",
        "Computers/Mon Portable/Bureau/notes.txt": b"notes",
        "Orphans/orphelin.txt": b"orphelin"}


def test_unrecognised_drive_folder_names_what_was_found_and_expected(tmp_path: Path) -> None:
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {
        "Takeout/Disco/Budget.xlsx": b"budget", "Takeout/Mail/tout.mbox": b"",
    })
    with pytest.raises(FatalError) as raised:
        open_takeout(tmp_path, ".").list_items()
    message = str(raised.value)
    assert "'Disco', 'Mail'" in message and "Drive" in message and "drive_folder" in message


def test_unrecognised_layout_fails_the_plan_instead_of_nothing_to_do(tmp_path: Path) -> None:
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {"Takeout/Disco/Budget.xlsx": b"x"})
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Essais\nconnections:\n"
        "  takeout: {type: google_takeout, path: takeout-20240101T000000Z-001.zip}\n"
        "  here: {type: local, path: copie}\n"
        "steps:\n  - id: drive\n    copy: {from: takeout, to: here}\n", encoding="utf-8")
    result = migrate("plan", plan, "--detailed-exitcode")
    assert result.returncode == 1, result.stdout
    assert "Disco" in result.stdout + result.stderr


def test_drive_folder_option_names_an_unknown_folder(tmp_path: Path) -> None:
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {"Takeout/Disco/Budget.xlsx": b"x"})
    connector = GoogleTakeoutConnector({"path": ".", "drive_folder": "Disco"}, tmp_path)
    source = connector.open_source("", _context(tmp_path))
    assert _read_all(source) == {"Budget.xlsx": b"x"}


# -- point 11: trash left out unless asked

def test_trash_is_skipped_unless_the_step_asks_for_it(tmp_path: Path) -> None:
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {
        "Takeout/Drive/My Drive/garde.txt": b"garde",
        "Takeout/Drive/Trash/efface.txt": b"efface",
    })
    items = {i.path: i for i in open_takeout(tmp_path, ".").list_items().items}
    assert "trash" in items["Trash/efface.txt"].skip_reason
    with_trash = GoogleTakeoutConnector({"path": "."}, tmp_path).open_source(
        "", StepContext("takeout", "copy", {"trash": True}, "p", tmp_path))
    assert _read_all(with_trash) == {"garde.txt": b"garde", "Trash/efface.txt": b"efface"}


def test_info_json_gives_drive_time_and_sharing_and_is_not_copied(tmp_path: Path) -> None:
    info = {"title": "Budget", "last_modified_by_any_user": "2021-02-03T04:05:06.000Z",
            "permissions": [{"type": "user", "role": "owner", "email_address": "a@x.org"},
                            {"type": "user", "role": "reader", "additional_roles": ["commenter"],
                             "email_address": "b@x.org"}]}
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {
        "Takeout/Drive/My Drive/Budget.xlsx": b"budget",
        "Takeout/Drive/My Drive/Budget-info.json": json.dumps(info).encode(),
        "Takeout/Drive/My Drive/donnees.json": b'{"title": 3}',  # the user's own JSON file
    })
    items = {i.path: i for i in open_takeout(tmp_path, ".").list_items().items}
    assert set(items) == {"Budget.xlsx", "donnees.json"}
    budget = items["Budget.xlsx"]
    assert budget.fingerprint.mtime == calendar.timegm((2021, 2, 3, 4, 5, 6))
    assert budget.meta["owners"] == ["a@x.org"]
    assert {"type": "user", "role": "commenter", "email": "b@x.org",
            "domain": None} in budget.data.permissions


# -- point 13: parts of one export, macOS folders, mixes refused

def test_macos_takeout_2_and_3_folders_are_read_as_the_later_parts(tmp_path: Path) -> None:
    for folder, name in (("Takeout", "un.txt"), ("Takeout 2", "deux.txt"),
                         ("Takeout 3", "trois.txt")):
        (tmp_path / "export" / folder / "Drive").mkdir(parents=True)
        (tmp_path / "export" / folder / "Drive" / name).write_bytes(name.encode())
    assert _read_all(open_takeout(tmp_path, "export")) == {
        "un.txt": b"un.txt", "deux.txt": b"deux.txt", "trois.txt": b"trois.txt"}


def test_two_exports_in_one_folder_are_refused_with_both_named(tmp_path: Path) -> None:
    make_zips(tmp_path)
    _zip(tmp_path / "takeout-20240301T000000Z-001.zip", {"Takeout/Drive/Budget.xlsx": b"new"})
    with pytest.raises(FatalError) as raised:
        open_takeout(tmp_path, ".")
    message = str(raised.value)
    assert "2 different Takeout exports" in message
    assert "takeout-20240101T000000Z-002.zip" in message
    assert "takeout-20240301T000000Z-001.zip" in message
    # Naming one part picks its export, whatever else lies beside it.
    only = open_takeout(tmp_path, "takeout-20240301T000000Z-001.zip")
    assert _read_all(only) == {"Budget.xlsx": b"new"}


def test_a_long_export_whose_later_parts_carry_a_later_time_is_one_export(
        tmp_path: Path) -> None:
    # Part names as a real 5-part export had them: segment 1, the time changing at part 3,
    # and a separate index part holding only archive_browser.html.
    names = ["takeout-20260914T211500Z-1-001.zip", "takeout-20260914T211500Z-1-002.zip",
             "takeout-20260915T050420Z-1-003.zip"]
    for index, name in enumerate(names):
        _zip(tmp_path / name, {f"Takeout/Drive/f{index}.txt": name.encode()})
    _zip(tmp_path / "takeout-20260915T001353Z-001.zip",
         {"Takeout/archive_browser.html": b"<html></html>"})
    assert _read_all(open_takeout(tmp_path, ".")) == {
        f"f{index}.txt": name.encode() for index, name in enumerate(names)}


def test_a_missing_part_is_refused(tmp_path: Path) -> None:
    make_zips(tmp_path, parts=3)
    (tmp_path / "takeout-20240101T000000Z-002.zip").unlink()
    with pytest.raises(FatalError, match=r"part 002 .* is missing"):
        open_takeout(tmp_path, "takeout-20240101T000000Z-001.zip")


def test_extracted_parts_of_two_exports_are_refused(tmp_path: Path) -> None:
    for folder, job in (("Takeout", "A"), ("Takeout 2", "B")):
        (tmp_path / folder / "Drive").mkdir(parents=True)
        (tmp_path / folder / "Drive" / "x.txt").write_bytes(b"x")
        (tmp_path / folder / "archive_browser.html").write_text(
            f'<div class="job-id hidden">{job}</div><h1 class="header_title">Archive</h1>')
    with pytest.raises(FatalError, match="different Takeout exports"):
        open_takeout(tmp_path, ".").list_items()


def test_a_copy_of_the_index_in_every_part_is_one_export(tmp_path: Path) -> None:
    page = '<div class="job-id hidden">J1</div><div class="header_subtext">Jan 1 • 1 GB</div>'
    for number in (1, 2):
        _zip(tmp_path / f"takeout-20240101T000000Z-{number:03d}.zip", {
            "Takeout/archive_browser.html": (page + f"<p>part {number}</p>").encode(),
            f"Takeout/Drive/f{number}.txt": b"x"})
    assert set(_read_all(open_takeout(tmp_path, "."))) == {"f1.txt", "f2.txt"}


# -- point 12: what archive_browser.html lists but no part holds

def test_files_listed_by_archive_browser_but_absent_are_reported(tmp_path: Path) -> None:
    page = ('<div id="service-details-DRIVE" class="service-detail"><h1>Drive</h1>'
            '<div class="extracted-folder-name">Compta</div>'
            '<div class="file-leaf"><div class="extracted-file-name">bilan.pdf</div></div>'
            '<div class="file-leaf"><div class="extracted-file-name">perdu.pdf</div></div>'
            '</div>')
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {
        "Takeout/archive_browser.html": page.encode(),
        "Takeout/Drive/Compta/bilan.pdf": b"bilan"})
    items = {i.path: i for i in open_takeout(tmp_path, ".").list_items().items}
    assert items["Compta/bilan.pdf"].skip_reason is None
    assert "not in the archive" in items["Compta/perdu.pdf"].skip_reason


# -- point 14: a tgz is read in one pass, whatever the order the writers ask in

def _big_tgz(path: Path, files: int) -> dict[str, bytes]:
    rng = random.Random(3)
    content = {f"dossier {i % 7}/fichier {i}.bin": rng.randbytes(rng.randint(0, 40_000))
               for i in range(files)}
    with tarfile.open(path, "w:gz") as out:
        for name, data in content.items():
            info = tarfile.TarInfo(f"Takeout/Drive/{name}")
            info.size, info.mtime = len(data), 1_700_000_000
            out.addfile(info, io.BytesIO(data))
    return content


def test_tgz_parts_are_read_in_one_pass_not_once_per_file(tmp_path: Path) -> None:
    content = _big_tgz(tmp_path / "takeout-20240101T000000Z-001.tgz", 200)
    source = open_takeout(tmp_path, "takeout-20240101T000000Z-001.tgz")
    items = list(source.list_items().items)  # in archive order for the reads below
    reader = next(iter(source._gzips.values()))
    listed = reader.counters.inflated
    ordered = sorted((i for i in items if i.kind is ItemKind.FILE),
                     key=lambda i: i.meta["offset"])
    for item in ordered:
        with source.open(item) as stream:
            assert stream.read() == content[item.path]
    # Listing inflates the stream once; reading every file in order, once more at most: two
    # starts from byte 0 in all (one per pass), not one per file as before (200).
    assert reader.counters.inflated - listed <= listed
    assert reader.counters.starts_from_zero == 2


def test_tgz_reads_in_any_order_from_several_threads_give_the_right_bytes(
        tmp_path: Path) -> None:
    content = _big_tgz(tmp_path / "takeout-20240101T000000Z-001.tgz", 120)
    source = open_takeout(tmp_path, "takeout-20240101T000000Z-001.tgz")
    items = [i for i in source.list_items().items if i.kind is ItemKind.FILE]
    random.Random(5).shuffle(items)

    def read(item) -> bool:
        with source.open(item) as stream:
            return stream.read() == content[item.path]

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(read, items))


def test_truncated_tgz_names_the_part(tmp_path: Path) -> None:
    archive = tmp_path / "takeout-20240101T000000Z-001.tgz"
    _big_tgz(archive, 30)
    archive.write_bytes(archive.read_bytes()[:-2000])
    with pytest.raises(FatalError, match=r"001\.tgz is not a complete archive"):
        open_takeout(tmp_path, archive.name).list_items()


# -- point 15: entry times are the export's; content decides what changed

def test_a_re_export_with_new_entry_times_is_the_same_version(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    make_zips(first)
    _zip(second / "takeout-20240201T000000Z-001.zip",
         {f"Takeout/Drive/{name}": data for name, data in CONTENT.items()},
         when=(2024, 2, 1, 9, 0, 0))
    before = {i.key: i.fingerprint for i in open_takeout(first, ".").list_items().items}
    after = {i.key: i.fingerprint for i in open_takeout(second, ".").list_items().items}
    for key in CONTENT:
        assert before[key].mtime != after[key].mtime
        assert after[key].same_version_as(before[key]), key


# -- the same, end to end: `migrate apply` into a folder, bytes checked on the target

def _local_plan(folder: Path, path: str) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Essais\nconnections:\n"
        f"  takeout: {{type: google_takeout, path: '{path}'}}\n"
        "  here: {type: local, path: copie}\n"
        "steps:\n  - id: drive\n    copy: {from: takeout, to: here}\n", encoding="utf-8")
    return plan


def test_two_tgz_parts_are_copied_byte_for_byte(tmp_path: Path) -> None:
    first = _big_tgz(tmp_path / "takeout-20240101T000000Z-001.tgz", 60)
    second = {f"deuxième/{name}": data for name, data in CONTENT.items()}
    with tarfile.open(tmp_path / "takeout-20240101T000000Z-002.tgz", "w:gz") as out:
        for name, data in second.items():
            info = tarfile.TarInfo(f"Takeout/Drive/{name}")
            info.size, info.mtime = len(data), 1_700_000_000
            out.addfile(info, io.BytesIO(data))
    plan = _local_plan(tmp_path, "takeout-20240101T000000Z-002.tgz")
    saved = migrate("plan", plan, "-o", tmp_path / "plan.json")
    assert saved.returncode == 0, saved.stdout + saved.stderr
    # The saved plan says where each file lies in its part: apply reads without listing again.
    applied = migrate("apply", tmp_path / "plan.json", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    copied = snapshot(tmp_path / "copie")
    assert {path: data for path, (data, _mtime) in copied.items()} == {**first, **second}


def test_macos_takeout_folders_are_copied_and_two_exports_refused(tmp_path: Path) -> None:
    for folder, name in (("Takeout", "un.txt"), ("Takeout 2", "deux/deux.txt")):
        (tmp_path / "export" / folder / "Drive" / name).parent.mkdir(parents=True)
        (tmp_path / "export" / folder / "Drive" / name).write_bytes(name.encode())
    applied = migrate("apply", _local_plan(tmp_path, "export"), "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert {p: d for p, (d, _m) in snapshot(tmp_path / "copie").items()} == {
        "un.txt": b"un.txt", "deux/deux.txt": b"deux/deux.txt"}

    (tmp_path / "export2").mkdir()
    make_zips(tmp_path / "export2")
    _zip(tmp_path / "export2" / "takeout-20240301T000000Z-001.zip",
         {"Takeout/Drive/Budget.xlsx": b"new"})
    refused = migrate("plan", _local_plan(tmp_path, "export2"))
    assert refused.returncode == 1
    assert "2 different Takeout exports" in refused.stdout + refused.stderr


def test_a_shared_drive_export_has_its_metadata_read_not_copied(tmp_path: Path) -> None:
    # A shared drive's export: its folders directly under Drive/, with its metadata beside.
    info = {"title": "Statuts.pdf", "last_modified_by_any_user": "2022-05-06T07:08:09Z",
            "permissions": []}
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {
        "Takeout/Drive/Shared Drive Metadata.json": b'{"name": "Bureau"}',
        "Takeout/Drive/Juridique/Statuts.pdf": b"statuts",
        "Takeout/Drive/Juridique/Statuts.pdf-info.json": json.dumps(info).encode(),
        "Takeout/Drive/Juridique/Statuts.pdf-comments.html": b"<html>relire</html>",
    })
    items = {i.path: i for i in open_takeout(tmp_path, ".").list_items().items}
    assert items["Juridique/Statuts.pdf"].fingerprint.mtime == calendar.timegm(
        (2022, 5, 6, 7, 8, 9))
    assert "comments" in items["Juridique/Statuts.pdf-comments.html"].skip_reason
    assert "not a Drive file" in items["Shared Drive Metadata.json"].skip_reason
    assert "Juridique/Statuts.pdf-info.json" not in items


def test_a_one_part_export_beside_a_segmented_one_is_not_taken_for_its_index(
        tmp_path: Path) -> None:
    _zip(tmp_path / "takeout-20260914T211500Z-1-001.zip", {"Takeout/Drive/a.txt": b"a"})
    _zip(tmp_path / "takeout-20260915T001353Z-001.zip", {"Takeout/Drive/b.txt": b"b"})
    with pytest.raises(FatalError, match="2 different Takeout exports"):
        open_takeout(tmp_path, ".")


def test_a_folder_of_per_account_exports_points_at_them(tmp_path: Path) -> None:
    # The admin's Data Export, downloaded: <account>/takeout-<time>/Takeout/Drive/…
    for account in ("secretariat@jardin.example", "tresorerie@jardin.example"):
        root = tmp_path / "export" / account / "takeout-20240610T080000Z" / "Takeout" / "Drive"
        root.mkdir(parents=True)
        (root / "a.txt").write_bytes(b"a")
    with pytest.raises(FatalError) as raised:
        open_takeout(tmp_path, "export")
    assert "secretariat@jardin.example/takeout-20240610T080000Z" in str(raised.value)
    one = open_takeout(tmp_path, "export/secretariat@jardin.example/takeout-20240610T080000Z")
    assert _read_all(one) == {"a.txt": b"a"}


def test_parts_unpacked_by_windows_into_folders_of_their_name_are_one_export(
        tmp_path: Path) -> None:
    # Windows' "Extract all" makes takeout-…-001/Takeout/…, takeout-…-002/Takeout/…
    for number, name in ((1, "un.txt"), (2, "deux.txt")):
        drive = tmp_path / "dl" / f"takeout-20240101T000000Z-{number:03d}" / "Takeout" / "Drive"
        drive.mkdir(parents=True)
        (drive / name).write_bytes(name.encode())
    expected = {"un.txt": b"un.txt", "deux.txt": b"deux.txt"}
    assert _read_all(open_takeout(tmp_path, "dl")) == expected
    # Pointing at one part's Takeout folder finds the others, as for archives and for macOS.
    assert _read_all(open_takeout(tmp_path, "dl/takeout-20240101T000000Z-001/Takeout")) == expected


def test_pointing_at_the_first_macos_folder_finds_the_later_ones(tmp_path: Path) -> None:
    for folder, name in (("Takeout", "un.txt"), ("Takeout 2", "deux.txt")):
        (tmp_path / "dl" / folder / "Drive").mkdir(parents=True)
        (tmp_path / "dl" / folder / "Drive" / name).write_bytes(name.encode())
    assert set(_read_all(open_takeout(tmp_path, "dl/Takeout"))) == {"un.txt", "deux.txt"}


def test_random_access_into_gzip_members_from_checkpoints(tmp_path: Path) -> None:
    rng = random.Random(9)
    data = rng.randbytes(3_000_000) + b"abc" * 2_000_000
    path = tmp_path / "deux-membres.gz"
    path.write_bytes(gzip.compress(data[:4_000_000]) + gzip.compress(data[4_000_000:]))
    reader = GzipRandomAccess(path)
    reader.span = 1 << 20  # checkpoints every MiB, so this small file has some
    with reader.stream() as whole:
        assert whole.read() == data  # concatenated members read as one stream
    for offset, size in [(5_000_000, 1000), (123, 456), (8_999_000, 1000), (3_999_990, 20)]:
        with reader.open_range(offset, size) as part:
            assert part.read() == data[offset:offset + size], offset
    assert reader.counters.seeks >= 3 and reader.counters.starts_from_zero <= 2


def test_a_name_ending_with_a_space_is_not_reported_missing(tmp_path: Path) -> None:
    page = ('<div id="service-details-DRIVE" class="service-detail"><h1>Drive</h1>'
            '<div class="extracted-folder-name">Brouillons </div>'
            '<div class="file-leaf"><div class="extracted-file-name">idée .txt</div></div></div>')
    _zip(tmp_path / "takeout-20240101T000000Z-001.zip", {
        "Takeout/archive_browser.html": page.encode(),
        "Takeout/Drive/Brouillons /idée .txt": b"x"})
    items = list(open_takeout(tmp_path, ".").list_items().items)
    assert [(i.path, i.skip_reason) for i in items] == [("Brouillons /idée .txt", None)]


def test_archives_and_their_unpacked_copies_side_by_side_are_read_once(tmp_path: Path) -> None:
    make_zips(tmp_path)  # takeout-…-001.zip, -002.zip, and Windows unpacked them beside
    for number in (1, 2):
        archive = tmp_path / f"takeout-20240101T000000Z-{number:03d}.zip"
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(tmp_path / archive.stem)
    source = open_takeout(tmp_path, ".")
    assert all(Path(p).suffix == ".zip" for p in source.parts)
    assert _read_all(source) == CONTENT
