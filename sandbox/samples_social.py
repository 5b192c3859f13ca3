"""Sample social posts for `migrate demo`: a small Twitter archive and a website's feed, in French.

The archive holds 20 tweets: a three-tweet thread, a long post (becomes a thread on Mastodon),
a picture with alt text, a retweet and a reply to someone else (both left out, with a reason),
links shortened by t.co. The feed is RSS with three articles, served by the `feed` sandbox
server (`sandbox.feed`).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

HANDLE = "jardin_partage"
#: A 1×1 green PNG: small, and a real picture a server can process.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
                    "53de0000000c4944415408d763f8cff00000030101000518d84e0000000049"
                    "454e44ae426082")
START = dt.datetime(2022, 3, 5, 9, 30, tzinfo=dt.UTC)
LONG = ("Grande nouvelle : la mairie nous confie la parcelle du square Lamartine pour trois ans. "
        "Nous y planterons des fruitiers, un potager pédagogique pour les écoles du quartier et "
        "une mare pour les grenouilles. Les travaux commencent en avril ; toutes les bonnes "
        "volontés sont les bienvenues, même sans expérience. Nous prêterons les outils, les gants "
        "et les conseils. Merci à toutes celles et ceux qui ont signé la pétition l'an dernier : "
        "sans vous, rien de tout cela ne serait possible. Rendez-vous samedi à 10 h devant la "
        "grille pour une première visite, suivie d'un pique-nique partagé.")
TEXTS = [
    "Bienvenue sur le compte du Jardin Partagé ! 🌱",
    "Les semis de tomates sont lancés dans la serre. Qui veut des plants ?",
    "Atelier compost samedi à 14 h, ouvert à toutes et à tous.",
    "Fil : comment nous avons monté le jardin, en trois étapes.",
    "1. Trouver un terrain et convaincre la mairie (deux ans de patience).",
    "2. Réunir les voisins : une soupe, une affiche, et beaucoup de café.",
    "Nos premières fraises ! Photo prise ce matin.",
    "RT @ville_verte: Appel à projets pour les jardins de quartier.",
    "@voisin_curieux merci pour les graines, elles ont toutes levé !",
    LONG,
    "Fermeture exceptionnelle du jardin ce dimanche (orage annoncé).",
    "Récolte de courges record : 42 kg ! Tout part à l'épicerie solidaire.",
    "Merci aux élèves de l'école Jules-Ferry pour leurs nichoirs.",
    "Notre assemblée générale aura lieu le 12 : ordre du jour sur le site https://t.co/ag",
    "Bourse aux graines le mois prochain, apportez vos sachets.",
    "Le jardin sera ouvert tout l'été, du mardi au samedi.",
    "Nouveau : un hôtel à insectes construit par les bénévoles.",
    "Les journées du patrimoine au jardin : visites guidées toute la journée.",
    "Bilan de l'année en ligne, merci à toutes et à tous !",
    "Bonne année ! Que 2024 soit fertile. 🌻",
]
THREAD = {4: 3, 5: 4}  # index of a reply → index of its parent (our own thread)


def _tweet(index: int, text: str) -> dict[str, Any]:
    tweet_id = str(1_500_000_000_000_000_000 + index)
    when = START + dt.timedelta(days=37 * index, hours=index)
    data: dict[str, Any] = {
        "id_str": tweet_id, "id": tweet_id, "full_text": text, "lang": "fr",
        "created_at": when.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "entities": {"urls": [], "hashtags": [], "user_mentions": []},
    }
    if index in THREAD:
        data["in_reply_to_status_id_str"] = str(1_500_000_000_000_000_000 + THREAD[index])
        data["in_reply_to_screen_name"] = HANDLE
    if text.startswith("@voisin_curieux"):
        data["in_reply_to_status_id_str"] = "1234"
        data["in_reply_to_screen_name"] = "voisin_curieux"
        data["entities"]["user_mentions"] = [{"screen_name": "voisin_curieux", "id_str": "7"}]
    if "https://t.co/ag" in text:
        data["entities"]["urls"] = [{"url": "https://t.co/ag",
                                     "expanded_url": "https://jardin-partage.example/ag"}]
    if text.startswith("Nos premières fraises"):
        data["full_text"] += " https://t.co/photo"
        data["extended_entities"] = {"media": [{
            "type": "photo", "url": "https://t.co/photo",
            "media_url_https": "https://pbs.twimg.com/media/fraises.png",
            "expanded_url": f"https://twitter.com/{HANDLE}/status/{tweet_id}/photo/1",
            "ext_alt_text": "Une barquette de fraises rouges sur une table en bois"}]}
    return data


def write_twitter_archive(destination: Path) -> Path:
    """The demo's Twitter archive (a zip, as Twitter gives it) at `destination`."""
    tweets = [_tweet(index, text) for index, text in enumerate(TEXTS)]
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w") as archive:
        archive.writestr("data/tweets.js", "window.YTD.tweets.part0 = " + json.dumps(
            [{"tweet": t} for t in tweets], ensure_ascii=False, indent=1))
        archive.writestr("data/account.js", "window.YTD.account.part0 = " + json.dumps(
            [{"account": {"username": HANDLE, "accountId": "1"}}]))
        photo = next(t for t in tweets if "extended_entities" in t)
        archive.writestr(f"data/tweets_media/{photo['id_str']}-fraises.png", PNG)
    return destination


def demo_feed() -> bytes:
    """The association website's RSS feed: three articles."""
    articles = [
        ("Portes ouvertes le 3 juin", "portes-ouvertes", "Sat, 03 Jun 2023 08:00:00 +0000",
         "Venez découvrir le jardin, ses bénévoles et ses ruches."),
        ("Compte rendu de l'assemblée générale", "ag-2023", "Mon, 12 Jun 2023 18:00:00 +0000",
         "Le bureau a été renouvelé ; le budget 2024 est adopté."),
        ("Appel aux bénévoles pour l'été", "benevoles-ete", "Fri, 30 Jun 2023 09:00:00 +0000",
         "Arrosage, récoltes, accueil : inscrivez-vous sur le tableau."),
    ]
    items = "".join(
        f"<item><title>{title}</title><link>https://jardin-partage.example/{slug}</link>"
        f"<guid>https://jardin-partage.example/{slug}</guid><pubDate>{date}</pubDate>"
        f"<description>{summary}</description></item>"
        for title, slug, date, summary in articles)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Jardin Partagé</title><link>https://jardin-partage.example/</link>"
            f"<language>fr</language>{items}</channel></rss>").encode()


def write_social_samples(folder: Path) -> None:
    """Everything `migrate demo` mirrors to Mastodon that is read from files."""
    write_twitter_archive(folder / "twitter-archive.zip")
