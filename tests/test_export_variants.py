"""Real-world export variants, one synthetic fixture each: `migrate plan --json` accounts for
every entry (planned + skipped by reason + merged = entries in the export), `migrate plan`
says per step how many pictures are missing, unknown layouts are named errors, and a mirror
into the sandbox Mastodon posts no status holding only its origin line, no stray quote from
LinkedIn, and every picture of a carousel."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from mastodon import Mastodon

from connectors.facebook_export import FacebookExportConnector
from connectors.linkedin_export import LinkedinExportConnector
from connectors.posts import make_post, with_more_pictures
from connectors.posts.text import detect_language
from migrate.connector import StepContext
from tests.helpers import migrate
from tests.social_exports import (
    CAROUSEL_CAPTION,
    FACEBOOK_EXTRAS,
    Post,
    facebook_export,
    instagram_export,
    linkedin_export,
    sample_posts,
)
from tests.social_samples import sample_tweets, write_archive

POSTS = sample_posts(14)
TWEETS, TWEET_MEDIA, _FACTS = sample_tweets(30)
ORIGIN = re.compile(r"(Publié initialement sur|First published on) .*$", re.MULTILINE)


def _pictures(posts: list[Post], instagram: bool = False) -> int:
    """Pictures an export names: Instagram adds one to each post (and a single one to posts
    without), Facebook only those of the posts."""
    if instagram:
        return sum(len(p.media) + 1 if p.media else 1 for p in posts if not p.repost)
    return sum(len(p.media) for p in posts)


def _dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


#: step id → (connection type, builder(folder) → path, entries, merged, missing pictures)
Variant = tuple[str, Callable[[Path], Path], int, int, int]
FB_ENTRIES = len(POSTS) + 1  # and Facebook's "updated its profile picture"
IG_ENTRIES = len([p for p in POSTS if not p.repost])
LI_ROWS = sum(2 if p.media else 1 for p in POSTS)
VARIANTS: dict[str, Variant] = {
    "fb_posts": ("facebook_export", lambda d: facebook_export(d / "e.zip", POSTS),
                 FB_ENTRIES, 0, 0),
    "fb_activity": ("facebook_export", lambda d: facebook_export(
        _dir(d / "e"), POSTS, variant="activity", as_zip=False), FB_ENTRIES, 0, 0),
    "fb_page": ("facebook_export", lambda d: facebook_export(d / "e.zip", POSTS, variant="page"),
                FB_ENTRIES, 0, 0),
    "fb_without_text": ("facebook_export", lambda d: facebook_export(
        d / "e.zip", POSTS, extras=True), FB_ENTRIES + len(FACEBOOK_EXTRAS), 0, 0),
    "fb_no_media": ("facebook_export", lambda d: facebook_export(
        d / "e.zip", POSTS, extras=True, with_media=False), FB_ENTRIES + len(FACEBOOK_EXTRAS),
        0, _pictures(POSTS) + 8),
    "ig_content": ("instagram_export", lambda d: instagram_export(d / "e.zip", POSTS),
                   IG_ENTRIES, 0, 0),
    "ig_activity": ("instagram_export", lambda d: instagram_export(
        _dir(d / "e"), POSTS, variant="activity", as_zip=False), IG_ENTRIES, 0, 0),
    "ig_top": ("instagram_export", lambda d: instagram_export(
        _dir(d / "e"), POSTS, variant="top", as_zip=False), IG_ENTRIES, 0, 0),
    "ig_carousel": ("instagram_export", lambda d: instagram_export(
        d / "e.zip", POSTS, carousel=9), IG_ENTRIES + 1, 0, 0),
    "ig_no_media": ("instagram_export", lambda d: instagram_export(
        d / "e.zip", POSTS, with_media=False, carousel=9), IG_ENTRIES + 1, 0,
        _pictures(POSTS, instagram=True) + 9),
    "li_today": ("linkedin_export", lambda d: linkedin_export(d / "e.zip", POSTS, layout="today"),
                 LI_ROWS, LI_ROWS - len(POSTS), 0),
    "li_wrapped": ("linkedin_export", lambda d: linkedin_export(d / "e.zip", POSTS),
                   len(POSTS), 0, 0),
    "li_plain": ("linkedin_export", lambda d: linkedin_export(
        _dir(d / "e"), POSTS, layout="plain", as_zip=False), len(POSTS), 0, 0),
    "li_2018": ("linkedin_export", lambda d: linkedin_export(
        _dir(d / "e"), POSTS, layout="2018", as_zip=False), len(POSTS), 0, 0),
    "tw_modern": ("twitter_archive", lambda d: write_archive(d / "e.zip", TWEETS, TWEET_MEDIA),
                  len(TWEETS), 0, 0),
    "tw_old": ("twitter_archive", lambda d: write_archive(
        _dir(d / "e"), TWEETS, TWEET_MEDIA, variant="old", as_zip=False), len(TWEETS), 0, 0),
    "tw_parts": ("twitter_archive", lambda d: write_archive(
        d / "e.zip", TWEETS, TWEET_MEDIA, parts=3), len(TWEETS), 0, 0),
    "tw_no_media": ("twitter_archive", lambda d: write_archive(d / "e.zip", TWEETS),
                    len(TWEETS), 0, len(TWEET_MEDIA)),
}


def _plan(tmp_path: Path, url: str, token: str, steps: dict[str, Variant]) -> Path:
    connections = []
    for step, (kind, build, *_counts) in steps.items():
        path = build(_dir(tmp_path / step)).relative_to(tmp_path)
        connections.append(f"  {step}: {{type: {kind}, path: {path.as_posix()}}}\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Le Centsept\nconnections:\n" + "".join(connections)
        + f"  masto: {{type: mastodon, url: '{url}', token: '{token}'}}\n"
        "steps:\n" + "".join(f"  - id: {step}\n    mirror: {{from: {step}, to: masto}}\n"
                             for step in steps), encoding="utf-8")
    return plan


def test_plan_accounts_for_every_entry_of_every_variant(tmp_path: Path, mastodon_server) -> None:
    plan = _plan(tmp_path, mastodon_server.url, mastodon_server.access_token, VARIANTS)
    result = migrate("plan", plan, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    text = migrate("plan", plan)
    assert text.returncode == 0, text.stderr
    sections = dict(re.findall(r"Step '(\w+)':(.*?)(?=\nStep '|\nPlan: )", text.stdout, re.S))
    for step, (_kind, _build, entries, merged, missing) in VARIANTS.items():
        count = answer["post_counts"][step]
        assert (count["source"], count["accounted"], count["merged"]) == \
            (entries, entries, merged), step
        assert count["problems"] == [] and count["missing_pictures"] == missing, step
        changes = [c for c in answer["changes"] if c["step"] == step]
        assert all(c["reason"] for c in changes if c["action"] == "skip"), step
        assert count["to_post"] + sum(count["skipped"].values()) == \
            len([c for c in changes if not c["source_key"].rsplit("#", 1)[-1]
                 .startswith("pictures")]), step
        if missing:  # said in the plan, under its step
            assert f"{missing} pictures are missing from the export" in sections[step], step
        else:
            assert "missing from the export" not in sections[step], step
    extras = answer["post_counts"]["fb_without_text"]["skipped"]
    reasons = " | ".join(extras)
    for _what, _text, why in FACEBOOK_EXTRAS:
        assert why is None or why in reasons
    assert answer["post_counts"]["ig_carousel"]["extra_statuses"] == 2


@pytest.mark.parametrize("kind", ["facebook_export", "instagram_export", "linkedin_export",
                                  "twitter_archive"])
def test_an_unknown_layout_is_an_error_naming_what_was_expected(tmp_path: Path, kind: str,
                                                                mastodon_server) -> None:
    def build(folder: Path) -> Path:
        (folder / "notes.txt").write_text("rien")
        return folder

    plan = _plan(tmp_path, mastodon_server.url, mastodon_server.access_token,
                 {"posts": (kind, build, 0, 0, 0)})
    folder = tmp_path / "posts"
    result = migrate("plan", plan)
    assert result.returncode == 1, result.stdout
    assert "does not look like" in result.stderr and "notes.txt" in result.stderr
    assert {"facebook_export": "your_posts_1.json", "instagram_export": "posts_1.json",
            "linkedin_export": "Shares.csv", "twitter_archive": "tweets.js"}[kind] \
        in result.stderr
    (folder / "outbox.json").write_text('{"orderedItems": []}')
    (folder / "actor.json").write_text("{}")
    result = migrate("plan", plan)
    assert result.returncode == 1 and "Mastodon account export" in result.stderr


def _open(kind: type, tmp_path: Path, path: str, options: dict | None = None):
    return kind({"path": path}, tmp_path).open_source(
        "", StepContext("posts", "mirror", options or {}, "plan", tmp_path))


def test_linkedin_today_reads_without_stray_quotes_and_merges_picture_rows(
        tmp_path: Path) -> None:
    posts = [Post('Première ligne\n\nUne "AG" !\nFin', POSTS[0].when, media=[("a", None)]),
             Post("", POSTS[1].when, link="https://exemple.org/repris"),
             Post("", POSTS[2].when)]
    linkedin_export(tmp_path / "e.zip", posts, layout="today", pictures=3)
    listing = _open(LinkedinExportConnector, tmp_path, "e.zip").list_items()
    items = list(listing.items)
    assert (listing.posts.entries, listing.posts.merged) == (5, 2)
    assert items[0].data.text == 'Première ligne\n\nUne "AG" !\nFin'
    assert [m["url"] for m in items[0].data.media] == [
        f"https://media.licdn.com/image/0-{n}.png" for n in range(3)]
    assert items[0].data.created_at == POSTS[0].when.isoformat()
    assert all("repost" in (i.skip_reason or "") for i in items[1:])
    linked = list(_open(LinkedinExportConnector, tmp_path, "e.zip",
                        {"reposts": "link"}).list_items().items)
    assert "https://exemple.org/repris" in linked[1].data.text and not linked[1].skip_reason
    assert "no link to the original" in linked[2].skip_reason


def test_language_is_tagged_only_when_confident_and_never_guessed_french() -> None:
    assert detect_language("Hoy presentamos el informe anual de la asociación, con todas las "
                           "polémicas del año.") == "es"
    assert detect_language("Atelier compost samedi à 14 h, ouvert à toutes et à tous.") == "fr"
    assert detect_language("Join us on Saturday for the general meeting at the town hall!") \
        == "en"
    assert detect_language("Merci ! https://exemple.org/un-tres-long-lien #asso @ami") is None


def test_facebook_link_in_mojibake_is_repaired(tmp_path: Path) -> None:
    facebook_export(tmp_path / "e.zip", [], extras=True)
    items = list(_open(FacebookExportConnector, tmp_path, "e.zip").list_items().items)
    texts = [i.data.text for i in items]
    assert "Revue de presse\n\nhttps://exemple.es/polémicas-del-año" in texts
    assert not any("Ã" in t for t in texts)


def _body(status: dict) -> str:
    """The status as text, without its origin line."""
    text = html.unescape(re.sub(r"<br\s*/?>|</p>", "\n", status["content"]))
    return ORIGIN.sub("", re.sub(r"<[^>]+>", "", text)).strip()


def test_mirror_posts_no_empty_status_no_stray_quote_and_every_picture(
        tmp_path: Path, mastodon_server) -> None:
    posts = sample_posts(8)
    steps: dict[str, Variant] = {
        "li": ("linkedin_export", lambda d: linkedin_export(d / "e.zip", posts, layout="today"),
               0, 0, 0),
        "fb": ("facebook_export", lambda d: facebook_export(d / "e.zip", [], extras=True,
                                                            with_media=False), 0, 0, 0),
        "ig": ("instagram_export", lambda d: instagram_export(_dir(d / "e"), posts[:2],
                                                              variant="top", as_zip=False,
                                                              carousel=9), 0, 0, 0),
    }
    plan = _plan(tmp_path, mastodon_server.url, mastodon_server.access_token, steps)
    result = migrate("apply", plan, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    api = Mastodon(access_token=mastodon_server.access_token, api_base_url=mastodon_server.url)
    statuses = api.fetch_remaining(api.account_statuses(api.me()["id"], limit=40))
    for status in statuses:  # every status has words or pictures of its own
        assert _body(status) or status["media_attachments"], status["content"]
    linkedin = [s for s in statuses if "LinkedIn" in s["content"]]
    wanted = [p for i, p in enumerate(posts) if p.text and i != 2]  # 2: connections only
    assert len(linkedin) == len(wanted)
    for post in wanted:
        assert any(_body(s).startswith(post.text[:40]) for s in linkedin), post.text
    # no stray quote anywhere: LinkedIn's wrapping is undone (the other posts have none)
    assert sum(_body(s).count('"') for s in statuses) == sum(p.text.count('"') for p in wanted)
    facebook = [s for s in statuses if "Facebook" in s["content"]]
    bodies = [_body(s) for s in facebook]
    assert "http://0.0.0.0/" not in " ".join(bodies)
    assert any("polémicas-del-año" in b for b in bodies)
    (spanish,) = [s for s in facebook if _body(s).startswith("Hoy presentamos")]
    assert spanish["language"] == "es" and "First published on Facebook" in spanish["content"]
    # pictures missing from the export: the post keeps its words; photos-only is not posted
    assert any(_body(s).startswith("Les photos de la fête") for s in facebook)
    assert len(facebook) == sum(1 for _w, text, _why in FACEBOOK_EXTRAS if text)
    (head,) = [s for s in statuses if _body(s).startswith(CAROUSEL_CAPTION)]
    chain, pictures = [head], len(head["media_attachments"])
    while (nxt := [s for s in statuses if s["in_reply_to_id"] == chain[-1]["id"]]):
        chain.append(nxt[0])
        pictures += len(nxt[0]["media_attachments"])
    assert [len(s["media_attachments"]) for s in chain] == [4, 4, 1] and pictures == 9
    # the report reconciles the posts of each step as the plan did
    report = json.loads(migrate("report", plan, "--format", "json").stdout)
    facebook_count = report["post_counts"]["fb"]
    assert facebook_count["source"] == facebook_count["accounted"] == len(FACEBOOK_EXTRAS) + 1
    assert facebook_count["missing_pictures"] == 8
    assert report["post_counts"]["li"]["merged"] == sum(1 for p in posts if p.media)
    markdown = migrate("report", plan, "--format", "md").stdout
    assert "Posts in the source: 9 =" in markdown and "8 pictures are missing" in markdown
    again = migrate("apply", plan, "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(api.fetch_remaining(api.account_statuses(api.me()["id"], limit=40))) == \
        len(statuses)


def test_linkedin_row_the_csv_cuts_is_skipped_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "Shares.csv").write_text(
        "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility\n"
        "2023-01-02 10:00:00,https://www.linkedin.com/feed/update/urn:li:share:1,Bonjour\n"
        "suite sans guillemets,,,MEMBER_NETWORK\n", encoding="utf-8")
    listing = _open(LinkedinExportConnector, tmp_path, "Shares.csv").list_items()
    cut, first = listing.items  # undated first
    assert first.data.text == "Bonjour" and first.skip_reason is None
    assert "could not be read" in cut.skip_reason and listing.posts.entries == 2


def test_facebook_posts_without_text_are_posted_with_every_picture(tmp_path: Path,
                                                                   mastodon_server) -> None:
    steps: dict[str, Variant] = {"fb": ("facebook_export", lambda d: facebook_export(
        d / "e.zip", [], extras=True), 0, 0, 0)}
    plan = _plan(tmp_path, mastodon_server.url, mastodon_server.access_token, steps)
    result = migrate("apply", plan, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    api = Mastodon(access_token=mastodon_server.access_token, api_base_url=mastodon_server.url)
    statuses = api.fetch_remaining(api.account_statuses(api.me()["id"], limit=40))
    # photos only: no words, its two pictures; a shared link: the link
    assert [len(s["media_attachments"]) for s in statuses if not _body(s)] == [2]
    assert any(_body(s) == "https://exemple.org/article/partage" for s in statuses)
    (head,) = [s for s in statuses if _body(s).startswith("Les photos de la fête")]
    (rest,) = [s for s in statuses if s["in_reply_to_id"] == head["id"]]
    assert (len(head["media_attachments"]), len(rest["media_attachments"])) == (4, 2)
    assert _body(rest).startswith("📷 5–6/6")
    posted = sum(1 for _w, text, why in FACEBOOK_EXTRAS if why is None)
    assert len(statuses) == posted + 1  # and the continuation of the six photos


def test_a_video_goes_alone_and_pictures_by_four() -> None:
    """Mastodon refuses a video beside pictures (PostStatusService: images_and_video)."""
    media = [{"path": f"m/{n}.{'mp4' if n == 2 else 'png'}", "alt": None, "url": None,
              "type": "video" if n == 2 else "image"} for n in range(7)]
    url = "https://www.instagram.com/centsept#ig-x"
    parts = with_more_pictures(make_post("instagram:x", {
        "text": CAROUSEL_CAPTION, "url": url, "media": media,
        "created_at": "2023-06-01T10:00:00+00:00"}))
    assert [[m["path"] for m in p.data.media] for p in parts] == [
        ["m/0.png", "m/1.png"], ["m/2.mp4"], [f"m/{n}.png" for n in range(3, 7)]]
    assert [p.data.reply_to_url for p in parts] == [None, url, f"{url}-2"]
    assert [p.data.text for p in parts[1:]] == ["📷 3/7", "📷 4–7/7"]
    assert len({p.key for p in parts}) == 3 and all(not p.skip_reason for p in parts)
