"""One audience (every status, a case-duplicate of an unsubscribe, an IDN domain, an invalid
address) through EVERY member target by the real command: nobody suppressed ends subscribed,
and the counts reconcile. A new member target adds one entry to TARGETS."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import quote

import pytest

from migrate.consent import SUPPRESSING, InvalidAddressError, address_key
from sandbox.listmonk import ListmonkServer
from sandbox.mailman import MailmanServer
from sandbox.samples_mailing import (
    gdpr_export_members,
    sample_members,
    write_mailchimp_export,
)
from tests.helpers import migrate

#: name → (connection YAML, location, environment, state of an address: subscribed or not)
Setup = tuple[str, str, dict[str, str], Callable[[str], bool]]


@pytest.fixture
def listmonk_setup() -> Iterator[Setup]:
    with ListmonkServer() as server:
        def subscribed(email: str) -> bool:
            record = server.subscriber(email)
            return bool(record) and record["status"] != "blocklisted" and any(
                entry["subscription_status"] != "unsubscribed" for entry in record["lists"])
        yield (f"{{type: listmonk, url: '{server.url}', user: {server.api_user}, "
               "token: '${env:TARGET_SECRET}'}", "Lettre", {"TARGET_SECRET": server.token},
               subscribed)


@pytest.fixture
def mailman3_setup(mailman_server: MailmanServer) -> Setup:
    info, fqdn = mailman_server.describe(), f"tous-{uuid.uuid4().hex[:8]}@example.org"
    list_id = fqdn.replace("@", ".")

    def subscribed(email: str) -> bool:
        try:
            found = mailman_server.request(
                "GET", f"/lists/{list_id}/member/{quote(email.lower())}")
        except HTTPError:
            found = None
        pending = mailman_server.request(
            "GET", f"/lists/{list_id}/requests").get("entries", [])  # absent when none
        return bool(found) or any(r["email"] == email.lower() for r in pending)
    return (f"{{type: mailman3, url: '{info['url']}', user: {info['user']}, "
            "password: '${env:TARGET_SECRET}'}", fqdn,
            {"TARGET_SECRET": info["password"]}, subscribed)


def _file_setup(kind: str, folder: Path, people: Callable[[Path], set[str]]) -> Setup:
    return (f"{{type: {kind}, path: '{folder}'}}", "Lettre", {},
            lambda email: email.casefold() in people(folder))


def _csv_people(path: Path) -> set[str]:
    if not path.exists():
        return set()
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    return {row["email"].casefold() for row in rows}


@pytest.fixture
def csv_setup(tmp_path: Path) -> Setup:
    return _file_setup("csv", tmp_path / "csv-out", lambda d: _csv_people(d / "Lettre.csv"))


@pytest.fixture
def vcard_setup(tmp_path: Path) -> Setup:
    def people(folder: Path) -> set[str]:
        path = folder / "Lettre.vcf"
        text = path.read_bytes().decode().replace("\r\n ", "") if path.exists() else ""
        return {line.split(":", 1)[1].casefold() for line in text.splitlines()
                if line.startswith("EMAIL")}
    return _file_setup("vcard", tmp_path / "vcard-out", people)


@pytest.fixture
def mailpoet_setup(tmp_path: Path) -> Setup:
    def people(folder: Path) -> set[str]:
        files = [p for p in folder.glob("Lettre.mailpoet-*.csv")
                 if not p.stem.endswith("-unsubscribed")]
        return set().union(*(_csv_people(p) for p in files)) if files else set()
    return _file_setup("mailpoet", tmp_path / "mailpoet-out", people)


@pytest.fixture
def listmonk_csv_setup(tmp_path: Path) -> Setup:
    def people(folder: Path) -> set[str]:
        files = [p for p in folder.glob("Lettre.listmonk-*.csv")
                 if not p.stem.endswith("-blocklist")]
        return set().union(*(_csv_people(p) for p in files)) if files else set()
    return _file_setup("listmonk_csv", tmp_path / "listmonk-out", people)


TARGETS = ["listmonk_setup", "mailman3_setup", "csv_setup", "vcard_setup", "mailpoet_setup",
           "listmonk_csv_setup"]


@pytest.mark.parametrize("setup_name", TARGETS)
def test_no_suppressed_address_is_subscribed_anywhere(tmp_path: Path, setup_name: str,
                                                      request: pytest.FixtureRequest) -> None:
    connection, location, env, subscribed = request.getfixturevalue(setup_name)
    write_mailchimp_export(tmp_path / "export.zip")
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    f"export.zip}}\n  target: {connection}\nsteps:\n  - id: lettre\n    "
                    f"export: {{from: audience, to: 'target:{location}'}}\n", encoding="utf-8")
    applied = migrate("apply", plan, "--yes", env=env)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    members = sample_members()
    suppressed = {address_key(m.email) for m in members if m.status in SUPPRESSING}
    for m in members:
        try:
            key = address_key(m.email)
        except InvalidAddressError:
            continue
        if key in suppressed:
            assert not subscribed(m.email), m.email  # every spelling, case variants included
    ours = [m for m in members if m.status == "subscribed" and m.optin_ip]
    # Mailman refuses accents before the '@' (the item is skipped with that reason); MailPoet's
    # files keep the domain in punycode, as MailPoet stores it.
    expected = [m for m in ours if address_key(m.email) not in suppressed
                and (m.email.split("@")[0].isascii() or setup_name != "mailman3_setup")]
    if setup_name == "mailpoet_setup":
        expected = [m for m in expected if m.email.isascii()]
    assert expected and all(subscribed(m.email) for m in expected)
    report = json.loads(migrate("report", plan, "--json").stdout)
    assert not report["reconciliations"]["lettre"]["problems"]


@pytest.mark.parametrize("setup_name", TARGETS)
def test_current_gdpr_export_subscribes_only_documented_people_who_granted_email(
        tmp_path: Path, setup_name: str, request: pytest.FixtureRequest) -> None:
    """Today's export zip (four status files, GDPR permission columns, bulk-import rows with
    127.0.0.1 and a private address, a CONFIRM_IP holding a timestamp), asked to drop the
    undocumented: none of them, no nonsubscribed contact and nobody suppressed is mailable."""
    connection, location, env, subscribed = request.getfixturevalue(setup_name)
    members = gdpr_export_members()
    write_mailchimp_export(tmp_path / "export.zip", members)
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nconnections:\n  audience: {type: mailchimp_export, path: "
                    f"export.zip}}\n  target: {connection}\nsteps:\n  - id: lettre\n    "
                    f"export: {{from: audience, to: 'target:{location}'}}\n"
                    "    with: {undocumented: drop}\n", encoding="utf-8")
    applied = migrate("apply", plan, "--yes", env=env)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    suppressed = {address_key(m.email) for m in members if m.status in SUPPRESSING}
    never = [m for m in members if m.status in ("transactional", "pending")
             or (m.status == "subscribed" and not m.optin_ip)
             or m.optin_ip in ("127.0.0.1", "10.1.2.3") or not m.permissions.get("Email")]
    assert {"sans.permission@jardin-partage.example", "import.groupe@jardin-partage.example",
            "ip.horodatee@jardin-partage.example"} <= {m.email for m in never}
    for m in never:
        assert not subscribed(m.email), m.email
    documented = [m for m in members if m.status == "subscribed" and m not in never
                  and address_key(m.email) not in suppressed and m.email.isascii()]
    assert documented and all(subscribed(m.email) for m in documented)
    report = json.loads(migrate("report", plan, "--json").stdout)["reconciliations"]["lettre"]
    assert not report["problems"]
    assert report["groups"]["no_email_permission"] == 1
    assert report["groups"]["import_address"] == 3
    nonsubscribed = sum(1 for m in members if m.status in ("transactional", "pending"))
    assert report["rows"]["transactional"] == {"source": nonsubscribed, "imported": 0,
                                               "suppressed": 0, "dropped": nonsubscribed,
                                               "merged": 0}
    assert report["groups"]["nonsubscribed"] == nonsubscribed
    notes = " ".join(report["notes"])
    assert "1 subscribed without the e-mail marketing permission" in notes
    assert "3 subscribed whose opt-in address is 127.0.0.1, private or malformed" in notes
