"""`google_drive` against the Drive API emulator, through google-api-python-client over HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from connectors.google_drive import GoogleDriveConnector
from connectors.google_drive.auth import store_refresh_token
from migrate.cli.login import login_file
from migrate.connector import StepContext
from migrate.errors import FatalError, MigrateError, SkipItem, TransientError
from migrate.model import ItemKind
from sandbox.google_drive.seed import seed_demo_drive
from tests.conformance.source_suite import SourceSuite

USER = "comm@asso-exemple.fr"


def open_drive(server, tmp_path: Path, location: str = "", key: dict | None = None,
               state: dict | None = None, state_dir: Path | None = None, **options):
    """A source over the emulator, signed in with a service account acting as USER."""
    key = key or server.auth.create_service_account(server.token_uri)
    server.auth.required = True
    connector = GoogleDriveConnector({"credentials": json.dumps(key), "subject": USER,
                                      "api_endpoint": server.api_endpoint}, tmp_path)
    connector.connection = "drive"
    return connector.open_source(location, StepContext("docs", "copy", options, "p", tmp_path,
                                                       state or {}, state_dir))


def by_path(source) -> dict:
    return {item.path: item for item in source.list_items().items}


class TestGoogleDriveSource(SourceSuite):
    connector = "google_drive"

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
    assert sorted(i.data.same_name_rank for i in budgets) == [0, 1]


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
            "domain": None} in folder.data.permissions
    public = items["Affiche publique.pdf"].data.permissions
    assert {"type": "anyone", "role": "reader", "email": None, "domain": None} in public


def test_shared_drive_permissions_need_one_request_each(seeded_google_drive, google_drive_server,
                                                        tmp_path):
    source = open_drive(google_drive_server, tmp_path, shared_drives="all")
    google_drive_server.requests.reset()
    items = [i for i in source.list_items().items if i.path.startswith("Shared drives/")]
    assert {i.path for i in items} >= {
        "Shared drives/Bureau de l'association/Procès-verbaux/PV 1.pdf",
        "Shared drives/Bureau de l'association/Feuille de route.odt"}
    # The drive's top folder is an item too: its memberships are shared there, once. Items
    # with no grants of their own (hasAugmentedPermissions false) have their folder's: one
    # permissions.list per top-level item, not one per item.
    assert len(items) == 7
    assert google_drive_server.requests.by_endpoint["permissions.list"] == 2
    assert all(i.data.permissions[0]["role"] == "organizer" for i in items)
    by = {i.path.split("/", 2)[2]: i for i in items}
    assert by["Procès-verbaux"].kind is ItemKind.FOLDER
    for top in ("Procès-verbaux", "Feuille de route.odt"):
        assert not any(g.get("inherited") for g in by[top].data.permissions)
    assert all(g["inherited"] for g in by["Procès-verbaux/PV 1.pdf"].data.permissions)


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
                          input="4/faux-code\n",
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
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    out, err = process.communicate(landed + "\n", timeout=60)
    assert process.returncode == 0, out + err
    store = login_file(tmp_path, "drive")
    assert os.stat(store).st_mode & 0o777 == 0o600
    assert json.loads(store.read_text())["refresh_token"].startswith("1//")
    assert client["client_secret"] not in out + err

    from tests.helpers import migrate

    applied = migrate("apply", plan, "--yes", env={"GOOGLE_CLIENT_SECRET": client["client_secret"]})
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (tmp_path / "copie" / "Compte rendu.txt").read_bytes() == b"AG 2026"

    again = subprocess.run(command, input=landed + "\n", capture_output=True, text=True,
                           timeout=60, env=env)
    assert again.returncode == 1
    # The old address belongs to the previous sign-in: its state differs, refused plainly.
    assert "does not come from this sign-in" in again.stderr
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


def test_rerun_reads_the_changes_feed_instead_of_listing_everything(
        seeded_google_drive, google_drive_server, tmp_path):
    """A finished run leaves a cursor (token + snapshot); the next listing asks changes.list
    from it and reads sharing only for what changed: the same items as a full listing, in a
    fraction of the requests."""
    state = tmp_path / ".migrate"
    state.mkdir()
    key = google_drive_server.auth.create_service_account(google_drive_server.token_uri)

    def listed(cursor: dict) -> tuple[list, dict, dict]:
        google_drive_server.requests.reset()
        source = open_drive(google_drive_server, tmp_path, key=key, shared_drives="all",
                            state=cursor, state_dir=state)
        listing = source.list_items()
        counts = dict(google_drive_server.requests.by_endpoint)
        counts.pop("token", None)
        return sorted(listing.items, key=lambda i: i.key), dict(listing.cursor), counts

    _first, cursor, full = listed({})
    assert cursor["snapshot"] and (state / "google_drive" / cursor["snapshot"]).is_file()
    notable, drive = seeded_google_drive.notable, google_drive_server.drive
    drive.modify(notable["empty_file"], b"plus vide du tout")
    drive.modify(notable["sheet"], export_size=9000)
    pv = next(f.id for f in drive.files.values() if f.name == "PV 2.pdf")
    drive.modify(pv, b"PV 2, version corrigee")
    drive.trash(notable["duplicate_b"])
    again, cursor2, incremental = listed(cursor)
    assert incremental.get("files.list", 0) == 0 and incremental["changes.list"] == 1
    assert incremental.get("permissions.list", 0) == 0  # the changed PV has its folder's
    assert sum(incremental.values()) == 1 and sum(full.values()) >= 7, (incremental, full)
    everything, _cursor, _counts = listed({})
    assert [(i.key, i.path, i.fingerprint, i.skip_reason, i.meta, i.data) for i in again] == \
        [(i.key, i.path, i.fingerprint, i.skip_reason, i.meta, i.data) for i in everything]
    assert notable["duplicate_b"] not in {i.key for i in again}
    assert cursor2["start_page_token"] != cursor["start_page_token"]


def test_a_token_drive_no_longer_accepts_means_a_full_listing(google_drive_server, tmp_path):
    google_drive_server.drive.add_file("a.txt", None, b"a")
    state = tmp_path / ".migrate"
    state.mkdir()
    key = google_drive_server.auth.create_service_account(google_drive_server.token_uri)
    cursor = dict(open_drive(google_drive_server, tmp_path, key=key, state_dir=state)
                  .list_items().cursor)
    google_drive_server.drive.add_file("b.txt", None, b"b")
    google_drive_server.drive.forget_changes()  # the feed no longer goes back that far
    google_drive_server.requests.reset()
    source = open_drive(google_drive_server, tmp_path, key=key, state=cursor, state_dir=state)
    assert sorted(i.path for i in source.list_items().items) == ["a.txt", "b.txt"]
    assert google_drive_server.requests.by_endpoint["files.list"] == 1


def sign_in(server, tmp_path: Path, answer=lambda landed: landed):
    """`migrate login`'s flow in process: the consent address is opened (the user accepts),
    and `answer(address the browser ended on)` is pasted back."""
    import urllib.parse

    import requests

    client = server.auth.create_oauth_client()
    connector = GoogleDriveConnector({**client, "api_endpoint": server.api_endpoint,
                                      "auth_uri": server.auth_uri,
                                      "token_uri": server.token_uri}, tmp_path)
    connector.connection = "drive"
    printed: list[str] = []

    def ask(_question: str) -> str:
        consent = next(line for line in printed if line.startswith(server.auth_uri))
        assert "code_challenge=" in consent and urllib.parse.parse_qs(
            urllib.parse.urlsplit(consent).query)["code_challenge_method"] == ["S256"]
        landed = requests.get(consent, allow_redirects=False, timeout=30).headers["Location"]
        return answer(landed)

    store = login_file(tmp_path, "drive")
    connector.login(store, ask, printed.append)
    return connector, store


def test_login_refuses_an_address_from_another_sign_in(google_drive_server, tmp_path):
    def forged(landed: str) -> str:
        return landed.replace("state=", "state=autre")

    with pytest.raises(MigrateError, match="does not come from this sign-in"):
        sign_in(google_drive_server, tmp_path, forged)
    assert not login_file(tmp_path, "drive").exists()


def test_login_sends_the_pkce_verifier_the_consent_challenged(google_drive_server, tmp_path):
    google_drive_server.drive.add_file("a.txt", None, b"a")
    connector, store = sign_in(google_drive_server, tmp_path)
    assert json.loads(store.read_text())["refresh_token"].startswith("1//")
    google_drive_server.auth.required = True
    source = connector.open_source("", StepContext("docs", "copy", {}, "p", tmp_path))
    assert [i.path for i in source.list_items().items] == ["a.txt"]


def test_drive_unticked_on_the_consent_page_is_said_plainly(google_drive_server, tmp_path):
    google_drive_server.auth.granted_scopes = "openid email"  # granular consent: Drive unticked
    with pytest.raises(MigrateError, match="Google Drive was not ticked"):
        sign_in(google_drive_server, tmp_path)
    assert not login_file(tmp_path, "drive").exists()


def test_a_saved_sign_in_without_drive_is_fatal_with_what_to_do(google_drive_server, tmp_path):
    """A sign-in stored earlier whose grant lacks Drive: every request would be 'refused';
    the first one stops the step, saying to sign in again and tick Drive."""
    google_drive_server.drive.add_file("a.txt", None, b"a")
    connector, _store = sign_in(google_drive_server, tmp_path)
    google_drive_server.auth.required = True
    google_drive_server.auth.granted_scopes = "openid"
    for token in google_drive_server.auth.tokens.values():
        token.scope = "openid"
    google_drive_server.auth._scopes = dict.fromkeys(google_drive_server.auth._scopes, "openid")
    source = connector.open_source("", StepContext("docs", "copy", {}, "p", tmp_path))
    with pytest.raises(FatalError, match="tick \"See and download all your Google Drive"):
        source.list_items()


def test_expired_refresh_token_says_testing_apps_expire_after_seven_days(google_drive_server,
                                                                         tmp_path):
    google_drive_server.drive.add_file("a.txt", None, b"a")
    connector, _store = sign_in(google_drive_server, tmp_path)
    google_drive_server.auth.required = True
    google_drive_server.auth.expire_refresh_tokens()  # a week later, app still in "Testing"
    source = connector.open_source("", StepContext("docs", "copy", {}, "p", tmp_path))
    with pytest.raises(FatalError) as caught:
        source.list_items()
    assert "invalid_grant" in str(caught.value) and "7 days" in str(caught.value)
    assert "'Testing'" in str(caught.value)


@pytest.mark.parametrize("status", [500, 503])
def test_exports_google_gives_up_on_come_through_export_links(google_drive_server, tmp_path,
                                                              status):
    """A large PDF export answers 500, a big sheet times out with 503: after those, the
    document comes through its exportLink (here spelt only the legacy ODS way), streamed."""
    google_drive_server.drive.legacy_ods_links = True
    sheet = google_drive_server.drive.add_google_doc("Budget", None, "sheet", export_size=40_000)
    source = open_drive(google_drive_server, tmp_path)
    item = by_path(source)["Budget.ods"]
    assert item.meta["export_link"].endswith("exportFormat=ods")
    google_drive_server.faults.inject(status=status, path_prefix=f"/files/{sheet.id}/export")
    with source.open(item) as stream:
        data = stream.read()
    assert data[30:38] == b"mimetype" and len(data) >= 40_000
    assert google_drive_server.requests.by_endpoint["exportLinks"] == 1


def test_apps_script_and_vids_are_exported(google_drive_server, tmp_path):
    drive = google_drive_server.drive
    drive.add_google_doc("Envoi des reçus", None, "script")
    vid = drive.add_google_doc("Présentation vidéo", None, "vid", export_size=300_000)
    drive.operation_polls = 2  # Drive makes us wait for the video
    items = by_path(open_drive(google_drive_server, tmp_path))
    assert set(items) == {"Envoi des reçus.json", "Présentation vidéo.mp4"}
    assert not any(i.skip_reason for i in items.values())
    source = open_drive(google_drive_server, tmp_path)
    with source.open(items["Envoi des reçus.json"]) as stream:
        assert json.loads(stream.read())["files"][0]["type"] == "server_js"
    with source.open(items["Présentation vidéo.mp4"]) as stream:
        assert len(stream.read()) == 300_000
    counts = google_drive_server.requests.by_endpoint
    assert counts["files.download"] == 1 and counts["operations.get"] == 3
    assert counts["downloadUri"] == 1 and vid.id


def test_an_incomplete_search_is_listed_again_then_stops_plainly(google_drive_server,
                                                                 tmp_path):
    drive = google_drive_server.drive
    drive.add_file("a.txt", None, b"a")
    bureau = drive.add_shared_drive("Bureau")
    drive.add_file("PV.pdf", bureau.id, b"pv")
    source = open_drive(google_drive_server, tmp_path, shared_drives="all")
    drive.incomplete_next = 1
    google_drive_server.requests.reset()
    assert {i.path for i in source.list_items().items} == {"a.txt", "Shared drives/Bureau/PV.pdf"}
    assert google_drive_server.requests.by_endpoint["files.list"] == 3  # user twice, drive once
    drive.incomplete_next = 3
    with pytest.raises(TransientError, match="incomplete"):
        source.list_items()


def test_pages_shorter_than_asked_are_followed_to_the_end(google_drive_server, tmp_path):
    for index in range(11):
        google_drive_server.drive.add_file(f"f{index:02}.txt", None, b"x")
    google_drive_server.drive.page_cap = 4  # Drive answers fewer than pageSize=1000
    items = open_drive(google_drive_server, tmp_path).list_items().items
    assert len(list(items)) == 11
    assert google_drive_server.requests.by_endpoint["files.list"] == 3


def test_a_cycle_of_parents_lands_under_orphans_instead_of_vanishing():
    from connectors.google_drive.listing import DriveListing, Scope

    listing = DriveListing(None, Scope(), "drive")  # type: ignore[arg-type]
    listing.roots["root"] = ""
    folder = "application/vnd.google-apps.folder"
    listing.files.update({
        "A": {"id": "A", "name": "A", "mimeType": folder, "parents": ["B"], "ownedByMe": True},
        "B": {"id": "B", "name": "B", "mimeType": folder, "parents": ["A"], "ownedByMe": True},
        "f": {"id": "f", "name": "f.txt", "mimeType": "text/plain", "parents": ["A"],
              "ownedByMe": True}})
    assert listing.in_scope() == {"A": "Orphans/B/A", "B": "Orphans/B", "f": "Orphans/B/A/f.txt"}


def test_an_organizer_may_acknowledge_abuse_a_reader_may_not(google_drive_server, tmp_path):
    drive = google_drive_server.drive
    managed, read_only = drive.add_shared_drive("Bureau"), drive.add_shared_drive("Fédé",
                                                                                   role="reader")
    for shared in (managed, read_only):
        drive.flag_abuse(drive.add_file("outil.exe", shared.id, b"MZ" + shared.id.encode()).id)
    source = open_drive(google_drive_server, tmp_path, shared_drives="all",
                        acknowledge_abuse=True)
    items = by_path(source)
    with source.open(items["Shared drives/Bureau/outil.exe"]) as stream:
        assert stream.read() == b"MZ" + managed.id.encode()
    with pytest.raises(SkipItem, match="neither"), \
            source.open(items["Shared drives/Fédé/outil.exe"]):
        pass


def test_a_change_to_a_shared_drive_itself_means_a_full_listing(google_drive_server, tmp_path):
    drive = google_drive_server.drive
    drive.add_file("a.txt", None, b"a")
    state = tmp_path / ".migrate"
    state.mkdir()
    key = google_drive_server.auth.create_service_account(google_drive_server.token_uri)
    cursor = dict(open_drive(google_drive_server, tmp_path, key=key, shared_drives="all",
                             state_dir=state).list_items().cursor)
    newcomer = drive.add_shared_drive("Nouveau")  # a drive change in the feed
    drive.add_file("b.txt", newcomer.id, b"b")
    google_drive_server.requests.reset()
    source = open_drive(google_drive_server, tmp_path, key=key, shared_drives="all",
                        state=cursor, state_dir=state)
    assert sorted(i.path for i in source.list_items().items) == [
        "Shared drives/Nouveau/b.txt", "a.txt"]
    assert google_drive_server.requests.by_endpoint["files.list"] == 2


def test_a_folder_shared_anew_reaches_its_files_on_a_rerun(google_drive_server, tmp_path):
    """Sharing a shared-drive folder changes the folder only in the feed; the files inside,
    which have the folder's grants, carry the new one too on the re-run."""
    drive = google_drive_server.drive
    bureau = drive.add_shared_drive("Bureau")
    minutes = drive.add_folder("2024", drive.add_folder("CR", bureau.id).id)
    drive.add_file("janvier.txt", minutes.id, b"j")
    state = tmp_path / ".migrate"
    state.mkdir()
    key = google_drive_server.auth.create_service_account(google_drive_server.token_uri)

    def grants(cursor: dict) -> tuple[list, dict]:
        listing = open_drive(google_drive_server, tmp_path, key=key, shared_drives="all",
                             state=cursor, state_dir=state).list_items()
        file = next(i for i in listing.items if i.path.endswith("janvier.txt"))
        return file.data.permissions, dict(listing.cursor)

    _before, cursor = grants({})
    drive.add_permission(minutes.id, "user", "reader", email_address="claire@ailleurs.org")
    google_drive_server.requests.reset()
    after, _cursor = grants(cursor)
    assert google_drive_server.requests.by_endpoint["changes.list"] == 1
    assert google_drive_server.requests.by_endpoint.get("files.list", 0) == 0
    assert any(g["email"] == "claire@ailleurs.org" for g in after)
    assert after == grants({})[0]
