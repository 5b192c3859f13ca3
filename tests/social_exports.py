"""Sample Facebook, Instagram and LinkedIn exports, built by the tests in each known layout.

Facebook and Instagram write their JSON with every UTF-8 byte escaped as `\\u00XX` (mojibake);
`mojibake()` does the same, so the samples carry the damage the sources must repair.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.social_samples import PNG, SENTENCE

START = dt.datetime(2021, 2, 1, 9, 0, tzinfo=dt.UTC)
FACEBOOK_REPOST = "https://www.facebook.com/autre.asso/posts/pfbid02x"
CAROUSEL_CAPTION = "La kermesse de l'école, en images : merci à tous les bénévoles !"


@dataclass
class Post:
    text: str
    when: dt.datetime
    media: list[tuple[str, str | None]] = field(default_factory=list)  # (file name, caption)
    link: str | None = None
    repost: bool = False


def sample_posts(count: int) -> list[Post]:
    """Accents, emoji, quotes, several lines, pictures, links, a long post, a repost."""
    posts = []
    for index in range(count):
        text = f"Été {index} : « réunion » des bénévoles ✊ à l'Hôtel de ville #asso{index % 3}"
        post = Post(text, START + dt.timedelta(days=index, minutes=index))
        if index % 4 == 1:
            post.media = [(f"photo{index}.png", f"Affiche n°{index} — fête")]
        if index % 5 == 2:
            post.link = f"https://exemple.org/article/{index}"
        if index % 7 == 3:
            post.text = f'Fil long {index} : "citation" ' + SENTENCE * 8
        if index % 6 == 4:
            post.text += '\nDeuxième ligne, avec des "guillemets".\n\nEt une dernière.'
        posts.append(post)
    if count > 5:
        posts[5] = Post("", posts[5].when, link="https://exemple.org/autre", repost=True)
    return posts


def mojibake(text: str) -> str:
    """What Facebook writes: each UTF-8 byte as one character (then escaped by json.dumps)."""
    return text.encode("utf-8").decode("latin-1")


def _write(destination: Path, files: dict[str, bytes], as_zip: bool, top: str = "") -> Path:
    if as_zip:
        with zipfile.ZipFile(destination, "w") as archive:
            for name, content in files.items():
                archive.writestr(top + name, content)
        return destination
    for name, content in files.items():
        (destination / top / name).parent.mkdir(parents=True, exist_ok=True)
        (destination / top / name).write_bytes(content)
    return destination


def facebook_export(destination: Path, posts: list[Post], *, variant: str = "posts",
                    as_zip: bool = True, with_media: bool = True, extras: bool = False) -> Path:
    """variant "posts": posts/your_posts_1.json; "activity": your_facebook_activity/posts/
    your_posts__check_ins__photos_and_videos_1.json under a top folder; "page":
    profile_posts_1.json wrapped in an object. `with_media=False`: downloaded without its
    pictures (the JSON still names them); `extras`: the posts without text real exports hold
    (`FACEBOOK_EXTRAS`)."""
    folder = "your_facebook_activity/posts/" if variant == "activity" else "posts/"
    files: dict[str, bytes] = {}
    entries = []
    for post in posts:
        entry: dict = {"timestamp": int(post.when.timestamp()), "attachments": []}
        if post.text:
            entry["data"] = [{"post": mojibake(post.text)}, {"update_timestamp": 1}]
        for name, caption in post.media:
            uri = f"{folder}media/Timeline_{post.when:%Y%m%d}/{name}"
            if with_media:
                files[uri] = PNG
            entry["attachments"].append({"data": [{"media": {
                "uri": uri, "creation_timestamp": 1, "title": "",
                **({"description": mojibake(caption)} if caption else {})}}]})
        if post.link:  # a repost links to the post it shares, on Facebook itself
            url = FACEBOOK_REPOST if post.repost else post.link
            entry["attachments"].append({"data": [{"external_context": {"url": url}}]})
        if post.repost:
            entry["title"] = "Le Centsept shared a post."
        entries.append(entry)
    entries.append({"timestamp": int(START.timestamp()), "title": mojibake(
        "Le Centsept a mis à jour sa photo de profil."), "attachments": []})
    if extras:
        entries += facebook_extras(folder, files if with_media else {})
    name = {"posts": "posts/your_posts_1.json",
            "activity": folder + "your_posts__check_ins__photos_and_videos_1.json",
            "page": "profile_posts_1.json"}[variant]
    body = {"status_updates_v2": entries} if variant == "page" else entries
    files[name] = json.dumps(body, indent=1).encode("ascii")
    profile = {"profile_v2": {"name": {"full_name": "Le Centsept"},
                              "profile_uri": "https://www.facebook.com/centsept"}}
    files["profile_information/profile_information.json"] = json.dumps(profile).encode()
    top = "facebook-centsept-2024/" if variant == "activity" else ""
    return _write(destination, files, as_zip, top)


#: The extra entries of `facebook_export(extras=True)`: (what it is, the text it posts, or
#: None and a word of the reason it is skipped for).
FACEBOOK_EXTRAS = [
    ("photos only", None, None),
    ("check-in", None, "check-in at Maison des associations"),
    ("life event", None, "life event (Fondation de l'association)"),
    ("shared link", "https://exemple.org/article/partage", None),
    ("placeholder link", None, "leads nowhere (http://0.0.0.0/)"),
    ("link in mojibake", "Revue de presse\n\nhttps://exemple.es/polémicas-del-año", None),
    ("in Spanish", "Hoy presentamos el informe anual de la asociación con todas las "
                   "actividades del año.", None),
    ("six photos", "Les photos de la fête de quartier", None),
]


def facebook_extras(folder: str, files: dict[str, bytes]) -> list[dict]:
    """Entries without text (or with little) as real exports hold them, in FACEBOOK_EXTRAS'
    order, a day apart from 2023-01-01. Media are written to `files` (leave it out: missing)."""
    day = dt.datetime(2023, 1, 1, 12, tzinfo=dt.UTC)

    def photo(name: str) -> dict:
        uri = f"{folder}media/Timeline_extras/{name}"
        files[uri] = PNG
        return {"data": [{"media": {"uri": uri, "creation_timestamp": 1, "title": ""}}]}

    def entry(index: int, text: str | None = None, title: str = "", *attachments: dict) -> dict:
        when = int((day + dt.timedelta(days=index)).timestamp())
        found: dict = {"timestamp": when, "attachments": list(attachments),
                       "title": mojibake(title)}
        if text:
            found["data"] = [{"post": mojibake(text)}]
        return found

    return [
        entry(0, None, "Le Centsept a ajouté 2 nouvelles photos.", photo("a.png"), photo("b.png")),
        entry(1, None, "Le Centsept était à Maison des associations.", {"data": [{"place": {
            "name": mojibake("Maison des associations"), "coordinate": {
                "latitude": 48.85, "longitude": 2.35}, "address": "", "url": ""}}]}),
        entry(2, None, "", {"data": [{"life_event": {"title": mojibake(
            "Fondation de l'association"), "start_date": {"year": 2015}}}]}),
        entry(3, None, "Le Centsept a partagé un lien.", {"data": [{"external_context": {
            "url": "https://exemple.org/article/partage"}}]}),
        entry(4, "http://0.0.0.0/"),
        entry(5, "Revue de presse", "", {"data": [{"external_context": {
            "url": mojibake("https://exemple.es/polémicas-del-año")}}]}),
        entry(6, "Hoy presentamos el informe anual de la asociación con todas las "
                 "actividades del año."),
        entry(7, "Les photos de la fête de quartier", "",
              *(photo(f"fete{n}.png") for n in range(6))),
    ]


def instagram_export(destination: Path, posts: list[Post], *, variant: str = "content",
                     as_zip: bool = True, with_media: bool = True, carousel: int = 0) -> Path:
    """variant "content": content/posts_1.json; "activity": your_instagram_activity/content/;
    "top": posts_1.json at the top of the folder. Posts with two pictures or more are
    carousels (caption on the post), others single. `with_media=False`: downloaded without
    its pictures; `carousel`: one more post, of that many pictures."""
    folder = {"activity": "your_instagram_activity/content/", "top": ""}.get(variant,
                                                                            "content/")
    files: dict[str, bytes] = {}
    entries = []
    for post in posts:
        if post.repost:
            continue  # Instagram has no reposts in its export
        stamp = int(post.when.timestamp())
        pictures = [*post.media, (f"bis{stamp}.png", "Vue de la salle")] if post.media \
            else [(f"img{stamp}.png", None)]
        media = []
        for name, caption in pictures:
            uri = f"media/posts/{post.when:%Y%m}/{name}"
            if with_media:
                files[uri] = PNG
            media.append({"uri": uri, "creation_timestamp": stamp,
                          "title": mojibake(caption if len(pictures) > 1 else post.text)})
        if len(pictures) > 1:  # a carousel: the caption and date are the post's own
            entries.append({"media": media, "title": mojibake(post.text),
                            "creation_timestamp": stamp})
        else:
            entries.append({"media": media})
    if carousel:
        stamp = int(dt.datetime(2023, 6, 1, 10, tzinfo=dt.UTC).timestamp())
        media = []
        for n in range(carousel):
            uri = f"media/posts/202306/carousel{n}.png"
            if with_media:
                files[uri] = PNG
            media.append({"uri": uri, "creation_timestamp": stamp,
                          "title": mojibake(f"Photo {n + 1} de la kermesse")})
        entries.append({"media": media, "title": mojibake(CAROUSEL_CAPTION),
                        "creation_timestamp": stamp})
    files[folder + "posts_1.json"] = json.dumps(entries, indent=1).encode("ascii")
    personal = {"profile_user": [{"string_map_data": {"Username": {"value": "centsept"}}}]}
    files["personal_information/personal_information/personal_information.json"] = \
        json.dumps(personal).encode()
    return _write(destination, files, as_zip)


def linkedin_commentary(text: str, layout: str) -> str:
    """The commentary as it reads once the CSV is parsed, in each layout LinkedIn used.

    "today": each line wrapped in quotes with its quotes doubled, the first line without its
    opening quote (`Bonjour"` / `""` / `"Une ""AG"" !"`); "wrapped": the same with the first
    line wrapped too (older exports); "plain" and "2018": the text as it is."""
    if not text or layout in ("plain", "2018"):
        return text
    lines = ['"' + line.replace('"', '""') + '"' for line in text.split("\n")]
    if layout == "today":
        lines[0] = lines[0][1:]
    return "\n".join(lines)


def linkedin_export(destination: Path, posts: list[Post], *, layout: str = "wrapped",
                    as_zip: bool = True, pictures: int = 2) -> Path:
    """Shares.csv in one of LinkedIn's layouts ("today", "wrapped", "plain", "2018").

    "today" spells `SharedURL`/`MediaURL`, ends dates with " UTC", and writes one row per
    picture of a post (`pictures` of them); "2018" is UTF-16 with a BOM, tab-separated, with
    `Share Commentary` and dates like `2017/06/08 08:15:44 UTC`. A repost has no commentary.
    """
    out = io.StringIO(newline="")
    old = layout == "2018"
    writer = csv.writer(out, delimiter="\t" if old else ",", quoting=csv.QUOTE_MINIMAL,
                        lineterminator="\r\n")
    writer.writerow(["Date", "Share Link", "Share Commentary", "Shared URL", "Media URL",
                     "Visibility"] if old else
                    ["Date", "ShareLink", "ShareCommentary",
                     "SharedURL" if layout == "today" else "SharedUrl",
                     "MediaURL" if layout == "today" else "MediaUrl", "Visibility"])
    for index, post in enumerate(posts):
        when = post.when.strftime("%Y/%m/%d %H:%M:%S UTC" if old else "%Y-%m-%d %H:%M:%S")
        if layout == "today":
            when += " UTC"
        images = ([f"https://media.licdn.com/image/{index}-{n}.png"
                   for n in range(pictures if layout == "today" else 1)] if post.media else [""])
        link = f"https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A{7000 + index}"
        for image in images:
            writer.writerow([when, link, linkedin_commentary(post.text, layout),
                             post.link or "", image,
                             "CONNECTIONS" if index == 2 else "MEMBER_NETWORK"])
    data = out.getvalue().encode("utf-16") if old else out.getvalue().encode("utf-8")
    return _write(destination, {"Shares.csv": data}, as_zip)


def expected_texts(posts: list[Post]) -> list[str]:
    """The repaired texts a source must give, oldest first, reposts left out."""
    return [p.text for p in sorted(posts, key=lambda p: p.when) if not p.repost]
