"""File-based member sources (Mailchimp export zip, Google Groups export, any CSV) read sample
exports made here in every variant people send: UTF-8, BOM, cp1252 with `;`, tabs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.csv import CsvConnector
from connectors.google_groups_export import GoogleGroupsExportConnector
from connectors.mailchimp_export import MailchimpExportConnector
from migrate.connector import Source, StepContext
from migrate.consent import address_key, apply_consent
from migrate.errors import FatalError
from sandbox.samples_mailing import (
    gdpr_export_members,
    mailchimp_export_files,
    sample_members,
    write_google_groups_export,
    write_mailchimp_export,
    write_members_csv,
)
from tests.conformance.source_suite import SourceSuite

STEP = StepContext("lettre", "export", {"pending": "unconfirmed"}, "p", Path("."))
CSV_COLUMNS = {"email": "Courriel", "first_name": "Prénom", "last_name": "Nom",
               "status": "Statut", "tags": "Groupes", "optin_time": "Inscrit le",
               "optin_ip": "IP"}
CSV_STATUSES = {"abonné": "subscribed", "désabonné": "unsubscribed", "NPAI": "cleaned",
                "en attente": "pending"}


def by_key(source: Source) -> dict[str, Any]:
    return {item.key: item for item in source.list_items().items}


def expected_members() -> dict[str, None]:
    return {address_key(m.email): None for m in sample_members()[:10]}


def mailchimp_export(folder: Path) -> Source:
    path = write_mailchimp_export(folder / "export.zip")
    return MailchimpExportConnector({"path": str(path)}, folder).open_source("", STEP)


def csv_source(folder: Path, file_encoding: str = "utf-8", separator: str = ",",
               bom: bool = False, **options: Any) -> Source:
    path = write_members_csv(folder / "adherents.csv", encoding=file_encoding,
                             delimiter=separator, bom=bom)
    config = {"path": path.name, "columns": CSV_COLUMNS, "statuses": CSV_STATUSES,
              "tag_separator": "|", **options}
    return CsvConnector(config, folder).open_source("", STEP)


class TestMailchimpExportSource(SourceSuite):
    connector = "mailchimp_export"

    @pytest.fixture
    def source(self, tmp_path: Path) -> Source:
        return mailchimp_export(tmp_path)

    @pytest.fixture
    def expected(self) -> dict[str, None]:
        return {k: v for k, v in expected_members().items() if "pending" not in k}


class TestGoogleGroupsExportSource(SourceSuite):
    connector = "google_groups_export"

    @pytest.fixture
    def source(self, tmp_path: Path) -> Source:
        members, banned = write_google_groups_export(tmp_path)
        return GoogleGroupsExportConnector({"path": str(members), "banned_path": str(banned)},
                                           tmp_path).open_source("", STEP)

    @pytest.fixture
    def expected(self) -> dict[str, None]:
        return expected_members()


class TestCsvSource(SourceSuite):
    connector = "csv"

    @pytest.fixture
    def source(self, tmp_path: Path) -> Source:
        return csv_source(tmp_path, "cp1252", ";")

    @pytest.fixture
    def expected(self) -> dict[str, None]:
        return expected_members()


def test_mailchimp_export_status_comes_from_the_file_name(tmp_path: Path) -> None:
    listing = mailchimp_export(tmp_path).list_items()
    items = {i.key: i for i in listing.items}
    statuses = {m.status for m in sample_members()}
    seen = {i.data.source_status for i in items.values()}
    assert {"subscribed", "unsubscribed", "cleaned", "transactional"} <= seen <= statuses
    helene = items[address_key(sample_members()[0].email)]
    assert helene.data.tags == ["Bénévoles, Festival"]
    assert helene.data.fields["Ville"] == "Saint-Étienne"
    idn = items["élodie@xn--caf-associatif-dkb.example"]
    assert idn.data.consent["optin_ip"] == "198.51.100.4"
    assert idn.data.tags == ["Bénévoles, Festival", "VIP"]
    unsubscribed = next(i for i in items.values() if i.data.source_status == "unsubscribed")
    assert "Trop de messages" in unsubscribed.data.consent["unsubscribe_reason"]


def test_case_duplicate_of_an_unsubscribe_stays_suppressed_and_counts_add_up(
        tmp_path: Path) -> None:
    listing = mailchimp_export(tmp_path).list_items()
    gone = next(m for m in sample_members() if m.status == "unsubscribed")
    items = list(listing.items)
    merged = next(i for i in items if i.key == address_key(gone.email))
    assert merged.data.status == "unsubscribed" and "VIP" in merged.data.tags
    invalid = [i for i in items if i.skip_reason and "contact@asso" in i.skip_reason]
    assert invalid and "subscribed_email_audience_export_5f3a1c.csv line" in invalid[0].skip_reason
    result = apply_consent({"s": (items, listing.tally)}, {})
    assert not result.problems()
    assert sum(row["merged"] or 0 for row in result.reconciliations["s"].rows.values()) == 1


def _export_keys(path: Path) -> dict[str, str]:
    source = MailchimpExportConnector({"path": str(path)}, path.parent).open_source("", STEP)
    return {i.key: i.data.source_status for i in source.list_items().items
            if not i.key.startswith("invalid:")}


def test_every_export_naming_mailchimp_has_used_reads_the_same_members(tmp_path: Path) -> None:
    today = _export_keys(write_mailchimp_export(tmp_path / "today.zip"))
    assert set(today.values()) >= {"subscribed", "unsubscribed", "cleaned", "transactional"}
    assert _export_keys(write_mailchimp_export(tmp_path / "old.zip", layout="members")) == today
    # Older still (`subscribed_export_<id>.csv`), and files renamed by hand, unzipped.
    folder = tmp_path / "unzipped"
    folder.mkdir()
    for name, data in mailchimp_export_files(sample_members()).items():
        kind = name.split("_", 1)[0]
        (folder / f"{kind}_export_5f3a1c.csv").write_bytes(data)
    assert _export_keys(folder) == today
    for path in folder.glob("*.csv"):
        path.rename(path.with_name(path.name.replace("_export_", " Email Audience Export ")
                                   .title().replace(".Csv", ".csv")))
    assert _export_keys(folder) == today


def test_gdpr_permissions_bulk_imports_and_timestamps_in_ip_columns(tmp_path: Path) -> None:
    from connectors.mailing.members import has_optin_evidence

    path = write_mailchimp_export(tmp_path / "gdpr.zip", gdpr_export_members())
    listing = MailchimpExportConnector({"path": str(path)}, tmp_path).open_source(
        "", STEP).list_items()
    items = {i.key: i for i in listing.items}
    refused = items["sans.permission@jardin-partage.example"]
    assert refused.data.consent["email_permission"] == "refused"
    assert "Email" in refused.data.consent["permissions_refused"]
    assert "Email" not in refused.data.fields  # a permission, not a merge field
    for key in ("sans.permission@jardin-partage.example", "import.groupe@jardin-partage.example",
                "via.integration@jardin-partage.example", "ip.horodatee@jardin-partage.example"):
        assert items[key].data.status == "subscribed" and not has_optin_evidence(
            items[key].data.consent), key
    documented = items["élodie@xn--caf-associatif-dkb.example"]
    assert has_optin_evidence(documented.data.consent)
    assert documented.data.consent["permissions"] == ["Email", "Direct Mail",
                                                         "Customized Online Advertising"]
    assert documented.data.last_changed and "LAST_CHANGED" not in documented.data.fields
    gone = next(i for i in items.values() if i.data.source_status == "unsubscribed")
    assert gone.data.consent["unsubscribe_time"] == "2023-06-01T09:00:00+00:00"
    assert not any(k.startswith("UNSUB_") for k in gone.data.fields)
    result = apply_consent({"s": (list(listing.items), listing.tally)}, {})
    rec = result.reconciliations["s"]
    assert not rec.problems
    assert rec.groups["no_email_permission"] == 1
    assert rec.groups["import_address"] == 3
    assert rec.rows["transactional"]["dropped"] == rec.rows["transactional"]["source"] > 0
    assert any("without the e-mail marketing permission" in n for n in rec.notes)
    dropped = MailchimpExportConnector({"path": str(path)}, tmp_path).open_source(
        "", StepContext("s", "export", {"undocumented": "drop"}, "p", Path("."))).list_items()
    why = {i.key: i.skip_reason for i in dropped.items}
    assert "e-mail marketing permission" in why["sans.permission@jardin-partage.example"]
    assert "loopback, private or malformed" in why["import.groupe@jardin-partage.example"]


def test_a_corrupt_zip_is_a_plain_message_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "audience.zip"
    broken.write_bytes(write_mailchimp_export(tmp_path / "ok.zip").read_bytes()[:300])
    source = MailchimpExportConnector({"path": "audience.zip"}, tmp_path).open_source("", STEP)
    with pytest.raises(FatalError, match=r"audience\.zip.*not a complete zip"):
        source.list_items()


@pytest.mark.parametrize(("encoding", "delimiter", "bom"), [
    ("utf-8", ",", False), ("utf-8", ",", True), ("cp1252", ";", False), ("utf-8", "\t", False),
])
def test_csv_variants_read_the_same_members(tmp_path: Path, encoding: str, delimiter: str,
                                            bom: bool) -> None:
    items = by_key(csv_source(tmp_path, encoding, delimiter, bom))
    reference = by_key(csv_source(tmp_path / "ref"))
    assert set(items) == set(reference)
    first = sample_members()[0]
    helene = items[address_key(first.email)]
    assert helene.data.name == "Hélène Lefèvre"
    assert helene.data.tags == ["Bénévoles, Festival"]  # a comma inside a quoted cell
    assert {i.data.status for i in items.values()} >= {"subscribed", "unsubscribed",
                                                          "cleaned", "pending"}


def test_csv_options_override_detection(tmp_path: Path) -> None:
    forced = csv_source(tmp_path, "cp1252", ";", encoding="cp1252", delimiter=";")
    assert "Hélène Lefèvre" in {i.data.name for i in forced.list_items().items}
    wrong = csv_source(tmp_path / "w", "cp1252", ";", delimiter=",")
    with pytest.raises(FatalError, match="no column 'Courriel'"):
        wrong.list_items()


def test_csv_unknown_status_is_refused(tmp_path: Path) -> None:
    source = csv_source(tmp_path, statuses={"abonné": "subscribed"})
    with pytest.raises(FatalError, match="unknown status 'désabonné'"):
        source.list_items()


def test_google_groups_statuses_and_bans(tmp_path: Path) -> None:
    members, banned = write_google_groups_export(tmp_path, encoding="cp1252")
    source = GoogleGroupsExportConnector({"path": str(members), "banned_path": str(banned)},
                                         tmp_path).open_source("", STEP)
    items = list(source.list_items().items)
    by_status: dict[str, int] = {}
    for item in items:
        by_status[item.data.status] = by_status.get(item.data.status, 0) + 1
    assert {"subscribed", "unsubscribed", "cleaned", "pending", "banned"} <= set(by_status)
    assert all(not i.data.consent.get("optin_ip") for i in items)
    assert not any(i.key.startswith("membres du groupe") for i in items)
