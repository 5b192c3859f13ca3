"""Consent as Mailchimp records it, through the real command and real targets: an archived
contact who had unsubscribed stays suppressed in every step of a plan, and one member's
evidence reads the same whether it comes from the API or from the export."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest

from migrate.consent import address_hash
from sandbox.listmonk import ListmonkServer
from sandbox.mailchimp import MailchimpServer
from sandbox.mailman import MailmanServer
from sandbox.samples_mailing import SampleMember, write_mailchimp_export
from tests.helpers import migrate
from tests.journal_state import step_values

GONE = "Partie.Sans.Retour@Jardin-Partage.example"
STAYS = "reste@jardin-partage.example"
REFUSED = "sans.email@jardin-partage.example"
EVIDENCE = {"optin_time": "2021-03-04T10:00:00+00:00", "optin_ip": "203.0.113.7",
            "confirm_time": "2021-03-04T10:05:00+00:00", "confirm_ip": "198.51.100.8"}


@pytest.fixture
def mailchimp() -> Iterator[MailchimpServer]:
    """An audience with GDPR fields: one archived contact (it had unsubscribed before; the API
    shows only 'archived'), one documented subscriber who granted every permission."""
    with MailchimpServer() as server:
        store = server.store
        audience = store.add_audience("Lettre")
        for text in ("Email", "Direct Mail"):
            store.add_permission(audience, text)
        store.add_member(audience, GONE, status="archived", unsubscribe_reason="Trop de mails",
                         timestamp_signup="2020-01-02T10:00:00+00:00", ip_signup="203.0.113.1",
                         last_changed="2024-06-01T12:00:00+00:00")
        store.add_member(audience, "Marie.Curie@jardin-partage.example", status="subscribed",
                         merge_fields={"FNAME": "Marie", "LNAME": "Curie"}, vip=True,
                         timestamp_signup=EVIDENCE["optin_time"], ip_signup=EVIDENCE["optin_ip"],
                         timestamp_opt=EVIDENCE["confirm_time"], ip_opt=EVIDENCE["confirm_ip"],
                         marketing_permissions=[{**p, "enabled": True}
                                                for p in audience.permissions],
                         last_changed="2024-01-10T12:00:00+00:00")
        store.add_member(audience, REFUSED, status="subscribed",
                         timestamp_signup=EVIDENCE["optin_time"], ip_signup="203.0.113.30",
                         marketing_permissions=[{**p, "enabled": p["text"] != "Email"}
                                                for p in audience.permissions])
        yield server


def _people(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    return {row["email"].casefold(): row for row in rows}


# -- an archived unsubscribe, and the same address in a CSV step ----------------------------


def _file_people(folder: Path, pattern: str, left_out: tuple[str, ...]) -> set[str]:
    """Addresses in the files of people to mail (not the blocklist or do-not-contact ones)."""
    found: set[str] = set()
    for path in folder.glob(pattern):
        if path.stem.endswith(left_out):
            continue
        if path.suffix == ".vcf":
            text = path.read_bytes().decode().replace("\r\n ", "")
            found |= {line.split(":", 1)[1].casefold() for line in text.splitlines()
                      if line.startswith("EMAIL")}
        else:
            found |= set(_people(path))
    return found


Subscribed = Callable[[str, str], bool]


def _target(kind: str, folder: Path, listmonk: ListmonkServer,
            mailman: MailmanServer | None) -> tuple[str, dict[str, str], Subscribed, str]:
    """(connection, environment, subscribed(email, list), a suffix making list names unique)."""
    if kind == "listmonk":
        def in_listmonk(email: str, name: str) -> bool:
            record = listmonk.subscriber(email)
            return bool(record) and record["status"] != "blocklisted" and any(
                e["name"] == name and e["subscription_status"] != "unsubscribed"
                for e in record["lists"])
        return (f"{{type: listmonk, url: '{listmonk.url}', user: {listmonk.api_user}, "
                "token: '${env:LM_TOKEN}'}", {"LM_TOKEN": listmonk.token}, in_listmonk, "")
    if kind == "mailman3":
        assert mailman is not None
        info = mailman.describe()

        def in_mailman(email: str, fqdn: str) -> bool:
            list_id = fqdn.replace("@", ".")
            try:
                found = mailman.request("GET", f"/lists/{list_id}/member/{email.lower()}")
            except HTTPError:
                found = None
            waiting = mailman.request("GET", f"/lists/{list_id}/requests").get("entries", [])
            return bool(found) or any(r["email"] == email.lower() for r in waiting)
        return (f"{{type: mailman3, url: '{info['url']}', user: {info['user']}, "
                "password: '${env:MM_PASSWORD}'}", {"MM_PASSWORD": info["password"]},
                in_mailman, f"-{uuid.uuid4().hex[:8]}@example.org")
    left_out = {"mailpoet": ("-unsubscribed",), "listmonk_csv": ("-blocklist",)}.get(kind, ())
    suffix = {"csv": ".csv", "vcard": ".vcf"}.get(kind, ".*.csv")
    return (f"{{type: {kind}, path: out}}", {},
            lambda email, name: email.casefold() in _file_people(folder / "out",
                                                                 name + suffix, left_out), "")


MEMBER_TARGETS = ["csv", "vcard", "mailpoet", "listmonk_csv", "listmonk", "mailman3"]


@pytest.mark.parametrize("target", MEMBER_TARGETS)
def test_an_archived_unsubscribe_is_subscribed_by_no_step(
        tmp_path: Path, target: str, mailchimp: MailchimpServer,
        request: pytest.FixtureRequest) -> None:
    """The API shows an archived contact (it had unsubscribed), and a CSV step of the same plan
    holds the address as subscribed: neither step subscribes it, in any target. The API step
    drops the undocumented, so a subscriber who refused the e-mail permission is absent too."""
    mailman = request.getfixturevalue("mailman_server") if target == "mailman3" else None
    (tmp_path / "adherents.csv").write_text(
        "email,optin_time,optin_ip\n"
        f"{GONE.lower()},2021-02-03 10:00:00,203.0.113.20\n"
        f"{STAYS},2025-01-02 10:00:00,203.0.113.21\n", encoding="utf-8")
    with ListmonkServer() as listmonk:
        connection, env, subscribed, suffix = _target(target, tmp_path, listmonk, mailman)
        lettre, adherents = ("lettre" + suffix, "adherents" + suffix) if suffix else (
            "Lettre", "Adherents")
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            "version: 1\nconnections:\n"
            f"  mc: {{type: mailchimp, api_key: '${{env:MC_KEY}}', url: '{mailchimp.url}'}}\n"
            "  adherents: {type: csv, path: adherents.csv, columns: {email: email, "
            "optin_time: optin_time, optin_ip: optin_ip}}\n"
            f"  target: {connection}\nsteps:\n"
            f"  - id: audience\n    export: {{from: 'mc:Lettre', to: 'target:{lettre}'}}\n"
            "    with: {undocumented: drop}\n"
            f"  - id: adherents\n    export: {{from: adherents, to: 'target:{adherents}'}}\n",
            encoding="utf-8")
        applied = migrate("apply", plan, "--yes", env={"MC_KEY": mailchimp.api_key, **env})
        assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
        for where in (lettre, adherents):
            assert not subscribed(GONE, where), where
            assert not subscribed(REFUSED, where), where
        assert subscribed(STAYS, adherents)
        assert subscribed("marie.curie@jardin-partage.example", lettre)
        if target == "listmonk":
            assert listmonk.subscriber(GONE)["status"] == "blocklisted"
    if target in ("csv", "vcard"):
        blocked = next((tmp_path / "out").glob("Lettre*do-not-contact.csv")).read_text(
            encoding="utf-8-sig")
        assert address_hash(GONE.casefold()) in blocked
    recs = json.loads(migrate("report", plan, "--json").stdout)["reconciliations"]
    assert recs["audience"]["groups"]["archived_suppressed"] == 1
    assert recs["audience"]["groups"]["no_email_permission"] == 1
    assert recs["audience"]["rows"]["archived"]["suppressed"] == 1
    assert recs["adherents"]["rows"]["subscribed"]["suppressed"] == 1
    assert not recs["audience"]["problems"] and not recs["adherents"]["problems"]


# -- one member's evidence, from the API and from the export, in every target ---------------


def _export(folder: Path) -> Path:
    member = SampleMember("Marie.Curie@jardin-partage.example", "Marie", "Curie", "subscribed",
                          (), "2021-03-04 10:00:00", EVIDENCE["optin_ip"],
                          permissions={"Email": True, "Direct Mail": True},
                          confirm=("2021-03-04 10:05:00", EVIDENCE["confirm_ip"]))
    return write_mailchimp_export(folder / "export.zip", [member])


def _csv_evidence(folder: Path, _where: Any) -> dict[str, str]:
    row = _people(folder / "out" / "Lettre.csv")["marie.curie@jardin-partage.example"]
    return {k: row[k] for k in (*EVIDENCE, "email_permission", "marketing_permissions",
                                "status")}


def _vcard_evidence(folder: Path, _where: Any) -> dict[str, str]:
    text = (folder / "out" / "Lettre.vcf").read_bytes().decode().replace("\r\n ", "")
    card = next(c for c in text.split("BEGIN:VCARD") if "marie.curie@" in c.casefold())
    # X-CONSENT-SOURCE says which source it came through: the one line that differs.
    return dict(line.split(":", 1) for line in card.splitlines()
                if line.startswith(("X-CONSENT-", "EMAIL"))
                and not line.startswith("X-CONSENT-SOURCE"))


def _mailpoet_evidence(folder: Path, _where: Any) -> dict[str, str]:
    path = next((folder / "out").glob("Lettre.mailpoet-*-subscribed.csv"))
    row = _people(path)["marie.curie@jardin-partage.example"]
    return {k: row[k] for k in ("subscribed_ip", "created_at", "confirmed_ip", "confirmed_at",
                                "email_permission", "marketing_permissions")}


def _listmonk_evidence(_folder: Path, server: ListmonkServer) -> dict[str, Any]:
    record = server.subscriber("marie.curie@jardin-partage.example")
    assert record is not None
    consent = dict(record["attribs"]["consent"])
    consent.pop("source")  # says which source: "Mailchimp export" or the API's own word
    return {"consent": consent, "status": [e["subscription_status"] for e in record["lists"]]}


def _mailman_evidence(folder: Path, _where: Any) -> dict[str, Any]:
    journal = next((folder / ".migrate").glob("*.journal.sqlite"))
    records = step_values(journal, "lettre", "member:")  # the step's own state (decision 0838)
    consent = records["marie.curie@jardin-partage.example"]["consent"]
    consent.pop("source")
    return consent


def _run(folder: Path, source: str, target: str, mailchimp: MailchimpServer,
         listmonk: ListmonkServer, mailman: MailmanServer | None) -> None:
    folder.mkdir()
    env = {"MC_KEY": mailchimp.api_key, "LM_TOKEN": listmonk.token}
    location = "Lettre"
    if source == "api":
        origin = f"{{type: mailchimp, api_key: '${{env:MC_KEY}}', url: '{mailchimp.url}'}}"
        where = "mc:Lettre"
    else:
        origin = f"{{type: mailchimp_export, path: '{_export(folder)}'}}"
        where = "mc"
    if target == "listmonk":
        connection = (f"{{type: listmonk, url: '{listmonk.url}', user: {listmonk.api_user}, "
                      "token: '${env:LM_TOKEN}'}")
    elif target == "mailman3":
        assert mailman is not None
        info = mailman.describe()
        connection = (f"{{type: mailman3, url: '{info['url']}', user: {info['user']}, "
                      "password: '${env:MM_PASSWORD}'}")
        env["MM_PASSWORD"] = info["password"]
        location = f"lettre-{uuid.uuid4().hex[:8]}@example.org"
    else:
        connection = f"{{type: {target}, path: out}}"
    plan = folder / "plan.yaml"
    plan.write_text(f"version: 1\nconnections:\n  mc: {origin}\n  target: {connection}\n"
                    f"steps:\n  - id: lettre\n    export: {{from: '{where}', "
                    f"to: 'target:{location}'}}\n", encoding="utf-8")
    applied = migrate("apply", plan, "--yes", env=env)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]


READERS = {"csv": _csv_evidence, "vcard": _vcard_evidence, "mailpoet": _mailpoet_evidence,
           "listmonk": _listmonk_evidence, "mailman3": _mailman_evidence}


@pytest.mark.parametrize("target", list(READERS))
def test_one_members_evidence_lands_the_same_from_the_api_and_the_export(
        tmp_path: Path, target: str, mailchimp: MailchimpServer,
        request: pytest.FixtureRequest) -> None:
    mailman = request.getfixturevalue("mailman_server") if target == "mailman3" else None
    found = {}
    for source in ("api", "export"):
        with ListmonkServer() as listmonk:
            _run(tmp_path / source, source, target, mailchimp, listmonk, mailman)
            found[source] = READERS[target](tmp_path / source, listmonk)
    assert found["api"] == found["export"]
    flat = json.dumps(found["api"], ensure_ascii=False)
    for value in EVIDENCE.values():
        assert value in flat or value.replace("T", " ").replace("+00:00", "") in flat, value
    assert "granted" in flat
