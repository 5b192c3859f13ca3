"""Servers speaking Mastodon's API that are not Mastodon, through the real `migrate` command.

The sandbox plays each dialect (sandbox/mastodon_dialects.py, from the servers' code:
docs/decisions/0320): Takahē's 404 on a trailing slash and its `takahe/0.11.0`, images only;
Akkoma's missing v2 instance document; GoToSocial's and Takahē's ignored idempotency keys.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from mastodon import Mastodon, errors

from connectors.mastodon.dialects import AKKOMA, TAKAHE, read_dialect
from sandbox.mastodon import MastodonServer
from tests.helpers import migrate
from tests.social_samples import HANDLE, PNG, photo, tweet, write_archive

WHEN = dt.datetime(2022, 5, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def takahe(mastodon_dialect):
    return mastodon_dialect("takahe")


def gifv(tweet_id: int, name: str) -> dict:
    """Twitter's "animated GIF": an MP4 video in the archive."""
    return {"type": "animated_gif", "url": f"https://t.co/g{tweet_id}",
            "media_url_https": f"https://pbs.twimg.com/tweet_video_thumb/{name}.jpg",
            "expanded_url": f"https://twitter.com/{HANDLE}/status/{tweet_id}/photo/1",
            "video_info": {"variants": [{"bitrate": 0, "content_type": "video/mp4",
                                         "url": f"https://video.twimg.com/tweet_video/{name}.mp4"}]}}


def _plan(folder: Path, server: MastodonServer, url: str | None = None,
          step_options: str = "") -> Path:
    plan = folder / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Le Centsept\nconnections:\n"
        "  tweets: {type: twitter_archive, path: archive.zip}\n"
        f"  masto: {{type: mastodon, url: '{url or server.url}', "
        "token: '${env:MASTODON_TOKEN}'}\n"
        "steps:\n  - id: posts\n    mirror: {from: tweets, to: masto}\n"
        + (f"    with: {{{step_options}}}\n" if step_options else ""), encoding="utf-8")
    return plan


def _statuses(server: MastodonServer) -> list[dict]:
    api = Mastodon(access_token=server.access_token, api_base_url=server.url,
                   version_check_mode="none")
    found = api.fetch_remaining(api.account_statuses(api.account_verify_credentials()["id"],
                                                     limit=40))
    return sorted(found, key=lambda s: int(s["id"]))


def test_mastodon_py_alone_fails_on_takahe(takahe) -> None:
    """What the target no longer relies on: Mastodon.py asks `/api/v2/instance/`."""
    api = Mastodon(access_token=takahe.access_token, api_base_url=takahe.url,
                   version_check_mode="none")
    with pytest.raises(errors.MastodonNotFoundError):
        api.instance_v2()


