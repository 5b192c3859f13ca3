"""The handover report (`migrate report`): what it says, what it never says, and how a browser
shows it. Journals are built by the real `migrate` command against the local servers; the HTML
is opened in Debian's headless Chromium (skipped, naming the apt line, when it is missing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrate.consent import SUPPRESSING, address_hash, address_key
from migrate.journal import Journal
from migrate.model import Action, Change, Fingerprint, ItemKind, SourceItem, TargetEntry
from migrate.plan.plan_file import load_plan
from migrate.report import as_html, as_json, as_markdown, collect
from sandbox.listmonk import ListmonkServer
from sandbox.mailchimp import MailchimpServer
from tests import report_browser as browser
from tests.helpers import make_tree, migrate, write_plan

SECRET_FOLDER = "cible-Zk7Q9xT2-secret"
AUDIENCE = "Les Amis du Centsept"


@dataclass
class Scenario:
    folder: Path
    plan: Path
    env: dict[str, str]
    secrets: list[str]
    members: dict[str, str]  # address → Mailchimp status
    reports: dict[str, str]  # format → text


def _plan_text(mailchimp: MailchimpServer, listmonk: ListmonkServer) -> str:
    return (
        "version: 1\norganisation: Les Amis du Centsept\nconnections:\n"
        "  here: {type: local, path: source}\n"
        "  there: {type: local, path: '${env:REPORT_TARGET_SECRET}'}\n"
        f"  mc: {{type: mailchimp, api_key: '${{env:MC_KEY}}', url: '{mailchimp.url}'}}\n"
        f"  lm: {{type: listmonk, url: '{listmonk.url}', user: {listmonk.api_user}, "
        "token: '${env:LM_TOKEN}'}\nsteps:\n"
        "  - id: files\n    copy: {from: here, to: there}\n"
        f"  - id: members\n    export: {{from: 'mc:{AUDIENCE}', to: 'lm:Lettre'}}\n")


@pytest.fixture(scope="module")
def scenario(mailchimp_server: MailchimpServer, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Scenario]:
    """Files copied (then one conflict and one failure) and an audience exported, by the real
    command, with every credential a secret reference; then the three reports."""
    folder = tmp_path_factory.mktemp("handover")
    make_tree(folder / "source", 30)
    with ListmonkServer() as listmonk:
        plan = folder / "plan.yaml"
        plan.write_text(_plan_text(mailchimp_server, listmonk), encoding="utf-8")
        env = {"REPORT_TARGET_SECRET": SECRET_FOLDER, "MC_KEY": mailchimp_server.api_key,
               "LM_TOKEN": listmonk.token}
        first = migrate("apply", plan, "--yes", env=env, cwd=folder)
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        target = folder / SECRET_FOLDER
        edited = sorted(p for p in target.rglob("*") if p.is_file())[3]
        edited.write_bytes(b"changed by a volunteer after the migration")
        (folder / "source" / "Archives").mkdir()
        (folder / "source" / "Archives" / "vieux.txt").write_text("1998\n")
        (target / "Archives").write_text("a file where the folder should go\n")
        second = migrate("apply", plan, "--yes", env=env, cwd=folder)
        assert second.returncode == 3, second.stdout[-2000:] + second.stderr[-2000:]
        reports = {fmt: migrate("report", plan, "--format", fmt, env=env).stdout
                   for fmt in ("md", "json")}
        html = folder / "report.html"
        written = migrate("report", plan, "--format", "html", "-o", html, env=env)
        assert written.returncode == 0, written.stderr
        reports["html"] = html.read_text(encoding="utf-8")
        audience = next(a for a in mailchimp_server.store.audiences.values()
                        if a.name == AUDIENCE)
        members = {m["email_address"]: m["status"] for m in audience.members.values()}
        yield Scenario(folder, plan, env, [SECRET_FOLDER, mailchimp_server.api_key,
                                           listmonk.token], members, reports)


def test_report_says_what_moved_and_what_to_do(scenario: Scenario) -> None:
    data = json.loads(scenario.reports["json"])
    files = next(s for s in data["step_details"] if s["id"] == "files")
    assert files["counts"]["done"] == 29 and files["sizes"]["done"] > 10_000
    assert data["steps"]["members"]["done"] > 1000
    assert len(data["conflicts"]) == 1
    failed = [f for f in data["failures"] if f["step"] == "files"]
    assert [f["source_path"] for f in failed] == ["Archives/vieux.txt"]
    assert "migrate apply" in failed[0]["next_step"] and failed[0]["error_kind"]
    assert any("changed on the target" in line for line in data["next_steps"])
    assert any(line.startswith("1 item was changed") for line in data["next_steps"])  # one
    rows = data["reconciliations"]["members"]["rows"]
    assert rows["unsubscribed"]["source"] == rows["unsubscribed"]["suppressed"] > 0
    assert data["plan_sha256"] == load_plan(scenario.plan).digest and data["tool_version"]
    markdown = scenario.reports["md"]
    for heading in ("## Summary", "## In conflict — not overwritten (1)",
                    "| status at the source | at the source | imported |",
                    "## Failed or unfinished — what to do next (1)", "## About this report"):
        assert heading in markdown, heading
    assert "| files | done | 29 |" in markdown


def test_report_holds_no_secret_and_no_member_address(scenario: Scenario) -> None:
    suppressed = {a for a, status in scenario.members.items() if status in SUPPRESSING}
    assert len(suppressed) > 100 and len(scenario.members) > 2000
    for fmt, text in scenario.reports.items():
        for secret in scenario.secrets:
            assert secret not in text, (fmt, "a secret")
        folded = text.casefold()
        leaked = [a for a in scenario.members if a.strip().casefold() in folded]
        assert not leaked, (fmt, leaked[:3])  # members are counted, never listed
    for stored in (scenario.folder / ".migrate").iterdir():
        assert SECRET_FOLDER.encode() not in stored.read_bytes(), stored


def test_a_suppressed_address_is_masked_wherever_it_hides(tmp_path: Path) -> None:
    """The last guard: even in a share note (where addresses are allowed), an address on the
    suppression list never reaches a report; another address does."""
    (tmp_path / "source").mkdir()
    plan = load_plan(write_plan(tmp_path))
    journal = Journal(tmp_path / "j.sqlite")
    journal.add_suppressions({address_hash(address_key("Parti@Asso.org")): ("unsubscribed", "m")})
    item = SourceItem("id1", "Compta/budget.ods", ItemKind.FILE, Fingerprint(2048, 1.0))
    notes = ("not shared: 'parti@asso.org' (reader) has no match in 'identities'",
             "not shared: reste@asso.org (writer) has no match in 'identities'")
    change = Change("files", Action.CREATE, item, "Compta/budget.ods", "new", None, None, notes)
    journal.record_intents([(change, "k")], 1)
    journal.record_done([(change, TargetEntry("Compta/budget.ods",
                                              fingerprint=Fingerprint(2048, 1.0)))], 1)
    data = collect(plan, journal, lambda text: text)
    journal.close()
    for text in (as_json(data), as_markdown(data), as_html(data)):
        assert "parti@asso.org" not in text.casefold()
        assert "reste@asso.org" in text and "suppression list" in text
    assert data["share_map"][0]["source_path"] == "Compta/budget.ods"
    assert data["step_details"][0]["sizes"] == {"done": 2048}


def _check_in_browser(page: Path, name: str, allowed_links: set[str]) -> str:
    """Render, console, links, no fetched asset, PDF; return the PDF's text."""
    text = page.read_text(encoding="utf-8")
    found = browser.anchors(text)
    assert not found.fetching, found.fetching  # self-contained: nothing to fetch
    assert "url(" not in text and "@import" not in text
    missing = [h for h in found.hrefs if h.startswith("#") and h[1:] not in found.ids]
    assert not missing, missing
    external = {h for h in found.hrefs if not h.startswith("#")}
    assert external <= allowed_links, external - allowed_links
    assert browser.screenshot(page, browser.ARTIFACTS / f"{name}.png") == []  # and its console
    return browser.print_to_pdf(page, browser.ARTIFACTS / f"{name}.pdf")


