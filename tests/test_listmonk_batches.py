"""The listmonk target's bulk path (`write_batch`: the CSV import) driven by the real runner,
against the listmonk emulator: few requests, consent classes kept apart, existing statuses never
reset, suppressed members blocklisted, each member read back."""

from __future__ import annotations

from pathlib import Path

from connectors.listmonk import ListmonkConnector, ListmonkTarget
from migrate.connector import StepContext
from migrate.journal import Journal
from migrate.model import Action, Change
from migrate.runner.executor import RetryPolicy, Runner
from sandbox.listmonk import ListmonkServer
from tests.conformance.member_target_suite import _NoContent, member
from tests.test_listmonk_connector import LIST, state


def open_target(server: ListmonkServer) -> ListmonkTarget:
    connector = ListmonkConnector({"url": server.url, "user": server.api_user,
                                   "token": server.token}, Path("."))
    return connector.open_target(LIST, StepContext("s", "export", {}, "p", Path(".")))


def run(tmp_path: Path, target: ListmonkTarget, items: list) -> object:  # type: ignore[type-arg]
    changes = [Change("lettre", Action.CREATE, item, target.name_for(item).name, "new")
               for item in items]
    journal = Journal(tmp_path / "journal.sqlite")
    runner = Runner(journal, journal.start_run("test"), "plan", 4, str,
                    retry=RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05))
    outcome = runner.run("lettre", changes, _NoContent(), target)
    assert journal.counts()["lettre"].get("done") == outcome.done  # type: ignore[attr-defined]
    return outcome


def test_import_in_bulk_keeps_consent_classes(tmp_path: Path,
                                             listmonk_server: ListmonkServer) -> None:
    items = ([member(f"ok{n}@exemple.fr") for n in range(600)]
             + [member(f"noproof{n}@exemple.fr", evidence=False) for n in range(200)]
             + [member(f"wait{n}@exemple.fr", status="pending") for n in range(100)]
             + [member(f"gone{n}@exemple.fr", suppressed=True) for n in range(100)])
    listmonk_server.control.reset_counts()
    outcome = run(tmp_path, open_target(listmonk_server), items)
    assert outcome.done == 1000 and outcome.failed == 0  # type: ignore[attr-defined]
    assert state(listmonk_server, "ok7@exemple.fr") == "confirmed"
    assert state(listmonk_server, "noproof3@exemple.fr") == "unconfirmed"
    assert state(listmonk_server, "wait9@exemple.fr") == "unconfirmed"
    assert state(listmonk_server, "gone1@exemple.fr") == "blocked"
    record = listmonk_server.subscriber("ok7@exemple.fr")
    assert record is not None and record["attribs"]["consent"]["optin_ip"] == "192.0.2.7"
    assert record["name"] == "Hélène Lefèvre-Müller"
    # One import per consent class, a few polls, ten read-backs: far fewer than one per member.
    assert listmonk_server.control.total_requests < 100, listmonk_server.control.requests


def test_existing_statuses_are_never_reset(tmp_path: Path,
                                           listmonk_server: ListmonkServer, listmonk_http) -> None:  # type: ignore[no-untyped-def]
    target = open_target(listmonk_server)
    run(tmp_path / "first", target, [member("jean@exemple.fr")])
    record = listmonk_server.subscriber("jean@exemple.fr")
    assert record is not None
    list_id = record["lists"][0]["id"]
    listmonk_http.put(f"{listmonk_server.url}/api/subscribers/lists", json={
        "ids": [record["id"]], "action": "unsubscribe", "target_list_ids": [list_id]})
    outcome = run(tmp_path / "second", open_target(listmonk_server),
                  [member("Jean@Exemple.fr"), member("new@exemple.fr")])
    assert outcome.done == 2  # type: ignore[attr-defined]
    assert listmonk_server.subscription("jean@exemple.fr", list_id) == "unsubscribed"
    assert not any("subscription" in route for route in listmonk_server.control.requests)