def test_takahe_plan_and_apply_with_pictures_and_a_gif(tmp_path, takahe, monkeypatch) -> None:
    takahe.reset()
    monkeypatch.setenv("MASTODON_TOKEN", takahe.access_token)
    write_archive(tmp_path / "archive.zip", [
        tweet(1, "Notre affiche", WHEN, media=[photo(1, "A.png", alt="Affiche")]),
        tweet(2, "Ça bouge !", WHEN + dt.timedelta(days=1), media=[gifv(2, "G")]),
    ], {"1-A.png": PNG, "2-G.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(64)})
    plan = _plan(tmp_path, takahe)
    planned = migrate("--lang", "en", "plan", plan)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert ("1 picture or video will be a link in its post, not an attachment (Takahē 0.11.0: "
            "this server takes no videos: 1)") in planned.stdout, planned.stdout
    run = migrate("--lang", "en", "apply", plan, "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    picture, gif = _statuses(takahe)
    assert [m["description"] for m in picture["media_attachments"]] == ["Affiche"]
    assert gif["media_attachments"] == []
    assert "Picture or video not posted here (this server takes no videos)" in gif["content"]
    assert "https://twitter.com/asso_centsept/status/2/photo/1" in gif["content"]
    again = migrate("apply", plan, "--yes")
    assert again.returncode == 0 and again.stdout.startswith("Nothing to do"), again.stdout
    assert len(_statuses(takahe)) == 2


def test_a_picture_over_the_size_limit_becomes_a_link(tmp_path, takahe, monkeypatch) -> None:
    takahe.reset()
    monkeypatch.setenv("MASTODON_TOKEN", takahe.access_token)
    big = PNG + bytes(11 * 1024 * 1024)  # Takahē takes 10 MB
    write_archive(tmp_path / "archive.zip",
                  [tweet(1, "Grande affiche", WHEN, media=[photo(1, "B.png")])], {"1-B.png": big})
    run = migrate("--lang", "en", "apply", _plan(tmp_path, takahe), "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    [status] = _statuses(takahe)
    assert status["media_attachments"] == []
    assert "too large for this server (11.5 MB, at most 10.5 MB)" in status["content"]


def test_a_wrong_address_names_the_endpoints_and_the_cause(tmp_path, takahe,
                                                           monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", takahe.access_token)
    write_archive(tmp_path / "archive.zip", [tweet(1, "Bonjour", WHEN)])
    run = migrate("--lang", "en", "plan", _plan(tmp_path, takahe, url=takahe.url + "/social"))
    assert run.returncode == 1
    output = run.stdout + run.stderr
    assert "answered HTTP 404 (not found) to both GET /api/v2/instance and GET " \
           "/api/v1/instance" in output, output
    assert "Unexpected error" not in output and "Traceback" not in output


def test_spacing_is_refused_where_the_server_keeps_no_scheduled_posts(tmp_path, takahe,
                                                                    monkeypatch) -> None:
    takahe.reset()
    monkeypatch.setenv("MASTODON_TOKEN", takahe.access_token)
    write_archive(tmp_path / "archive.zip", [tweet(1, "Plus tard", WHEN)])
    run = migrate("--lang", "en", "apply", _plan(tmp_path, takahe, step_options="spacing: 1h"),
                  "--yes")
    assert run.returncode == 1
    assert "'spacing' is not possible" in run.stdout + run.stderr
    assert "Takahē 0.11.0" in run.stdout + run.stderr
    assert _statuses(takahe) == []


def test_dialects_read_from_the_servers_own_documents() -> None:
    # Takahē's api/views/instance.py (v2), Akkoma's v1 document (no v2 in older releases).
    takahe = read_dialect({"version": "takahe/0.11.0", "configuration": {
        "statuses": {"max_characters": 500, "max_media_attachments": 4},
        "media_attachments": {"supported_mime_types": ["image/gif", "image/png"],
                              "image_size_limit": 10485760, "video_size_limit": 0}}})
    assert (takahe.software, takahe.version, takahe.honours_idempotency) == (TAKAHE, "0.11.0",
                                                                              False)
    assert takahe.refusal("video/mp4") and takahe.refusal("image/png") is None
    akkoma = read_dialect(json.loads('{"version": "2.7.2 (compatible; Akkoma 3.13.2)", '
                                     '"max_toot_chars": 5000, "upload_limit": 16000000}'))
    assert (akkoma.software, akkoma.limits.max_characters) == (AKKOMA, 5000)
    assert akkoma.honours_idempotency and akkoma.refusal("image/png", 17_000_000)


def test_takahe_keeps_every_picture_and_its_description_in_any_order(tmp_path, takahe,
                                                                     monkeypatch) -> None:
    """Takahē returns attachments in no fixed order: each keeps its own description."""
    takahe.reset()
    monkeypatch.setenv("MASTODON_TOKEN", takahe.access_token)
    pictures = [photo(1, f"{name}.png", alt=f"Photo {name}") for name in "ABC"]
    for index, picture in enumerate(pictures, 1):
        picture["expanded_url"] = f"https://twitter.com/{HANDLE}/status/1/photo/{index}"
    write_archive(tmp_path / "archive.zip", [tweet(1, "Trois photos", WHEN, media=pictures)],
                  {f"1-{name}.png": PNG for name in "ABC"})
    run = migrate("apply", _plan(tmp_path, takahe), "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    [status] = _statuses(takahe)
    assert sorted(m["description"] for m in status["media_attachments"]) == [
        "Photo A", "Photo B", "Photo C"]
    assert status["language"] is None  # as Takahē answers: the post was sent with "fr"


def test_pictures_past_the_servers_limit_are_said_in_the_plan() -> None:
    """A server taking fewer pictures per post than the source splits by (4): the pictures
    past its limit that have no address to link to are counted in the plan, never lost
    without a word (the post says it too when written)."""
    from connectors.mastodon.dialects import Dialect
    from connectors.mastodon.media import MediaUploader
    from connectors.mastodon.text import Limits
    from migrate.item_meta import PostMeta
    from migrate.model import Action, Change, SourceItem

    item = SourceItem("fb:1", "fb/1", data=PostMeta(media=[
        {"path": f"photos/{n}.jpg"} for n in range(4)] + [{"url": "https://ex.org/5.jpg"}]))
    uploader = MediaUploader(None, Dialect("smallserver", "1.0", Limits(max_media=2)))
    [note] = uploader.plan_notes([Change("posts", Action.CREATE, item, "fb/1", "new")])
    assert note.startswith("2 pictures are past what this server takes in one post (2)")
