"""The conformance suite every mailing-list target passes against its real server (or files).

    class TestListmonkTarget(MemberTargetSuite):
        @pytest.fixture
        def target(self, ...): ...        # an opened Target for one list
        @pytest.fixture
        def state_of(self, ...): ...      # address -> "confirmed" | "unconfirmed" | "blocked" |
                                          #            None, read from the server itself

The consent rules are the point: no suppressed address is ever subscribed, pending members are
never confirmed, pre-confirmation needs evidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar

from connectors.mailing.members import MemberCollector
from migrate.connector import Listing, Source, Target
from migrate.consent import address_hash, mark_suppressed
from migrate.model import Action, Change, SourceItem

StateOf = Callable[[str], str | None]
SUBSCRIBED = ("confirmed", "unconfirmed")
EVIDENCE = {"optin_time": "2021-03-04T10:00:00+00:00", "optin_ip": "192.0.2.7",
            "source": "Hosted Signup Form", "permissions": ["E-mail"]}


class _NoContent(Source):
    def list_items(self) -> Listing:
        return Listing([])


def member(address: str, status: str = "subscribed", evidence: bool = True,
           suppressed: bool = False, name: str = "Hélène Lefèvre-Müller",
           tags: tuple[str, ...] = ("Bénévoles, Festival", "AG 2024")) -> SourceItem:
    """One member item, built the way every source builds them."""
    collector = MemberCollector("conformance")
    collector.add(address, status, "line 2", name=name, fields={"VILLE": "Saint-Étienne"},
                  tags=list(tags), consent=EVIDENCE if evidence else {}, language="fr")
    items = list(collector.listing().items)
    if suppressed:
        items = mark_suppressed(items, {address_hash(items[0].key): "unsubscribed"})
    return items[0]


def _unique(local: str) -> str:
    return f"{local}.{uuid.uuid4().hex[:8]}@exemple.fr"


class MemberTargetSuite:
    """Shared behaviour of member targets. Subclasses provide `target` and `state_of`."""

    #: The registered connector(s) this class checks (tests/test_conformance_coverage.py).
    connector: ClassVar[object] = ""

    def write(self, target: Target, item: SourceItem, action: Action = Action.CREATE,
              key: str | None = None) -> None:
        name = target.name_for(item).name
        change = Change("conformance", action, item, name, "conformance test")
        target.write(change, _NoContent(), key or uuid.uuid4().hex)

    def test_member_with_evidence_is_confirmed(self, target: Target, state_of: StateOf) -> None:
        address = _unique("anais")
        self.write(target, member(address))
        assert state_of(address) == "confirmed"

    def test_member_without_evidence_is_not_preconfirmed(self, target: Target,
                                                         state_of: StateOf) -> None:
        address = _unique("loic")
        self.write(target, member(address, evidence=False))
        assert state_of(address) == "unconfirmed"

    def test_pending_member_is_never_confirmed(self, target: Target, state_of: StateOf) -> None:
        address = _unique("zoe")
        self.write(target, member(address, status="pending"))
        assert state_of(address) == "unconfirmed"

    def test_suppressed_member_is_never_subscribed(self, target: Target,
                                                   state_of: StateOf) -> None:
        address = _unique("gael")
        self.write(target, member(address, suppressed=True))
        assert state_of(address) in ("blocked", None)

    def test_unsubscribed_and_cleaned_are_never_subscribed(self, target: Target,
                                                           state_of: StateOf) -> None:
        for status in ("unsubscribed", "cleaned"):
            address = _unique(status)
            self.write(target, member(address, status=status))
            assert state_of(address) in ("blocked", None), status

    def test_suppression_after_subscription_stops_it(self, target: Target,
                                                     state_of: StateOf) -> None:
        address = _unique("ines")
        self.write(target, member(address))
        self.write(target, member(address, suppressed=True), Action.UPDATE)
        assert state_of(address) in ("blocked", None)

    def test_same_key_twice_leaves_one_member(self, target: Target, state_of: StateOf) -> None:
        address, key = _unique("benoit"), uuid.uuid4().hex
        self.write(target, member(address), key=key)
        self.write(target, member(address), key=key)
        names = [e.name for e in target.list_entries() if e.name == address.casefold()]
        assert len(names) <= 1 and state_of(address) == "confirmed"

    def test_case_variant_is_the_same_person(self, target: Target, state_of: StateOf) -> None:
        address = _unique("cecile")
        self.write(target, member(address))
        self.write(target, member(address.upper(), suppressed=True))
        assert state_of(address) in ("blocked", None)

    def test_verify_finds_a_finished_write(self, target: Target) -> None:
        item, key = member(_unique("raphael")), uuid.uuid4().hex
        self.write(target, item, key=key)
        change = Change("conformance", Action.CREATE, item, target.name_for(item).name, "")
        assert target.verify(change, _NoContent(), key) is not None

    def test_verify_reports_a_write_that_never_happened(self, target: Target) -> None:
        item = member(_unique("jamais"))
        change = Change("conformance", Action.CREATE, item, target.name_for(item).name, "")
        assert target.verify(change, _NoContent(), uuid.uuid4().hex) is None