def test_console_check_would_catch_an_error(tmp_path: Path) -> None:
    """The console scan is real: a page with a script error is caught."""
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><h1>Rapport</h1>" + "<p>Une ligne du rapport.</p>" * 60
                    + "<script>console.error('boom'); nope();</script>")
    for messages in (browser.console_messages(page),  # with the page's DOM, and
                     browser.screenshot(page, tmp_path / "bad.png")):  # as the checks run it
        assert any("boom" in m for m in messages) and any("nope" in m for m in messages)


def test_report_in_a_real_browser(scenario: Scenario) -> None:
    browser.require_chromium()
    pdf = _check_in_browser(scenario.folder / "report.html", "report", set())
    if pdf:
        assert "Les Amis du Centsept" in pdf and "What to do next" in pdf
        assert "reconciliation" in pdf and "status at the source" in pdf


@pytest.mark.slow
def test_demo_report_in_a_real_browser(tmp_path: Path) -> None:
    browser.require_chromium()
    result = migrate("demo", "--dir", tmp_path / "demo", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    page = tmp_path / "demo" / "report.html"
    data = json.loads(migrate("report", tmp_path / "demo" / "demo.yaml", "--json").stdout)
    assert len(data["post_map"]) == 21
    links = {u for p in data["post_map"] for u in (p["original_url"], p["target_url"]) if u}
    pdf = _check_in_browser(page, "demo-report", links)
    if pdf:
        assert "Jardin Partagé" in pdf and "Post map" in pdf
