"""The post sources pass the conformance suite in every archive variant, and read them right."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connectors.feed import FeedConnector
from connectors.twitter_archive import TwitterArchiveConnector
from migrate.connector import StepContext
from migrate.errors import FatalError
from tests.conformance.source_suite import SourceSuite
from tests.social_samples import HANDLE, PNG, photo, rss, sample_tweets, tweet, write_archive

WHEN = dt.datetime(2020, 7, 23, 18, 30, tzinfo=dt.UTC)


def _context(tmp_path: Path, options: dict | None = None, state: dict | None = None):
    return StepContext("posts", "mirror", options or {}, "plan", tmp_path, state or {})


def _open(tmp_path: Path, path: str, options: dict | None = None):
    connector = TwitterArchiveConnector({"path": path}, tmp_path)
    return connector.open_source("", _context(tmp_path, options))


@pytest.fixture(params=["modern-zip", "old-zip", "modern-folder", "parts"])
def archive(request, tmp_path: Path) -> tuple[str, dict]:
    tweets, media, facts = sample_tweets(40)
    variant, kind = request.param.split("-")[0], request.param.split("-")[-1]
    if request.param == "parts":
        write_archive(tmp_path / "a.zip", tweets, media, parts=3)
        return "a.zip", facts
    if kind == "folder":
        (tmp_path / "a").mkdir()
        write_archive(tmp_path / "a", tweets, media, variant=variant, as_zip=False)
        return "a", facts
    write_archive(tmp_path / "a.zip", tweets, media, variant=variant)
    return "a.zip", facts


class TestTwitterArchiveSource(SourceSuite):
    connector = "twitter_archive"

    @pytest.fixture
    def source(self, tmp_path: Path, archive):
        return _open(tmp_path, archive[0])

    @pytest.fixture
    def expected(self, source) -> dict:
        return {item.path: None for item in source.list_items().items}


def test_every_variant_gives_the_same_posts(tmp_path: Path, archive) -> None:
    items = _open(tmp_path, archive[0]).list_items().items
    facts = archive[1]
    keys = [i.key for i in items if not i.skip_reason]
    assert keys == [f"twitter:{k}" for k in facts["eligible"]]  # chronological
    skipped = {i.key: i.skip_reason for i in items if i.skip_reason}
    assert set(skipped) == {f"twitter:{k}" for k in facts["skipped"]}
    by_key = {i.key: i for i in items}
    for child, parent in facts["replies"].items():
        assert by_key[f"twitter:{child}"].data.reply_to_url.endswith(f"/status/{parent}")
    for key in facts["with_media"]:
        media = by_key[f"twitter:{key}"].data.media
        assert media[0]["path"] and media[0]["alt"]


def test_links_are_expanded_and_media_links_removed(tmp_path: Path) -> None:
    data = tweet(7, "Lisez https://t.co/abc &amp; voyez https://t.co/m7", WHEN,
                 urls=[{"url": "https://t.co/abc", "expanded_url": "https://exemple.org/a"}],
                 media=[photo(7, "X.png", alt="Affiche")], mentions=["ami"])
    write_archive(tmp_path / "a.zip", [data], {"7-X.png": PNG})
    source = _open(tmp_path, "a.zip")
    (item,) = source.list_items().items
    assert item.data.text == "Lisez https://exemple.org/a & voyez"
    assert item.data.created_at == "2020-07-23T18:30:00+00:00"
    assert item.data.url == f"https://twitter.com/{HANDLE}/status/7"
    assert item.data.mentions == [{"name": "ami", "url": "https://twitter.com/ami"}]
    from migrate.model import SourceItem
    with source.open(SourceItem("m", item.data.media[0]["path"])) as stream:
        assert stream.read() == PNG


def test_filters_leave_posts_out_with_a_reason(tmp_path: Path) -> None:
    tweets = [tweet(1, "vieux", WHEN - dt.timedelta(days=400)), tweet(2, "assemblée", WHEN),
              tweet(3, "autre chose", WHEN)]
    write_archive(tmp_path / "a.zip", tweets)
    options = {"since": dt.date(2020, 1, 1), "exclude_text": ["autre"]}
    reasons = {i.key: i.skip_reason for i in _open(tmp_path, "a.zip", options).list_items().items}
    assert reasons["twitter:2"] is None
    assert "since" in reasons["twitter:1"] and "exclude_text" in reasons["twitter:3"]


def test_an_empty_archive_lists_nothing(tmp_path: Path) -> None:
    write_archive(tmp_path / "a.zip", [])
    assert list(_open(tmp_path, "a.zip").list_items().items) == []


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_zip_gives_a_plain_message_naming_the_file(tmp_path: Path, damage) -> None:
    tweets, media, _facts = sample_tweets(20)
    write_archive(tmp_path / "a.zip", tweets, media)
    data = (tmp_path / "a.zip").read_bytes()
    broken = data[: len(data) // 2] if damage == "truncated" else b"not a zip" * 100
    (tmp_path / "b.zip").write_bytes(broken)
    with pytest.raises(FatalError) as raised:
        _open(tmp_path, "b.zip").list_items()
    assert "b.zip" in str(raised.value) and "download" in str(raised.value)


class FeedServer:
    """A real HTTP server on loopback serving one feed, honouring conditional GET."""

    def __init__(self) -> None:
        self.body = rss([])
        self.etag = '"v1"'
        self.requests: list[dict] = []
        self.server = make_server("127.0.0.1", 0, self.app)
        self.url = f"http://127.0.0.1:{self.server.server_port}/feed.xml"

    def set(self, body: bytes) -> None:
        self.body, self.etag = body, f'"v{len(self.requests) + 1}-{len(body)}"'

    @Request.application
    def app(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        if request.headers.get("If-None-Match") == self.etag:
            return Response(status=304)
        return Response(self.body, content_type="application/rss+xml",
                        headers={"ETag": self.etag})


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    # A short poll interval: `shutdown` waits for the loop to look (half a second by default).
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def feed_entries(count: int) -> list[dict[str, str]]:
    return [{"title": f"Article {n}", "link": f"https://exemple.org/a/{n}",
             "date": f"Mon, 0{1 + n % 8} Jan 2024 10:00:00 +0000",
             "summary": f"<p>Résumé de l'article {n}</p>"} for n in range(count)]


class TestFeedSource(SourceSuite):
    connector = "feed"

    @pytest.fixture
    def source(self, tmp_path: Path, feed_server: FeedServer):
        feed_server.set(rss(feed_entries(5)))
        return FeedConnector({"url": feed_server.url}, tmp_path).open_source(
            "", _context(tmp_path))

    @pytest.fixture
    def expected(self, source) -> dict:
        return {item.path: None for item in source.list_items().items}


def test_feed_uses_conditional_get_and_keys_by_guid(tmp_path: Path,
                                                    feed_server: FeedServer) -> None:
    feed_server.set(rss(feed_entries(3)))
    connector = FeedConnector({"url": feed_server.url}, tmp_path)
    listing = connector.open_source("", _context(tmp_path)).list_items()
    items = list(listing.items)
    assert [i.key for i in items] == [f"feed:https://exemple.org/a/{n}" for n in range(3)]
    assert items[0].data.text == "Article 0\n\nRésumé de l'article 0"
    assert listing.cursor == {"etag": feed_server.etag}
    again = connector.open_source("", _context(tmp_path, state=listing.cursor)).list_items()
    assert list(again.items) == [] and again.cursor == listing.cursor
    assert feed_server.requests[-1]["If-None-Match"] == feed_server.etag
