"""mastodon-mock and its faults, driven with Mastodon.py as a connector would."""

import time

import pytest
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonUnauthorizedError,
)

from sandbox.mastodon import MEDIA_NOT_PROCESSED, MastodonServer

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def client(server: MastodonServer, **options: object) -> Mastodon:
    info = server.describe()
    return Mastodon(access_token=info["token"], api_base_url=info["url"], **options)


def own_statuses(api: Mastodon) -> list:
    return list(api.account_statuses(api.me().id))


def test_post_a_status(mastodon_server: MastodonServer) -> None:
    api = client(mastodon_server)
    status = api.status_post("Bonjour <3 https://example.org", visibility="unlisted")
    assert status.visibility == "unlisted"
    assert [s.id for s in own_statuses(api)] == [status.id]


def test_idempotency_key_returns_the_first_status(mastodon_server: MastodonServer) -> None:
    api = client(mastodon_server)
    first = api.status_post("once", idempotency_key="tweet-1")
    again = api.status_post("once, edited", idempotency_key="tweet-1")
    assert again.id == first.id and "once, edited" not in again.content
    assert len(own_statuses(api)) == 1


def test_media_upload_is_ready_at_once(mastodon_server: MastodonServer) -> None:
    api = client(mastodon_server)
    media = api.media_post(PNG, mime_type="image/png", description="a pixel")
    assert media.url is not None and media.type == "image"  # 200, not 202: no processing
    status = api.status_post("with media", media_ids=[media.id])
    assert [m.id for m in status.media_attachments] == [media.id]


def test_instance_limits(mastodon_server: MastodonServer) -> None:
    statuses = client(mastodon_server).instance_v2().configuration.statuses
    assert (statuses.max_characters, statuses.max_media_attachments) == (500, 4)
    assert statuses.characters_reserved_per_url == 23


def test_too_long_status_answers_422(mastodon_server: MastodonServer) -> None:
    with pytest.raises(MastodonAPIError) as raised:
        client(mastodon_server).status_post("x" * 501)
    assert raised.value.args[1] == 422


def test_fault_429_carries_retry_after_and_rate_limit_headers(
    mastodon_server: MastodonServer,
) -> None:
    mastodon_server.rate_limit_exceeded(retry_after=7)
    api = client(mastodon_server, ratelimit_method="throw")
    with pytest.raises(MastodonRatelimitError):
        api.status_post("too fast")
    assert api.ratelimit_remaining == 0 and api.ratelimit_limit == 300
    assert api.ratelimit_reset > time.time() + 200  # Mastodon.py ignores Retry-After
    assert own_statuses(api) == []  # the fault fired before anything was created


def test_fault_500_before_creates_nothing(mastodon_server: MastodonServer) -> None:
    mastodon_server.fail_with(500)
    api = client(mastodon_server)
    with pytest.raises(MastodonInternalServerError):
        api.status_post("lost")
    assert own_statuses(api) == []


def test_fault_500_after_creation_is_in_doubt(mastodon_server: MastodonServer) -> None:
    mastodon_server.fail_after(500)
    api = client(mastodon_server)
    with pytest.raises(MastodonInternalServerError):
        api.status_post("in doubt", idempotency_key="tweet-2")
    created = own_statuses(api)
    assert len(created) == 1
    assert api.status_post("in doubt", idempotency_key="tweet-2").id == created[0].id


def test_dropped_connection_after_creation_is_in_doubt(mastodon_server: MastodonServer) -> None:
    mastodon_server.drop_after()
    api = client(mastodon_server)
    with pytest.raises(MastodonNetworkError):
        api.status_post("cut", idempotency_key="tweet-3")
    assert len(own_statuses(api)) == 1
    api.status_post("cut", idempotency_key="tweet-3")
    assert len(own_statuses(api)) == 1


def test_fault_422_media_not_processed(mastodon_server: MastodonServer) -> None:
    mastodon_server.media_not_processed()
    api = client(mastodon_server)
    with pytest.raises(MastodonAPIError) as raised:
        api.status_post("with media")
    assert raised.value.args[1] == 422 and raised.value.args[3] == MEDIA_NOT_PROCESSED
    api.status_post("with media")  # the fault fired once
    assert len(own_statuses(api)) == 1


def test_fault_401(mastodon_server: MastodonServer) -> None:
    mastodon_server.unauthorized()
    with pytest.raises(MastodonUnauthorizedError):
        client(mastodon_server).me()


def test_faults_are_listed_and_cleared(mastodon_server: MastodonServer) -> None:
    mastodon_server.fail_with(503, count=None)
    mastodon_server.fail_after(500)
    assert len(mastodon_server.faults()) == 2
    mastodon_server.clear_faults()
    assert mastodon_server.faults() == []


def test_rate_limit_headers_as_mastodon_py_reads_them() -> None:
    with MastodonServer(rate_limit=3, rate_limit_window=60) as server:
        api = client(server, ratelimit_method="throw")
        api.instance_v2()
        assert (api.ratelimit_limit, api.ratelimit_remaining) == (3, 2)
        api.instance_v2()
        api.instance_v2()
        with pytest.raises(MastodonRatelimitError):
            api.instance_v2()
        assert api.ratelimit_remaining == 0


def test_requests_are_counted_by_route_and_status(mastodon_server: MastodonServer) -> None:
    mastodon_server.reset_requests()
    api = client(mastodon_server, version_check_mode="none")
    api.status_post("un")
    mastodon_server.rate_limit_exceeded(retry_after=1, path="/api/v1/statuses")
    with pytest.raises(MastodonRatelimitError):
        client(mastodon_server, version_check_mode="none", ratelimit_method="throw").status_post(
            "deux")
    served = mastodon_server.requests()
    assert served["by_route"] == {"POST /api/v1/statuses": 2}
    assert served["by_status"] == {"200": 1, "429": 1} and served["total"] == 2
    mastodon_server.reset_requests()
    assert mastodon_server.requests()["total"] == 0
