"""The `mailman3` target against a real Mailman 3 core, over real HTTP (mailmanclient)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import quote

import pytest

from connectors.mailman3 import Mailman3Connector, Mailman3Target
from migrate.connector import StepContext
from migrate.consent import address_hash
from migrate.errors import FatalError, SkipItem
from migrate.fleet.store import PgJournal
from migrate.journal import Journal
from migrate.journal.step_state import StepState
from sandbox.mailman import MailmanServer
from tests.conformance.member_target_suite import MemberTargetSuite, member
from tests.journal_state import step_values, store_in


def open_target(server: MailmanServer, fqdn: str, state_dir: Path | None,
                password: str | None = None, store: StepState | None = None) -> Mailman3Target:
    """`store`: the step's state in a journal; by default a fresh one in `state_dir`."""
    info = server.describe()
    connector = Mailman3Connector({"url": info["url"], "user": info["user"],
                                   "password": password or info["password"]}, Path("."))
    if store is None and state_dir is not None:
        store = store_in(state_dir)
    step = StepContext("lettre", "export", {}, "p", Path("."), state_dir=state_dir,
                       state_store=store)
    return connector.open_target(fqdn, step)


def state(server: MailmanServer, fqdn: str, address: str) -> str | None:
    """What Mailman itself holds for an address, read with plain urllib (not the connector)."""
    list_id = fqdn.replace("@", ".")
    email = address.strip().lower()
    members = server.request("GET", f"/lists/{list_id}/roster/member") or {}
    if any(m["email"] == email for m in members.get("entries", [])):
        return "confirmed"
    requests = server.request("GET", f"/lists/{list_id}/requests") or {}
    if any(r["email"] == email for r in requests.get("entries", [])):
        return "unconfirmed"
    try:
        server.request("GET", f"/lists/{list_id}/bans/{quote(email)}")
    except HTTPError as error:
        assert error.code == 404
        return None
    return "blocked"


@pytest.fixture
def fqdn() -> str:
    return f"lettre-{uuid.uuid4().hex[:8]}@example.org"


class TestMailman3Target(MemberTargetSuite):
    connector = "mailman3"

    @pytest.fixture
    def target(self, mailman_server: MailmanServer, fqdn: str, tmp_path: Path):  # type: ignore[no-untyped-def]
        opened = open_target(mailman_server, fqdn, tmp_path)
        yield opened
        opened.close()

    @pytest.fixture
    def state_of(self, mailman_server: MailmanServer, fqdn: str):  # type: ignore[no-untyped-def]
        return lambda address: state(mailman_server, fqdn, address)


def test_list_is_created_on_first_write_only(mailman_server: MailmanServer, fqdn: str) -> None:
    target = open_target(mailman_server, fqdn, None)
    assert target.list_entries() == []  # listing (a plan) creates nothing
    with pytest.raises(HTTPError):
        mailman_server.request("GET", f"/lists/{fqdn}")
    TestMailman3Target().write(target, member("anne@exemple.fr"))
    assert mailman_server.request("GET", f"/lists/{fqdn}")["fqdn_listname"] == fqdn


def test_bans_are_casefolded_and_the_membership_removed(mailman_server: MailmanServer,
                                                        fqdn: str) -> None:
    target = open_target(mailman_server, fqdn, None)
    suite = TestMailman3Target()
    suite.write(target, member("Marie.Curie@Exemple.fr"))
    assert state(mailman_server, fqdn, "marie.curie@exemple.fr") == "confirmed"
    suite.write(target, member("MARIE.CURIE@EXEMPLE.FR", suppressed=True))
    bans = mailman_server.request("GET", f"/lists/{fqdn.replace('@', '.')}/bans")
    assert [b["email"] for b in bans["entries"]] == ["marie.curie@exemple.fr"]
    assert state(mailman_server, fqdn, "marie.curie@exemple.fr") == "blocked"
    # A ban also stops the person from subscribing again by themselves (or by a later source).
    with pytest.raises(SkipItem, match="banned"):
        suite.write(target, member("marie.curie@exemple.fr"))
    assert state(mailman_server, fqdn, "marie.curie@exemple.fr") == "blocked"


