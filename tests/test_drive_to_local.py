"""The seeded demo Drive (~1,000 items) copied into a local folder by the real `migrate` command:
every skip listed with its reason, the 12 MB doc exported, a re-run with nothing to do, and
only three changed files copied again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.google_drive.seed import seed_demo_drive
from tests.helpers import migrate

pytestmark = pytest.mark.slow


def write_drive_plan(folder: Path, server) -> Path:
    key = server.auth.create_service_account(server.token_uri)
    (folder / "google-key.json").write_text(json.dumps(key), encoding="utf-8")
    server.auth.required = True
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\n"
        "organisation: Association des Essais\n"
        "connections:\n"
        "  drive: {type: google_drive, credentials: \"${file:google-key.json}\",\n"
        f"          subject: comm@asso-exemple.fr, api_endpoint: \"{server.api_endpoint}\"}}\n"
        "  here: {type: local, path: copie}\n"
        "steps:\n"
        "  - id: documents\n"
        "    copy: {from: \"drive:/Communication\", to: here}\n", encoding="utf-8")
    return plan


def test_demo_drive_planned_applied_and_resumed(google_drive_server, tmp_path: Path) -> None:
    seeded = seed_demo_drive(google_drive_server.drive, items=1000, rng_seed=7)
    plan = write_drive_plan(tmp_path, google_drive_server)

    dry = migrate("plan", plan, "--json")
    assert dry.returncode == 0, dry.stderr
    changes = json.loads(dry.stdout)
    rows = changes["changes"]
    skips = {c["source_path"]: c["reason"] for c in rows if c["action"] == "skip"}
    assert skips["Inscription atelier"].startswith("Google Forms have no file equivalent")
    assert "copied already" in skips["Raccourci statuts"]
    assert "no longer exists" in skips["Raccourci cassé"]
    assert {c["source_key"] for c in rows if c["source_path"] == "Budget.xlsx"} == {
        seeded.notable["duplicate_a"], seeded.notable["duplicate_b"]}
    assert not (tmp_path / "copie").exists()

    applied = migrate("apply", plan, "--yes")
    assert applied.returncode == 3, applied.stdout + applied.stderr  # the duplicate: a conflict
    copy = tmp_path / "copie"
    big = copy / "Rapport annuel complet.odt"
    assert big.stat().st_size > 10 * 1024 * 1024
    assert (copy / "Bilan 2023∕2024.pdf").is_file() and (copy / "Raccourci charte.pdf").is_file()
    assert google_drive_server.requests.by_endpoint["exportLinks"] == 1

    again = migrate("plan", plan, "--detailed-exitcode", "--json")
    assert again.returncode == 0, again.stdout
    assert json.loads(again.stdout)["summary"]["create"] == 0

    drive = google_drive_server.drive
    created = [c for c in rows if c["action"] == "create"]
    media = [c for c in created if drive.get(c["source_key"]).content is not None
             and drive.get(c["source_key"]).content.size > 0][:2]
    for row in media:
        drive.modify(row["source_key"], b"nouvelle version " + row["source_key"].encode())
    doc = next(c for c in created if c["target_path"].endswith(".ods"))
    drive.modify(doc["source_key"], export_size=9_000)
    google_drive_server.requests.reset()
    third = migrate("apply", plan, "--yes", "--json")
    summary = json.loads(third.stdout)
    assert summary["summary"]["update"] == 3, third.stdout[-2000:]
    downloads = google_drive_server.requests.by_endpoint
    assert downloads["files.get_media"] + downloads["files.export"] == 3
    assert (copy / media[0]["target_path"]).read_bytes().startswith(b"nouvelle version")
