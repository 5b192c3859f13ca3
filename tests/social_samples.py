"""Sample Twitter archives and feeds, built by the tests in each known variant."""

from __future__ import annotations

import datetime as dt
import json
import random
import zipfile
from pathlib import Path
from typing import Any

HANDLE = "asso_centsept"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da636460f80f0000030101007e8f6a4a"
                    "0000000049454e44ae426082")
SENTENCE = "L'assemblée générale se tiendra à la Maison des associations, venez nombreux ! "


def tweet(tweet_id: int, text: str, when: dt.datetime, *, reply_to: int | None = None,
          reply_handle: str | None = None, lang: str = "fr", media: list[dict] | None = None,
          urls: list[dict] | None = None, mentions: list[str] | None = None) -> dict[str, Any]:
    entities: dict[str, Any] = {"urls": urls or [], "hashtags": [], "user_mentions": [
        {"screen_name": m, "id_str": "1"} for m in mentions or []]}
    data: dict[str, Any] = {
        "id_str": str(tweet_id), "id": str(tweet_id), "full_text": text, "lang": lang,
        "created_at": when.strftime("%a %b %d %H:%M:%S +0000 %Y"), "entities": entities,
    }
    if reply_to is not None:
        data["in_reply_to_status_id_str"] = str(reply_to)
        data["in_reply_to_screen_name"] = reply_handle or HANDLE
    if media:
        data["extended_entities"] = {"media": media}
    return data


def photo(tweet_id: int, name: str, alt: str | None = None) -> dict[str, Any]:
    return {"type": "photo", "url": f"https://t.co/m{tweet_id}",
            "media_url_https": f"https://pbs.twimg.com/media/{name}",
            "expanded_url": f"https://twitter.com/{HANDLE}/status/{tweet_id}/photo/1",
            **({"ext_alt_text": alt} if alt else {})}


def sample_tweets(count: int, seed: int = 4) -> tuple[list[dict], dict[str, bytes], dict]:
    """`count` tweets: threads, replies to others, retweets, pictures, long posts, t.co links.

    Returns (tweets, media files by name, facts) where facts counts what a mirror must post.
    """
    rng = random.Random(seed)
    start = dt.datetime(2019, 3, 1, 9, 0, tzinfo=dt.UTC)
    tweets: list[dict] = []
    media: dict[str, bytes] = {}
    facts = {"eligible": [], "skipped": [], "long": [], "with_media": [], "replies": {}}
    for index in range(count):
        tweet_id = 1_000_000 + index
        when = start + dt.timedelta(hours=7 * index)
        roll = rng.random()
        text = f"Nouvelle n°{index} de l'association #vie{index % 5}"
        kwargs: dict[str, Any] = {}
        if roll < 0.08 and tweets:
            text = f"RT @autre_asso: {text}"
        elif roll < 0.14:
            kwargs = {"reply_to": 42, "reply_handle": "quelquun"}
            text = f"@quelquun merci ! {index}"
        elif roll < 0.30 and facts["eligible"]:
            parent = int(facts["eligible"][-1])
            kwargs = {"reply_to": parent}
            text = f"Suite du fil {index}"
            facts["replies"][str(tweet_id)] = str(parent)
        elif roll < 0.40:
            text = f"Fil long {index}. " + SENTENCE * 9
            facts["long"].append(str(tweet_id))
        if rng.random() < 0.15 and not text.startswith(("RT", "@")):
            name = f"IMG{index}.png"
            media[f"{tweet_id}-{name}"] = PNG
            kwargs["media"] = [photo(tweet_id, name, alt=f"Photo {index}")]
            text += f" https://t.co/m{tweet_id}"
            facts["with_media"].append(str(tweet_id))
        if rng.random() < 0.2:
            text += f" https://t.co/l{index}"
            kwargs["urls"] = [{"url": f"https://t.co/l{index}",
                               "expanded_url": f"https://exemple.org/article/{index}"}]
        tweets.append(tweet(tweet_id, text, when, **kwargs))
        eligible = not text.startswith(("RT", "@"))
        facts["eligible" if eligible else "skipped"].append(str(tweet_id))
    return tweets, media, facts


def write_archive(destination: Path, tweets: list[dict], media: dict[str, bytes] | None = None,
                  *, variant: str = "modern", parts: int = 1, as_zip: bool = True,
                  handle: str = HANDLE) -> Path:
    """An archive in one of the known layouts.

    variant "modern": data/tweets.js, window.YTD.tweets.part0, {"tweet": …} wrappers,
    data/tweets_media/; "old": data/tweet.js, window.YTD.tweet.part0, bare entries, tweet_media/.
    """
    files: dict[str, bytes] = {}
    modern = variant == "modern"
    chunk = max(1, -(-len(tweets) // parts))
    for part in range(parts):
        entries = tweets[part * chunk:(part + 1) * chunk]
        wrapped = [{"tweet": t} for t in entries] if modern else entries
        stem = "tweets" if modern else "tweet"
        name = f"data/{stem}.js" if part == 0 else f"data/{stem}-part{part}.js"
        files[name] = (f"window.YTD.{stem}.part{part} = " + json.dumps(wrapped, indent=1)).encode()
    account = [{"account": {"username": handle, "accountId": "99"}}]
    files["data/account.js"] = ("window.YTD.account.part0 = " + json.dumps(account)).encode()
    folder = "data/tweets_media/" if modern else "tweet_media/"
    for name, content in (media or {}).items():
        files[folder + name] = content
    if as_zip:
        with zipfile.ZipFile(destination, "w") as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        return destination
    for name, content in files.items():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        (destination / name).write_bytes(content)
    return destination


def rss(entries: list[dict[str, str]], title: str = "Le Centsept — actualités") -> bytes:
    items = "".join(
        f"<item><title>{e['title']}</title><link>{e['link']}</link>"
        f"<guid>{e.get('guid', e['link'])}</guid><pubDate>{e['date']}</pubDate>"
        f"<description>{e.get('summary', '')}</description></item>" for e in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{title}</title><link>https://exemple.org/</link><language>fr</language>"
            f"{items}</channel></rss>").encode()


def atom(entries: list[dict[str, str]]) -> bytes:
    items = "".join(
        f"<entry><id>{e['id']}</id><title>{e['title']}</title><link href=\"{e['link']}\"/>"
        f"<updated>{e['date']}</updated><summary>{e.get('summary', '')}</summary></entry>"
        for e in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Blog</title><id>urn:blog</id><updated>2024-01-01T00:00:00Z</updated>"
            f"{items}</feed>").encode()