def test_an_international_domain_is_banned_in_punycode(mailman_server: MailmanServer,
                                                       fqdn: str) -> None:
    """Mailman refuses an address with a Unicode domain (400) but knows it in punycode: that
    form is banned, so the person cannot subscribe again; a member there is removed."""
    target = open_target(mailman_server, fqdn, None)
    suite = TestMailman3Target()
    suite.write(target, member("lea@café-associatif.example"))
    punycode = "lea@xn--caf-associatif-dkb.example"
    assert state(mailman_server, fqdn, punycode) == "confirmed"
    suite.write(target, member("Lea@Café-Associatif.example", suppressed=True))
    bans = mailman_server.request("GET", f"/lists/{fqdn.replace('@', '.')}/bans")
    assert [b["email"] for b in bans["entries"]] == [punycode]
    assert state(mailman_server, fqdn, punycode) == "blocked"
    with pytest.raises(SkipItem, match="banned"):
        suite.write(target, member("lea@café-associatif.example"))
    target.close()


def test_pending_request_of_a_suppressed_address_is_discarded(mailman_server: MailmanServer,
                                                              fqdn: str) -> None:
    target = open_target(mailman_server, fqdn, None)
    suite = TestMailman3Target()
    suite.write(target, member("yves@exemple.fr", status="pending"))
    assert state(mailman_server, fqdn, "yves@exemple.fr") == "unconfirmed"
    suite.write(target, member("yves@exemple.fr", suppressed=True))
    requests = mailman_server.request("GET", f"/lists/{fqdn.replace('@', '.')}/requests")
    assert requests["total_size"] == 0
    assert state(mailman_server, fqdn, "yves@exemple.fr") == "blocked"


def test_journal_keeps_fields_tags_consent_never_suppressed(mailman_server: MailmanServer,
                                                            fqdn: str, tmp_path: Path) -> None:
    """What Mailman cannot hold is kept in the journal (the step's own state): no file of its
    own; a suppressed member's record is removed and leaves no trace in the journal's file."""
    target = open_target(mailman_server, fqdn, tmp_path)
    suite = TestMailman3Target()
    suite.write(target, member("helene@exemple.fr"))
    suite.write(target, member("gone@exemple.fr"))
    suite.write(target, member("gone@exemple.fr", suppressed=True))
    target.close()
    assert target.sidecar.store is not None and target.sidecar.store.journal is not None
    target.sidecar.store.journal.close()
    journal = tmp_path / "plan.journal.sqlite"
    records = step_values(journal, "lettre", "member:")
    assert list(records) == ["helene@exemple.fr"]
    record = records["helene@exemple.fr"]
    assert record["tags"] == ["Bénévoles, Festival", "AG 2024"]
    assert record["consent"]["optin_ip"] == "192.0.2.7"
    assert record["fields"]["VILLE"] == "Saint-Étienne"
    assert record["fp"] and record["name"] == "Hélène Lefèvre-Müller"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.journal.sqlite"]
    assert b"gone@" not in journal.read_bytes()
    members = mailman_server.request("GET", f"/lists/{fqdn.replace('@', '.')}/roster/member")
    assert members["entries"][0]["display_name"] == "Hélène Lefèvre-Müller"


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_rerun_after_a_crash_still_knows_the_versions_written(
        mailman_server: MailmanServer, fqdn: str, tmp_path: Path, store: str,
        request: pytest.FixtureRequest) -> None:
    """Killed before the step closed: the next run's target (or a fleet's other worker), on
    the same journal, knows which version of each member it wrote and what Mailman cannot
    hold, as the sidecar file told it."""
    if store == "sqlite":
        journal: Journal = Journal(tmp_path / "plan.journal.sqlite")
    else:
        journal = PgJournal(request.getfixturevalue("postgres_url"), "mailman", tmp_path)
    first = open_target(mailman_server, fqdn, tmp_path, store=StepState(journal, "lettre"))
    anne = member("anne@exemple.fr")
    TestMailman3Target().write(first, anne)  # no close: as if killed here
    again = open_target(mailman_server, fqdn, tmp_path, store=StepState(journal, "lettre"))
    found = {e.name: e.fingerprint.etag for e in again.list_entries()}
    assert found == {anne.key: f"{anne.fingerprint.etag}|member"}
    kept = again.sidecar.records()[anne.key]
    assert kept["consent"]["optin_ip"] == "192.0.2.7" and kept["tags"][1] == "AG 2024"
    again.close()
    journal.close()


