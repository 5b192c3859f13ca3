"""The `listmonk` target against the listmonk emulator, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.listmonk import ListmonkConnector
from migrate.connector import StepContext
from migrate.errors import FatalError
from sandbox.listmonk import ListmonkServer
from tests.conformance.member_target_suite import MemberTargetSuite, member

LIST = "Lettre d'information"


def open_target(server: ListmonkServer, token: str | None = None):  # type: ignore[no-untyped-def]
    connector = ListmonkConnector({"url": server.url, "user": server.api_user,
                                   "token": token or server.token}, Path("."))
    return connector.open_target(LIST, StepContext("s", "export", {}, "p", Path(".")))


def state(server: ListmonkServer, address: str) -> str | None:
    record = server.subscriber(address)
    if record is None:
        return None
    if record["status"] == "blocklisted":
        return "blocked"
    lists = {entry["name"]: entry["subscription_status"] for entry in record["lists"]}
    return lists.get(LIST)


class TestListmonkTarget(MemberTargetSuite):
    connector = "listmonk"

    @pytest.fixture
    def target(self, listmonk_server: ListmonkServer):  # type: ignore[no-untyped-def]
        return open_target(listmonk_server)

    @pytest.fixture
    def state_of(self, listmonk_server: ListmonkServer):  # type: ignore[no-untyped-def]
        return lambda address: state(listmonk_server, address)


def test_attributes_carry_fields_tags_and_consent(listmonk_server: ListmonkServer) -> None:
    target = open_target(listmonk_server)
    TestListmonkTarget().write(target, member("helene@exemple.fr"))
    record = listmonk_server.subscriber("helene@exemple.fr")
    assert record is not None and record["name"] == "Hélène Lefèvre-Müller"
    assert record["attribs"]["tags"] == ["Bénévoles, Festival", "AG 2024"]
    assert record["attribs"]["consent"]["optin_ip"] == "192.0.2.7"
    assert record["attribs"]["fields"]["VILLE"] == "Saint-Étienne"


def test_existing_unsubscribed_row_is_left_alone(listmonk_server: ListmonkServer,
                                                 listmonk_http) -> None:  # type: ignore[no-untyped-def]
    target = open_target(listmonk_server)
    suite = TestListmonkTarget()
    suite.write(target, member("jean@exemple.fr"))
    record = listmonk_server.subscriber("jean@exemple.fr")
    assert record is not None
    list_id = record["lists"][0]["id"]
    listmonk_http.put(f"{listmonk_server.url}/api/subscribers/lists", json={
        "ids": [record["id"]], "action": "unsubscribe", "target_list_ids": [list_id]})
    suite.write(open_target(listmonk_server), member("Jean@Exemple.fr"))
    assert listmonk_server.subscription("jean@exemple.fr", list_id) == "unsubscribed"


def test_never_calls_a_resubscribing_endpoint(listmonk_server: ListmonkServer) -> None:
    target = open_target(listmonk_server)
    suite = TestListmonkTarget()
    for address in ("a@exemple.fr", "b@exemple.fr"):
        suite.write(target, member(address))
        suite.write(target, member(address.upper(), suppressed=True))
    routes = listmonk_server.control.requests
    assert not any("subscription" in r or (r.startswith("PUT /api/subscribers/<int:sub_id>")
                   and not r.endswith("blocklist")) for r in routes), routes


def test_bad_token_stops_the_step(listmonk_server: ListmonkServer) -> None:
    with pytest.raises(FatalError):
        open_target(listmonk_server, token="wrong").list_entries()
