"""`google_drive` against the Drive API emulator, through google-api-python-client over HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from connectors.google_drive import GoogleDriveConnector
from connectors.google_drive.auth import store_refresh_token
from migrate.connector import StepContext
from migrate.errors import FatalError, SkipItem, TransientError
from migrate.login import login_file
from migrate.model import ItemKind
from migrate.sandbox.google_drive.seed import seed_demo_drive
from tests.conformance.source_suite import SourceSuite

USER = "comm@asso-exemple.fr"


def open_drive(server, tmp_path: Path, location: str = "", key: dict | None = None,
               **options):
    """A source over the emulator, signed in with a service account acting as USER."""
    key = key or server.auth.create_service_account(server.token_uri)
    server.auth.required = True
    connector = GoogleDriveConnector({"credentials": json.dumps(key), "subject": USER,
                                      "api_endpoint": server.api_endpoint}, tmp_path)
    connector.connection = "drive"
    return connector.open_source(location, StepContext("docs", "copy", options, "p", tmp_path))


def by_path(source) -> dict:
    return {item.path: item for item in source.list_items().items}


class TestGoogleDriveSource(SourceSuite):
    @pytest.fixture
    def expected(self) -> dict:
        return {"Rapports/2024/bilan.txt": "Bilan de l'été\n".encode() * 40,
                "Rapports/vide.txt": b"", "Tarifs.csv": b"adulte;12\nenfant;6\n",
                "Compte rendu AG.odt": None, "Dossier vide": None}

    @pytest.fixture
    def source(self, google_drive_server, tmp_path: Path, expected: dict):
        drive = google_drive_server.drive
        reports = drive.add_folder("Rapports")
        year = drive.add_folder("2024", reports.id)
        drive.add_file("bilan.txt", year.id, expected["Rapports/2024/bilan.txt"],
                       mime_type="text/plain")
        drive.add_file("vide.txt", reports.id, b"", mime_type="text/plain")
        drive.add_file("Tarifs.csv", None, expected["Tarifs.csv"], mime_type="text/csv")
        drive.add_google_doc("Compte rendu AG", None, "doc")
        drive.add_folder("Dossier vide")
        drive.trash(drive.add_file("jeté.txt", None, b"x").id)
        return open_drive(google_drive_server, tmp_path)


def test_demo_drive_lists_in_one_files_list_request(seeded_google_drive, google_drive_server,
                                                    tmp_path):
    source = open_drive(google_drive_server, tmp_path, "/Communication")
    google_drive_server.requests.reset()
    items = list(source.list_items().items)
    counts = google_drive_server.requests.by_endpoint
    assert counts["files.list"] <= 2 and counts["permissions.list"] == 0
    assert sum(counts.values()) - counts["token"] <= 4  # + startPageToken and files.get root
    notable = seeded_google_drive.notable
    keys = {item.key for item in items}
    assert notable["trashed"] not in keys and notable["outside_file"] not in keys
    assert len(items) > 600


def test_names_with_slash_and_duplicates_stay_distinct_items(seeded_google_drive,
                                                            google_drive_server, tmp_path):
    items = by_path(open_drive(google_drive_server, tmp_path, "/Communication"))
    slash = items["Bilan 2023∕2024.pdf"]
    assert slash.meta["name"] == "Bilan 2023/2024.pdf" and "Bilan 2023" not in items
    source = open_drive(google_drive_server, tmp_path, "/Communication")
    budgets = [i for i in source.list_items().items if i.path == "Budget.xlsx"]
    assert {i.key for i in budgets} == {seeded_google_drive.notable["duplicate_a"],
                                        seeded_google_drive.notable["duplicate_b"]}
    assert sorted(i.meta["same_name_rank"] for i in budgets) == [0, 1]


def test_google_types_exported_or_skipped_with_reasons(seeded_google_drive, google_drive_server,
                                                      tmp_path):
    items = by_path(open_drive(google_drive_server, tmp_path, "/Communication"))
    for path in ("Trésorerie 2024.ods", "Présentation AG.odp", "Plan de salle.pdf",
                 "Rapport annuel complet.odt"):
        assert path in items and not items[path].skip_reason, path
    assert items["Inscription atelier"].skip_reason.startswith("Google Forms have no file")
    assert "Google Sites" in items["Site de l'association"].skip_reason
    ooxml = by_path(open_drive(google_drive_server, tmp_path, "/Communication",
                               google_docs="ooxml", unsupported="link"))
    assert "Trésorerie 2024.xlsx" in ooxml and "Présentation AG.pptx" in ooxml
    with open_drive(google_drive_server, tmp_path).open(ooxml["Inscription atelier.url"]) as f:
        assert f.read().startswith(b"[InternetShortcut]\r\nURL=")


def test_big_doc_falls_back_to_export_links(seeded_google_drive, google_drive_server, tmp_path):
    source = open_drive(google_drive_server, tmp_path, "/Communication")
    big = by_path(source)["Rapport annuel complet.odt"]
    with source.open(big) as stream:
        data = stream.read()
    assert len(data) > 10 * 1024 * 1024 and data[30:38] == b"mimetype"
    assert google_drive_server.requests.by_status[403] == 1  # files.export refused it once
    assert google_drive_server.requests.by_endpoint["exportLinks"] == 1


def test_shortcuts_followed_once_linked_or_reported(seeded_google_drive, google_drive_server,
                                                    tmp_path):
    notable = seeded_google_drive.notable
    items = {i.key: i for i in open_drive(google_drive_server, tmp_path,
                                          "/Communication").list_items().items}
    inside, outside = items[notable["shortcut_inside"]], items[notable["shortcut_outside"]]
    assert "copied already" in inside.skip_reason
    assert outside.skip_reason is None and outside.path == "Raccourci charte.pdf"
    assert outside.meta["content_id"] == notable["outside_file"]
    assert "no longer exists" in items[notable["shortcut_dangling"]].skip_reason
    skipped = {i.key: i for i in open_drive(google_drive_server, tmp_path, "/Communication",
                                            shortcuts="skip").list_items().items}
    assert skipped[notable["shortcut_outside"]].skip_reason


def test_permissions_in_the_shape_sharing_relies_on(seeded_google_drive, google_drive_server,
                                                    tmp_path):
    items = by_path(open_drive(google_drive_server, tmp_path, "/Communication"))
    folder = items["Partagé avec le bureau"]
    assert folder.kind is ItemKind.FOLDER
    assert {"type": "group", "role": "writer", "email": f"bureau@{USER.split('@')[1]}",
            "domain": None} in folder.meta["permissions"]
    public = items["Affiche publique.pdf"].meta["permissions"]
    assert {"type": "anyone", "role": "reader", "email": None, "domain": None} in public


def test_shared_drive_permissions_need_one_request_each(seeded_google_drive, google_drive_server,
                                                        tmp_path):
    source = open_drive(google_drive_server, tmp_path, shared_drives="all")
    google_drive_server.requests.reset()
    items = [i for i in source.list_items().items if i.path.startswith("Shared drives/")]
    assert {i.path for i in items} >= {
        "Shared drives/Bureau de l'association/Procès-verbaux/PV 1.pdf",
        "Shared drives/Bureau de l'association/Feuille de route.odt"}
    # The drive's top folder is an item too: its memberships are shared there, once.
    assert google_drive_server.requests.by_endpoint["permissions.list"] == len(items) == 7
    assert all(i.meta["permissions"][0]["role"] == "organizer" for i in items)
    by = {i.path.split("/", 2)[2]: i for i in items}
    assert by["Procès-verbaux"].kind is ItemKind.FOLDER
    for top in ("Procès-verbaux", "Feuille de route.odt"):
        assert not any(g.get("inherited") for g in by[top].meta["permissions"])
    assert all(g["inherited"] for g in by["Procès-verbaux/PV 1.pdf"].meta["permissions"])


def test_refresh_token_from_migrate_login(google_drive_server, tmp_path):
    google_drive_server.drive.add_file("a.txt", None, b"a")
    grant = google_drive_server.auth.create_refresh_token()
    store = login_file(tmp_path, "drive")
    store_refresh_token(store, {"type": "authorized_user", **grant,
                                "token_uri": google_drive_server.token_uri})
    assert os.stat(store).st_mode & 0o777 == 0o600
    google_drive_server.auth.required = True
    connector = GoogleDriveConnector({"api_endpoint": google_drive_server.api_endpoint},
                                     tmp_path)
    connector.connection = "drive"
    source = connector.open_source("", StepContext("docs", "copy", {}, "p", tmp_path))
    assert [i.path for i in source.list_items().items] == ["a.txt"]
    assert google_drive_server.auth.grants_issued[-1].subject == USER


def test_delegation_refused_is_a_plain_fatal_error(google_drive_server, tmp_path):
    key = google_drive_server.auth.create_service_account(google_drive_server.token_uri,
                                                          can_delegate=False)
    with pytest.raises(FatalError, match="migrate login PLAN drive"):
        open_drive(google_drive_server, tmp_path, key=key).list_items()


def test_expired_token_is_renewed_and_a_second_401_is_fatal(google_drive_server, tmp_path):
    google_drive_server.drive.add_file("a.txt", None, b"a")
    source = open_drive(google_drive_server, tmp_path)
    source.list_items()
    google_drive_server.auth.expire_all()
    assert len(list(source.list_items().items)) == 1  # refreshed once, then fine
    google_drive_server.faults.inject(status=401, count=2)
    with pytest.raises(FatalError, match="migrate login"):
        source.list_items()


@pytest.mark.parametrize(("fault", "expected"), [
    ({"status": 503, "retry_after": 7}, TransientError),
    ({"status": 403, "reason": "dailyLimitExceeded"}, FatalError),
    ({"status": 404, "reason": "notFound"}, SkipItem),
])
def test_download_errors_are_translated(google_drive_server, tmp_path, fault, expected):
    google_drive_server.drive.add_file("a.bin", None, b"x" * 5000)
    source = open_drive(google_drive_server, tmp_path)
    item = next(iter(source.list_items().items))
    google_drive_server.faults.inject(path_prefix="/files/", **fault)
    with pytest.raises(expected) as caught, source.open(item):
        pass
    if "retry_after" in fault:
        assert caught.value.retry_after == fault["retry_after"]
    if expected is FatalError:
        assert "run apply again tomorrow" in str(caught.value)


def test_dropped_download_is_transient_then_whole(google_drive_server, tmp_path):
    content = os.urandom(200_000)
    google_drive_server.drive.add_file("photo.jpg", None, content, mime_type="image/jpeg")
    source = open_drive(google_drive_server, tmp_path)
    item = next(iter(source.list_items().items))
    google_drive_server.faults.drop_connection(after_bytes=50_000)
    with pytest.raises(TransientError), source.open(item):
        pass
    with source.open(item) as stream:
        assert stream.read() == content


def test_listing_retries_a_rate_limit_and_counts_it(google_drive_server, tmp_path):
    google_drive_server.drive.add_file("a.txt", None, b"a")
    source = open_drive(google_drive_server, tmp_path)
    google_drive_server.faults.inject(status=429, retry_after=0, path_prefix="/files")
    assert [i.path for i in source.list_items().items] == ["a.txt"]
    assert google_drive_server.requests.by_status[429] == 1


def test_from_a_missing_folder_says_so(google_drive_server, tmp_path):
    seed_demo_drive(google_drive_server.drive, items=60, rng_seed=3)
    with pytest.raises(FatalError, match="no folder 'Comunication'"):
        open_drive(google_drive_server, tmp_path, "/Comunication").list_items()


def test_migrate_login_prints_consent_url_and_refuses_a_bad_code(google_drive_server, tmp_path):
    import subprocess
    import sys

    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\nconnections:\n"
        "  drive: {type: google_drive, client_id: 42.apps.googleusercontent.com,\n"
        "          client_secret: \"${env:GOOGLE_CLIENT_SECRET}\",\n"
        f"          token_uri: \"{google_drive_server.token_uri}\",\n"
        f"          api_endpoint: \"{google_drive_server.api_endpoint}\"}}\n"
        "  here: {type: local, path: copie}\n"
        "steps:\n  - id: docs\n    copy: {from: drive, to: here}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "migrate", "login", str(plan), "drive"],
                          input="http://127.0.0.1:8765/?state=x&code=4/faux-code\n",
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "GOOGLE_CLIENT_SECRET": "très-secret-42"})
    assert done.returncode == 1
    assert "https://accounts.google.com/o/oauth2/v2/auth?client_id=42.apps" in done.stdout
    assert "Google did not accept the code" in done.stderr
    assert "très-secret-42" not in done.stdout + done.stderr
    assert not login_file(tmp_path, "drive").exists()


def test_migrate_login_exchanges_the_code_then_the_plan_reads_the_drive(google_drive_server,
                                                                         tmp_path):
    """The whole installed-app flow against the emulator: the consent address printed, the
    address the browser ends on pasted back, the code exchanged once for a refresh token kept
    0600, and the plan then reads the drive with it. A code pasted twice is refused plainly."""
    import json
    import subprocess
    import sys
    import urllib.parse

    import requests

    google_drive_server.drive.add_file("Compte rendu.txt", None, b"AG 2026")
    client = google_drive_server.auth.create_oauth_client()
    google_drive_server.auth.required = True
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\nconnections:\n"
        f"  drive: {{type: google_drive, client_id: {client['client_id']},\n"
        "          client_secret: \"${env:GOOGLE_CLIENT_SECRET}\",\n"
        f"          auth_uri: \"{google_drive_server.auth_uri}\",\n"
        f"          token_uri: \"{google_drive_server.token_uri}\",\n"
        f"          api_endpoint: \"{google_drive_server.api_endpoint}\"}}\n"
        "  here: {type: local, path: copie}\n"
        "steps:\n  - id: docs\n    copy: {from: drive, to: here}\n", encoding="utf-8")
    env = {**os.environ, "GOOGLE_CLIENT_SECRET": client["client_secret"]}
    command = [sys.executable, "-m", "migrate", "login", str(plan), "drive"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    consent = ""
    while not consent:
        line = process.stdout.readline()
        assert line, "no consent address printed"
        consent = line.strip() if line.startswith(google_drive_server.auth_uri) else ""
    browser = requests.get(consent, allow_redirects=False, timeout=30)  # the user accepts
    assert browser.status_code == 302
    landed = browser.headers["Location"]
    asked = urllib.parse.parse_qs(urllib.parse.urlsplit(consent).query)
    came_back = urllib.parse.parse_qs(urllib.parse.urlsplit(landed).query)
    assert came_back["state"] == asked["state"] and asked["access_type"] == ["offline"]
    out, err = process.communicate(landed + "\n", timeout=60)
    assert process.returncode == 0, out + err
    store = login_file(tmp_path, "drive")
    assert os.stat(store).st_mode & 0o777 == 0o600
    assert json.loads(store.read_text())["refresh_token"].startswith("1//")
    assert client["client_secret"] not in out + err

    applied = subprocess.run([sys.executable, "-m", "migrate", "apply", str(plan), "--yes"],
                             capture_output=True, text=True, timeout=120, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (tmp_path / "copie" / "Compte rendu.txt").read_bytes() == b"AG 2026"

    again = subprocess.run(command, input=landed + "\n", capture_output=True, text=True,
                           timeout=60, env=env)
    assert again.returncode == 1
    assert "Google did not accept the code (invalid_grant)" in again.stderr
    assert json.loads(store.read_text())["refresh_token"].startswith("1//")  # kept as it was


def test_quota_answers_in_both_forms_are_waited_out_on_listing_and_downloads(
        google_drive_server, tmp_path):
    """Today's quota 403 (google.rpc.ErrorInfo RATE_LIMIT_EXCEEDED in `details`, which the
    client puts in `error_details`) and the legacy one (errors[0].reason): neither aborts the
    listing nor skips a file; each is waited out and the request made again."""
    contents = {f"f{n}.bin": os.urandom(3000 + n) for n in range(4)}
    for name, data in contents.items():
        google_drive_server.drive.add_file(name, None, data)
    source = open_drive(google_drive_server, tmp_path)
    faults = google_drive_server.faults
    faults.inject(status=403, style="errorinfo_only", path_prefix="/files")
    faults.inject(status=403, reason="rateLimitExceeded", path_prefix="/files")
    items = list(source.list_items().items)
    assert sorted(i.path for i in items) == sorted(contents)
    faults.inject(status=403, style="errorinfo", path_prefix="/files/")
    faults.inject(status=403, reason="userRateLimitExceeded", path_prefix="/files/")
    for item in items:
        with source.open(item) as stream:
            assert stream.read() == contents[item.path]
    assert google_drive_server.requests.by_status[403] == 4 and not faults.pending()


def test_requests_are_paced_to_the_quota_google_states(google_drive_server, tmp_path):
    """After one quota answer stating 600 requests a minute, the connection spaces its
    requests 0.1 s apart, so the quota is not run into again (an unpaced client meets it after
    every burst)."""
    contents = {f"f{n:02}.txt": f"fichier {n}".encode() for n in range(20)}
    for name, data in contents.items():
        google_drive_server.drive.add_file(name, None, data, mime_type="text/plain")
    source = open_drive(google_drive_server, tmp_path)
    google_drive_server.faults.queries_per_minute = 600
    google_drive_server.faults.quota_burst = 3
    for item in source.list_items().items:
        with source.open(item) as stream:
            assert stream.read() == contents[item.path]
    assert source.client.pacer.interval == pytest.approx(0.1)
    assert google_drive_server.requests.by_status[403] == 1