def test_an_earlier_versions_sidecar_file_moves_into_the_journal(mailman_server: MailmanServer,
                                                                fqdn: str,
                                                                tmp_path: Path) -> None:
    """A JSON Lines file left by a version before the journal kept the records: a dry run
    reads it and leaves it; an apply moves it into the journal (torn lines and forgotten
    members left out) and deletes it."""
    bruno, gone = member("bruno@exemple.fr"), member("gone@exemple.fr")
    suite, bare = TestMailman3Target(), open_target(mailman_server, fqdn, None)
    suite.write(bare, bruno)  # on Mailman already, written by the earlier version
    old = tmp_path / "lettre.mailman3-members.jsonl"
    lines = [{"key": bruno.key, "fp": "v1", "tags": ["AG 2024"]},
             {"key": gone.key, "fp": "v1"}, {"forget": address_hash(gone.key)}]
    old.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"key": "torn',
                   encoding="utf-8")
    store = store_in(tmp_path)
    dry = open_target(mailman_server, fqdn, tmp_path,
                      store=StepState(store.journal, "lettre", writable=False))
    assert {e.name: e.fingerprint.etag for e in dry.list_entries()} == {bruno.key: "v1|member"}
    assert old.exists() and step_values(tmp_path / "plan.journal.sqlite", "lettre") == {}
    applying = open_target(mailman_server, fqdn, tmp_path, store=store)
    assert not old.exists()
    assert {e.name: e.fingerprint.etag for e in applying.list_entries()} == {
        bruno.key: "v1|member"}
    records = step_values(tmp_path / "plan.journal.sqlite", "lettre", "member:")
    assert list(records) == [bruno.key] and records[bruno.key]["tags"] == ["AG 2024"]
    applying.close()


def test_missing_domain_and_bad_password_stop_the_step(mailman_server: MailmanServer) -> None:
    with pytest.raises(FatalError, match="no mail domain"):
        TestMailman3Target().write(open_target(mailman_server, "x@nowhere.example", None),
                                   member("a@exemple.fr"))
    with pytest.raises(FatalError, match="refused the credentials"):
        open_target(mailman_server, "x@example.org", None, password="wrong").list_entries()


def test_one_write_per_member_and_a_constant_number_of_reads(mailman_server: MailmanServer,
                                                              fqdn: str) -> None:
    """Counted at a loopback proxy in front of Mailman: the list's state is read in bulk once,
    then each new member costs one subscription, each suppressed address one ban (plus the
    unsubscription or discarded request it held)."""
    from urllib.parse import urlsplit

    from tests.benchmarks.counting_proxy import CountingProxy

    suite = TestMailman3Target()
    setup = open_target(mailman_server, fqdn, None)
    suite.write(setup, member("deja@exemple.fr"))
    suite.write(setup, member("attend@exemple.fr", status="pending"))
    suite.write(setup, member("part@exemple.fr"))
    proxy = CountingProxy(mailman_server.describe()["url"]).start()
    try:
        info = mailman_server.describe()
        connector = Mailman3Connector({"url": proxy.url + urlsplit(info["url"]).path,
                                       "user": info["user"], "password": info["password"]},
                                      Path("."))
        target = connector.open_target(fqdn, StepContext("lettre", "export", {}, "p", Path(".")))
        assert len(target.list_entries()) == 3
        reads = proxy.total_requests
        assert reads <= 4  # the list, then members, bans, requests (one page each here)
        new = [f"membre{i}@exemple.fr" for i in range(20)]
        gone = [f"parti{i}@exemple.fr" for i in range(5)]
        for address in new:
            suite.write(target, member(address, evidence=address.endswith("0@exemple.fr")))
        for address in gone:
            suite.write(target, member(address, suppressed=True))
        suite.write(target, member("part@exemple.fr", suppressed=True))  # ban + unsubscribe
        suite.write(target, member("attend@exemple.fr", suppressed=True))  # ban + discard
        suite.write(target, member("deja@exemple.fr"))  # already there: no request at all
        target.close()
        assert proxy.total_requests - reads == len(new) + len(gone) + 2 + 2
    finally:
        proxy.stop()
    assert state(mailman_server, fqdn, "membre0@exemple.fr") == "confirmed"
    assert state(mailman_server, fqdn, "membre1@exemple.fr") == "unconfirmed"
    assert state(mailman_server, fqdn, "parti3@exemple.fr") == "blocked"
    assert state(mailman_server, fqdn, "part@exemple.fr") == "blocked"
    assert state(mailman_server, fqdn, "attend@exemple.fr") == "blocked"
    assert state(mailman_server, fqdn, "deja@exemple.fr") == "confirmed"


