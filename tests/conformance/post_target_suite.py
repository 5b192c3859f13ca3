"""The conformance suite every post target (a `mirror` target) passes against its local server.

    class TestMastodonTarget(PostTargetSuite):
        connector = "mastodon"
        @pytest.fixture
        def target(self, ...): ...      # an opened Target on a real server, empty account
        @pytest.fixture
        def read_back(self, ...): ...   # () -> [text of every status on the account], read
                                        #    from the server itself, not through the connector

Posts are built as every post source builds them (`connectors.posts.make_post`). The point is
exactly once: a post written twice with one key is one post; `verify` finds a finished post
whatever the key; a post too long for the server is posted whole, never cut silently.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ClassVar

from connectors.posts import make_post
from migrate import registry
from migrate.connector import Listing, Source, Target
from migrate.model import Action, Change, ItemKind, SourceItem, TargetEntry

ReadBack = Callable[[], list[str]]
WHEN = "2021-03-04T10:00:00+00:00"


class _NoMedia(Source):
    """The source of posts without pictures: nothing to stream."""

    def list_items(self) -> Listing:
        return Listing([])


def post(text: str, url: str | None = "", reply_to: str | None = None) -> SourceItem:
    """One post item, built the way every post source builds them; a fresh original address
    unless `url` is given (None: a post without one)."""
    if url == "":
        url = f"https://twitter.com/asso/status/{uuid.uuid4().int % 10**18}"
    meta = {"text": text, "created_at": WHEN, "language": "fr", "url": url,
            "platform": "Twitter", "media": [], "reply_to_url": reply_to, "mentions": [],
            "hashtags": []}
    return make_post(f"conformance:{uuid.uuid4().hex}", meta)


def _key() -> str:
    return uuid.uuid4().hex


class PostTargetSuite:
    """Shared behaviour of post targets. Subclasses set `connector` and provide `target` and
    `read_back`."""

    connector: ClassVar[object] = ""

    def change(self, target: Target, item: SourceItem) -> Change:
        return Change("conformance", Action.CREATE, item, target.name_for(item).name,
                      "conformance test")

    def write(self, target: Target, item: SourceItem, key: str | None = None) -> TargetEntry:
        return target.write(self.change(target, item), _NoMedia(), key or _key())

    def test_is_a_registered_post_target(self) -> None:
        assert "mirror" in registry.get(self.connector).target_actions

    def test_lists_nothing_it_was_not_given(self, target: Target) -> None:
        item = post("Jamais publié")
        assert target.name_for(item).name not in {e.name for e in target.list_entries()}

    def test_written_post_is_on_the_account(self, target: Target, read_back: ReadBack) -> None:
        self.write(target, post("Assemblée générale le 12 mars à la Maison des associations"))
        assert any("Assemblée générale le 12 mars" in text for text in read_back())

    def test_listing_shows_what_was_written(self, target: Target) -> None:
        item = post("Le vélo-école reprend ses ateliers")
        written = self.write(target, item)
        listed = {e.name: e for e in target.list_entries()}
        assert written.name == target.name_for(item).name
        assert written.name in listed and listed[written.name].kind is ItemKind.POST

    def test_same_key_twice_posts_once(self, target: Target, read_back: ReadBack) -> None:
        item, key = post("Une seule fois, même écrit deux fois"), _key()
        self.write(target, item, key)
        self.write(target, item, key)
        assert sum("Une seule fois" in text for text in read_back()) == 1

    def test_posts_are_written_in_order_as_separate_posts(self, target: Target,
                                                         read_back: ReadBack) -> None:
        for number in range(3):
            self.write(target, post(f"Annonce numéro {number} du collectif"))
        texts = read_back()
        assert all(any(f"numéro {n} du" in t for t in texts) for n in range(3))

    def test_a_post_too_long_for_the_server_is_posted_whole(self, target: Target,
                                                           read_back: ReadBack) -> None:
        limit = target.capabilities.max_post_length or 500
        sentences = [f"Phrase {n} du long compte rendu." for n in range(limit // 20 + 5)]
        self.write(target, post(" ".join(sentences)))
        posted = "\n".join(read_back())
        assert all(sentence in posted for sentence in sentences)

    def test_a_post_without_its_original_address_is_refused_with_a_reason(
            self, target: Target) -> None:
        item = post("Sans adresse d'origine", url=None)
        refusal = target.name_for(item).refusal
        assert refusal and refusal.strip()

    def test_verify_finds_a_finished_write_whatever_the_key(self, target: Target) -> None:
        item = post("Vérifié après un arrêt brutal")
        self.write(target, item, _key())
        entry = target.verify(self.change(target, item), _NoMedia(), _key())
        assert entry is not None and entry.name == target.name_for(item).name

    def test_verify_reports_a_write_that_never_happened(self, target: Target) -> None:
        item = post("Jamais écrit")
        assert target.verify(self.change(target, item), _NoMedia(), _key()) is None

    def test_settle_keeps_the_entries_and_their_order(self, target: Target) -> None:
        written = [self.write(target, post(f"Réglé numéro {n}")) for n in range(2)]
        settled = target.settle(written)
        assert [e.name for e in settled] == [e.name for e in written]

    def test_names_are_stable(self, target: Target) -> None:
        item = post("Toujours le même nom")
        assert target.name_for(item) == target.name_for(item)
