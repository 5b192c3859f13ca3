"""Facebook, Instagram and LinkedIn exports: conformance in every layout, repaired text, media,
empty and damaged exports, and a mirror of each into the sandbox Mastodon with `migrate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from mastodon import Mastodon

from connectors.facebook_export import FacebookExportConnector
from connectors.instagram_export import InstagramExportConnector
from connectors.linkedin_export import LinkedinExportConnector, unwrap_commentary
from connectors.posts import repair_mojibake
from connectors.twitter_archive import TwitterArchiveConnector
from migrate.connector import StepContext
from migrate.errors import FatalError
from migrate.model import SourceItem
from tests.conformance.source_suite import SourceSuite
from tests.helpers import migrate
from tests.social_exports import (
    FACEBOOK_REPOST,
    PNG,
    expected_texts,
    facebook_export,
    instagram_export,
    linkedin_export,
    sample_posts,
)

CONNECTORS = {"facebook": FacebookExportConnector, "instagram": InstagramExportConnector,
              "linkedin": LinkedinExportConnector}
BUILDERS = {"facebook": facebook_export, "instagram": instagram_export,
            "linkedin": linkedin_export}
VARIANTS = ["facebook-posts-zip", "facebook-activity-zip", "facebook-page-folder",
            "instagram-content-zip", "instagram-activity-folder",
            "instagram-top-folder", "linkedin-today-zip", "linkedin-wrapped-zip",
            "linkedin-plain-folder", "linkedin-2018-folder"]


def _open(tmp_path: Path, platform: str, path: str, options: dict | None = None):
    connector = CONNECTORS[platform]({"path": path}, tmp_path)
    return connector.open_source("", StepContext("posts", "mirror", options or {}, "plan",
                                                 tmp_path))


def _build(tmp_path: Path, variant: str, posts) -> tuple[str, str]:
    platform, layout, kind = variant.split("-")
    as_zip = kind == "zip"
    destination = tmp_path / ("export.zip" if as_zip else "export")
    if not as_zip:
        destination.mkdir()
    if platform == "linkedin":
        linkedin_export(destination, posts, layout=layout, as_zip=as_zip)
    else:
        BUILDERS[platform](destination, posts, variant=layout, as_zip=as_zip)
    return platform, destination.name


@pytest.fixture(params=VARIANTS)
def export(request, tmp_path: Path) -> tuple[str, str]:
    return _build(tmp_path, request.param, sample_posts(14))


class TestExportSources(SourceSuite):
    connector = ("facebook_export", "instagram_export", "linkedin_export")

    @pytest.fixture
    def source(self, tmp_path: Path, export):
        return _open(tmp_path, *export)

    @pytest.fixture
    def expected(self, source) -> dict:
        return {item.path: None for item in source.list_items().items}


def _body(platform: str, post) -> str:
    if post.link and platform != "instagram":
        return f"{post.text.strip()}\n\n{post.link}".strip()
    return post.text.strip()


def test_every_layout_gives_the_repaired_posts_in_order(tmp_path: Path, export) -> None:
    platform, name = export
    posts = sample_posts(14)
    items = list(_open(tmp_path, platform, name).list_items().items)
    kept = [i for i in items if not i.skip_reason]
    wanted = [_body(platform, p) for p in sorted(posts, key=lambda p: p.when) if not p.repost]
    if platform == "linkedin":
        wanted.remove(_body(platform, posts[2]))  # shown to connections only: left out
    assert [i.data.text for i in kept] == wanted
    assert "Été 0 : « réunion » des bénévoles ✊" in kept[0].data.text
    dates = [i.data.created_at for i in items]
    assert dates == sorted(dates) and dates[0].endswith("+00:00")
    assert len({i.data.url for i in items}) == len(items)  # one marker per post
    if platform == "facebook":
        assert kept[0].data.url.startswith("https://www.facebook.com/centsept#fb-")
        reposts = [i for i in items if "repost" in (i.skip_reason or "")]
        assert len(reposts) == 1


def test_pictures_come_with_their_alt_text_and_bytes(tmp_path: Path, export) -> None:
    platform, name = export
    source = _open(tmp_path, platform, name)
    with_media = [i for i in source.list_items().items if i.data.media]
    assert with_media
    for item in with_media:
        for media in item.data.media:
            if platform == "linkedin":  # not in the export: kept as a link
                assert media["path"] is None and media["url"].startswith("https://")
                continue
            with source.open(SourceItem("m", media["path"])) as stream:
                assert stream.read() == PNG
    if platform != "linkedin":
        alts = [m["alt"] for i in with_media for m in i.data.media if m["alt"]]
        assert any(alt.startswith("Affiche n°") for alt in alts)


def test_keys_do_not_depend_on_the_layout(tmp_path: Path) -> None:
    posts = sample_posts(8)
    keys = []
    for variant in ("facebook-posts-zip", "facebook-activity-folder"):
        folder = tmp_path / variant
        folder.mkdir()
        platform, name = _build(folder, variant, posts)
        keys.append([i.key for i in _open(folder, platform, name).list_items().items])
    assert keys[0] == keys[1] and all(k.startswith("facebook:") for k in keys[0])


def test_mojibake_is_repaired_only_where_it_applies() -> None:
    assert repair_mojibake("Ã\x89tÃ© ð\x9f\x98\x80") == "Été 😀"
    assert repair_mojibake("café") == "café"  # real Latin-1 text stays
    assert repair_mojibake("déjà 😀") == "déjà 😀"  # already right
    assert repair_mojibake("plain") == "plain"


def test_linkedin_line_quoting_is_undone() -> None:
    assert unwrap_commentary('"Bonjour"\n""\n"Une ""AG"" !"') == 'Bonjour\n\nUne "AG" !'
    assert unwrap_commentary('Dit "oui"\net puis') == 'Dit "oui"\net puis'


@pytest.mark.parametrize("platform", ["facebook", "instagram", "linkedin"])
def test_an_empty_export_posts_nothing(tmp_path: Path, platform: str) -> None:
    _build(tmp_path, f"{platform}-{'wrapped' if platform == 'linkedin' else 'activity'}-zip",
           [])
    items = list(_open(tmp_path, platform, "export.zip").list_items().items)
    # Facebook's "updated its profile picture" is listed, with why it is not posted
    assert all(i.skip_reason for i in items) and len(items) == (platform == "facebook")


@pytest.mark.parametrize("platform", ["facebook", "instagram", "linkedin"])
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_zip_gives_a_plain_message_naming_the_file(tmp_path: Path, platform: str,
                                                             damage: str) -> None:
    layout = "wrapped" if platform == "linkedin" else "activity"
    _build(tmp_path, f"{platform}-{layout}-zip", sample_posts(30))
    data = (tmp_path / "export.zip").read_bytes()
    broken = data[: len(data) // 2] if damage == "truncated" else b"not a zip" * 100
    (tmp_path / "broken.zip").write_bytes(broken)
    with pytest.raises(FatalError) as raised:
        _open(tmp_path, platform, "broken.zip").list_items()
    assert "broken.zip" in str(raised.value) and "download" in str(raised.value)


def test_a_damaged_json_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "export" / "posts").mkdir(parents=True)
    (tmp_path / "export" / "posts" / "your_posts_1.json").write_text('[{"timestamp": 1,')
    with pytest.raises(FatalError) as raised:
        _open(tmp_path, "facebook", "export").list_items()
    assert "your_posts_1.json" in str(raised.value)


def test_each_export_is_mirrored_to_mastodon_once(tmp_path: Path, mastodon_server,
                                                  monkeypatch) -> None:
    monkeypatch.setenv("MASTODON_URL", mastodon_server.url)
    monkeypatch.setenv("MASTODON_TOKEN", mastodon_server.access_token)
    posts = sample_posts(8)
    for platform in ("facebook", "instagram", "linkedin"):
        folder = tmp_path / platform
        folder.mkdir()
        layout = "wrapped" if platform == "linkedin" else "activity"
        _build(folder, f"{platform}-{layout}-zip", posts)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Le Centsept\nconnections:\n"
        "  fb: {type: facebook_export, path: facebook/export.zip}\n"
        "  ig: {type: instagram_export, path: instagram/export.zip}\n"
        "  li: {type: linkedin_export, path: linkedin/export.zip}\n"
        "  masto: {type: mastodon, url: '${env:MASTODON_URL}', token: '${env:MASTODON_TOKEN}'}\n"
        "steps:\n"
        + "".join(f"  - id: {n}\n    mirror: {{from: {n}, to: masto}}\n"
                  for n in ("fb", "ig", "li")), encoding="utf-8")
    result = migrate("apply", plan, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    api = Mastodon(access_token=mastodon_server.access_token, api_base_url=mastodon_server.url)
    statuses = api.fetch_remaining(api.account_statuses(api.me()["id"], limit=40))
    heads = [s for s in statuses if "Publié initialement" in s["content"]
             or "First published" in s["content"]]
    by_platform = {p: [s for s in heads if f"sur {p}" in s["content"] or f"on {p}"
                       in s["content"]] for p in ("Facebook", "Instagram", "LinkedIn")}
    texts = expected_texts(posts)
    assert len(by_platform["Facebook"]) == len(texts)
    assert len(by_platform["Instagram"]) == len(texts)
    assert len(by_platform["LinkedIn"]) == len(texts) - 1  # one shown to connections only
    assert any("bénévoles ✊" in s["content"] for s in by_platform["Facebook"])
    # The exports do not say the language: French posts are recognised (py3langid, when
    # confident), so their origin line and their Mastodon language are French.
    for platform, found in by_platform.items():
        french = [s for s in found if f"Publié initialement sur {platform}" in s["content"]]
        assert len(french) >= len(found) - 1, platform  # the repost has no words of its own
        assert all(s["language"] == "fr" for s in french), platform
    assert any(s["media_attachments"] for s in by_platform["Instagram"])
    again = migrate("apply", plan, "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(api.fetch_remaining(api.account_statuses(api.me()["id"], limit=40))) == \
        len(statuses)


def test_reposts_link_makes_a_short_post_instead_of_a_skip(tmp_path: Path) -> None:
    from tests.social_samples import tweet, write_archive
    from tests.test_post_sources import WHEN

    posts = sample_posts(8)
    _build(tmp_path, "facebook-posts-zip", posts)
    options = {"reposts": "link"}
    items = list(_open(tmp_path, "facebook", "export.zip", options).list_items().items)
    (repost,) = [i for i in items if i.data.text.startswith("Shared:")]
    assert repost.skip_reason is None and FACEBOOK_REPOST in repost.data.text
    write_archive(tmp_path / "t.zip", [tweet(9, "RT @autre_asso: Venez à la fête !", WHEN)])
    twitter = TwitterArchiveConnector({"path": "t.zip"}, tmp_path).open_source(
        "", StepContext("posts", "mirror", options, "plan", tmp_path))
    (item,) = twitter.list_items().items
    assert item.skip_reason is None
    assert item.data.text == "Shared from @autre_asso: Venez à la fête !"
    skipped = TwitterArchiveConnector({"path": "t.zip"}, tmp_path).open_source(
        "", StepContext("posts", "mirror", {}, "plan", tmp_path))
    assert "repost" in next(iter(skipped.list_items().items)).skip_reason