def test_quiet_subscriptions_then_confirmation_requests_then_bans(
        mailman_server: MailmanServer, fqdn: str, tmp_path: Path) -> None:
    """Mailman reads every request awaiting confirmation and every ban of the list on each new
    subscription, and every ban on each new ban: the real command writes documented (quiet)
    subscriptions first, then the ones Mailman must ask to confirm, then the bans; it says
    how many people Mailman e-mailed."""
    from urllib.parse import urlsplit

    from sandbox.samples_mailing import write_mailchimp_export
    from tests.benchmarks.counting_proxy import CountingProxy
    from tests.helpers import migrate

    write_mailchimp_export(tmp_path / "export.zip")
    info = mailman_server.describe()
    proxy = CountingProxy(info["url"]).start()
    try:
        url = proxy.url + urlsplit(info["url"]).path
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            "version: 1\nconnections:\n  audience: {type: mailchimp_export, path: export.zip}\n"
            f"  mm: {{type: mailman3, url: '{url}', user: {info['user']}, "
            "password: '${env:MM_PASSWORD}'}\n"
            f"steps:\n  - id: lettre\n    export: {{from: audience, to: 'mm:{fqdn}'}}\n",
            encoding="utf-8")
        env = {"MM_PASSWORD": info["password"]}
        planned = migrate("plan", plan, env=env)
        assert planned.returncode == 0, planned.stdout[-2000:] + planned.stderr[-2000:]
        assert not proxy.sequence or all(s.startswith("GET") for s in proxy.sequence)
        applied = migrate("apply", plan, "--yes", "--jobs", "1", env=env)
        assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
        kinds = [shape for shape in proxy.sequence if shape.startswith("POST")]
    finally:
        proxy.stop()
    bans = [i for i, shape in enumerate(kinds) if "/bans " in shape]
    quiet = [i for i, shape in enumerate(kinds) if shape == "POST /3.1/members 201"]
    asked = [i for i, shape in enumerate(kinds) if shape == "POST /3.1/members 202"]
    assert bans and quiet and asked
    assert max(quiet) < min(asked) and max(asked) < min(bans)
    assert f"Mailman will e-mail {len(asked)} people a request to confirm" in planned.stdout
    assert f"Mailman e-mailed {len(asked)} people a request to confirm" in applied.stdout
    assert "Mailman slows down" not in planned.stdout  # too few to matter


def test_plan_warns_when_confirmation_requests_would_slow_mailman(
        mailman_server: MailmanServer, fqdn: str, tmp_path: Path) -> None:
    """1,500 Mailchimp members with no documented opt-in: the dry run says Mailman will e-mail
    each subscribed or pending one, estimates the slow part and says how to avoid it."""
    from sandbox.mailchimp import MailchimpServer, seed_audience
    from tests.helpers import migrate

    server = MailchimpServer()
    seeded = seed_audience(server, members=1500, rng_seed=5, second_audience=False,
                           documented=0)
    asked = seeded.status_counts["subscribed"] + seeded.status_counts["pending"]
    info = mailman_server.describe()
    with server:
        plan = tmp_path / "plan.yaml"
        plan.write_text(
            "version: 1\nconnections:\n"
            f"  mc: {{type: mailchimp, api_key: '${{env:MC_KEY}}', url: '{server.url}'}}\n"
            f"  mm: {{type: mailman3, url: '{info['url']}', user: {info['user']}, "
            "password: '${env:MM_PASSWORD}'}\n"
            "steps:\n  - id: lettre\n    export: {from: 'mc:Les Amis du Centsept', "
            f"to: 'mm:{fqdn}'}}\n", encoding="utf-8")
        env = {"MM_PASSWORD": info["password"], "MC_KEY": server.api_key}
        planned = migrate("plan", plan, env=env)
        as_json = migrate("plan", plan, "--json", env=env)
    assert planned.returncode == 0, planned.stdout[-2000:] + planned.stderr[-2000:]
    invalid = len(seeded.invalid_emails)  # reported as invalid, never asked
    text = " ".join(planned.stdout.split())
    assert any(f"Mailman will e-mail {n:,} people".replace(",", " ") in text
               or f"Mailman will e-mail {n:,} people" in text
               for n in range(asked - invalid, asked + 1)), text[-3000:]
    assert "Mailman slows down" in text and "'undocumented: drop'" in text
    notes = json.loads(as_json.stdout)["notes"]
    assert [n["step"] for n in notes] == ["lettre", "lettre"]


