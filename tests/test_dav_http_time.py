"""`http_time` reads an HTTP date exactly as `email.utils` does (it skips it for the usual form);
a listing reads hrefs and ETags as `urlparse`, `unquote` and `normal_etag` do."""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime

import pytest

from connectors.dav.http_time import http_time


def _expected(text: str) -> float | type[Exception]:
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except Exception as error:  # the same kind of error is compared
        return type(error)


def _answer(text: str) -> float | type[Exception]:
    try:
        return http_time(text)
    except Exception as error:
        return type(error)


def test_the_usual_form_and_its_neighbours_read_as_email_utils_reads_them() -> None:
    rng = random.Random(16)
    texts = []
    for _ in range(20000):
        moment = datetime.fromtimestamp(rng.uniform(-2e9, 5e9), UTC)
        texts.append(email.utils.format_datetime(moment, usegmt=True))
    texts += ["Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
              "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT",
              "Sun, 06 Nov 1994 08:49:60 GMT", "Sun, 06 Nov 0094 08:49:37 GMT",
              "Sun, 06 Nov 94 08:49:37 GMT", "Sun 06 Nov 1994 08:49:37 GMT",
              "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
              "Sun, 06 nov 1994 08:49:37 gmt", "Sun, 06 Nov 1994 08:49:37 +0200",
              "Sun, 06 Nov 1994 08:49:37 -0000", "Sun, 06 Xyz 1994 08:49:37 GMT",
              "Sun, ٠٦ Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08-49-37 GMT",
              "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 1994 08:49:3a GMT", "", "garbage"]
    for text in texts:
        assert _answer(text) == _expected(text), text


@pytest.mark.parametrize("text", ["Sun, 06 Nov 1994 08:49:37 GMT"])
def test_a_date_gives_the_seconds_of_its_instant(text: str) -> None:
    assert http_time(text) == 784111777.0


def test_an_href_is_decoded_as_urlparse_and_unquote_decode_it() -> None:
    """`href_path` skips `urlparse` for a plain absolute path and decodes a folder's part once:
    the same path as before for every href, odd ones included."""
    from urllib.parse import unquote, urlparse

    from connectors.dav.listing import href_path

    rng = random.Random(16)
    pieces = ["a", "/", "%2F", "%C3%A9", "%C3", "%A9", "%20", "%", "%zz", "é", ";x", "?q", "#f",
              "//", "\t", "http://h", "%2f"]
    for _ in range(30000):
        href = rng.choice(["/", "", "http://host/", "//host/"]) + "".join(
            rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert href_path(href) == unquote(urlparse(href).path), href


def test_a_listed_etag_is_read_as_normal_etag_reads_it() -> None:
    """`_parse_response` unquotes the usual strong ETag itself (decision 0488): the same
    value as `normal_etag` gives, for every form (weak, unquoted, padded, quotes only)."""
    from xml.etree import ElementTree
    from xml.sax.saxutils import escape

    from connectors.dav.listing import _parse_response, normal_etag

    rng = random.Random(17)
    pieces = ['"', "W/", "w/", " ", "a", "7d0-5f1e", "-", "\t", '""']
    for _ in range(3000):
        etag = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))
        response = ElementTree.fromstring(
            '<d:response xmlns:d="DAV:"><d:href>/dav/f.txt</d:href><d:propstat><d:prop>'
            "<d:resourcetype/><d:getcontentlength>3</d:getcontentlength>"
            f"<d:getetag>{escape(etag)}</d:getetag></d:prop>"
            "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>")
        for owncloud in (False, True):
            resource = _parse_response(response, "/dav", owncloud=owncloud)
            assert resource is not None
            assert resource.fingerprint.etag == normal_etag(etag or None), repr(etag)