def test_plan_says_when_bans_alone_will_take_long(mailman_server: MailmanServer,
                                                  fqdn: str) -> None:
    """12,000 suppressed addresses: Mailman reads every ban at each new ban; the plan says how
    long that may take. 300 are said nothing about."""
    from migrate.model import Action, Change

    target = open_target(mailman_server, fqdn, None)
    try:
        def changes(count: int) -> list[Change]:
            items = [member(f"parti{i}@exemple.fr", suppressed=True) for i in range(count)]
            return [Change("lettre", Action.CREATE, item, item.key, "") for item in items]
        notes = target.plan_notes(changes(12_000))
        assert len(notes) == 1 and "these 12,000 bans could take about 15 min" in notes[0]
        assert target.plan_notes(changes(300)) == []
    finally:
        target.close()


def test_undocumented_and_pending_dropped_mean_no_confirmation_e_mail(
        mailman_server: MailmanServer, fqdn: str, tmp_path: Path) -> None:
    """`with: {undocumented: drop, pending: drop}`: Mailman gets no confirmation request at all
    (nobody e-mailed), only documented members are subscribed, and the reconciliation counts
    the others as dropped, with the reason."""
    from sandbox.samples_mailing import sample_members, write_mailchimp_export
    from tests.helpers import migrate

    write_mailchimp_export(tmp_path / "export.zip")
    info = mailman_server.describe()
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\nconnections:\n  audience: {type: mailchimp_export, path: export.zip}\n"
        f"  mm: {{type: mailman3, url: '{info['url']}', user: {info['user']}, "
        "password: '${env:MM_PASSWORD}'}\n"
        f"steps:\n  - id: lettre\n    export: {{from: audience, to: 'mm:{fqdn}'}}\n"
        "    with: {undocumented: drop, pending: drop}\n", encoding="utf-8")
    env = {"MM_PASSWORD": info["password"]}
    planned = migrate("plan", plan, env=env)
    assert planned.returncode == 0, planned.stdout[-2000:] + planned.stderr[-2000:]
    assert "Mailman will e-mail" not in planned.stdout
    applied = migrate("apply", plan, "--yes", env=env)
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]
    list_id = fqdn.replace("@", ".")
    assert mailman_server.request("GET", f"/lists/{list_id}/requests")["total_size"] == 0
    members = sample_members()
    undocumented = [m for m in members if m.status == "subscribed" and not m.optin_ip]
    assert undocumented
    for person in undocumented:
        assert state(mailman_server, fqdn, person.email) in (None, "blocked"), person.email
    report = json.loads(migrate("report", plan, "--json").stdout)
    reconciliation = report["reconciliations"]["lettre"]
    assert not reconciliation["problems"]
    assert reconciliation["rows"]["subscribed"]["dropped"] >= len(undocumented) - 1


def test_a_locked_database_is_transient_not_a_refusal(mailman_server: MailmanServer,
                                                      fqdn: str) -> None:
    """Mailman answers 400 "database is locked" when its SQLite stayed locked past its wait
    (two long writes at once). That is a busy server, retried by the runner — never "refused",
    which would leave the person out."""
    import sqlite3

    from migrate.errors import TransientError

    target = open_target(mailman_server, fqdn, None)
    suite = TestMailman3Target()
    suite.write(target, member("premiere@exemple.fr"))  # the list exists
    # The address exists already (a user of the site), so the subscription's first write is in
    # Mailman's workflow, whose errors come back as 400 with the exception's text.
    mailman_server.request("POST", "/users", {"email": "seconde@exemple.fr"})
    lock = sqlite3.connect(mailman_server.database_path, timeout=30, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # what another long write holds: reads go on
        with pytest.raises(TransientError, match="database is busy") as raised:
            suite.write(target, member("seconde@exemple.fr", evidence=False))
        # Retried once Mailman's own wait for the lock (5 s) has passed, not at once.
        assert raised.value.retry_after == 5.0
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    suite.write(target, member("seconde@exemple.fr", evidence=False))  # the retry
    assert state(mailman_server, fqdn, "seconde@exemple.fr") == "unconfirmed"
    target.close()
