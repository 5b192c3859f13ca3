"""Seeds and mutations for the fuzz suite (tests/test_fuzz.py): valid plans and inputs of every
source format, and Hypothesis strategies that break them the way issue 14's campaign did."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from sandbox.samples_mailing import (
    mailchimp_export_files,
    sample_members,
    write_google_groups_export,
    write_members_csv,
)
from tests import hostile_archives as hostile
from tests.social_exports import facebook_export, instagram_export, linkedin_export, sample_posts
from tests.social_samples import tweet, write_archive

#: Secrets the fuzzed plans may reference; none may ever appear in what the program shows or
#: stores. The file secret has two lines, and ends with a newline.
ENV_SECRET = "Zq7-fuzz-SECRET-value-41"
FILE_SECRET = "line-one-SECRET-x9:a@b\nline-two-SECRET-y8\n"
LINE_SECRET = "one-line-SECRET-z5\n"
SECRET_PIECES = (ENV_SECRET, "line-one-SECRET-x9", "line-two-SECRET-y8", "one-line-SECRET-z5")
ENVIRONMENT = {"FUZZ_PASSWORD": ENV_SECRET, "FUZZ_TOKEN": ENV_SECRET}

#: Every seed plan also carries these: a connection whose secrets are references (resolved by
#: validate), and one whose folder is a secret; steps may be mutated to use them.
EXTRA_CONNECTIONS = (
    "  vault: {type: webdav, url: 'http://u:${env:FUZZ_TOKEN}@127.0.0.1:9/dav/', user: u, "
    "password: '${env:FUZZ_PASSWORD}'}\n"
    "  hidden: {type: local, path: '${file:line.txt}'}\n"
    "  drive: {type: google_drive, credentials: '${file:secret.txt}'}\n")

MEMBER_TARGET = "  files: {type: listmonk_csv, path: out}\n"


@dataclass(frozen=True)
class Seed:
    """A valid plan and the files it reads, by path relative to the plan's folder."""

    name: str
    plan: str
    files: dict[str, bytes]
    #: The input file the archive/content mutations break.
    victim: str
    links: dict[str, str] = field(default_factory=dict)

    def write(self, folder: Path, plan: str | None = None,
              files: dict[str, bytes] | None = None) -> Path:
        (folder / "secret.txt").write_text(FILE_SECRET, encoding="utf-8")
        (folder / "line.txt").write_text(LINE_SECRET, encoding="utf-8")
        (folder / "outside").mkdir(exist_ok=True)
        for name, data in (files or self.files).items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, (1_700_000_000, 1_700_000_000))  # same listing in every example
        for link, points_to in self.links.items():
            (folder / link).parent.mkdir(parents=True, exist_ok=True)
            (folder / link).symlink_to(points_to)
        (folder / "plan.yaml").write_text(plan if plan is not None else self.plan,
                                          encoding="utf-8", errors="surrogatepass")
        return folder / "plan.yaml"


def _zip(files: dict[str, bytes]) -> bytes:
    return hostile.zip_of(files)


def _local_seed() -> Seed:
    files = {f"src/{name}": data for name, data in {
        "Rapport 2024.txt": b"rapport\n" * 40, "Budget/comptes.csv": b"a;b\n1;2\n",
        "Budget/vide.txt": b"", "photos/été.jpg": b"\xff\xd8\xff" + b"x" * 300,
        "out/file.txt": b"through the link?"}.items()}
    plan = ("version: 1\norganisation: Fuzz\nvars: {folder: src}\nconnections:\n"
            "  here: {type: local, path: '${var.folder}'}\n  there: {type: local, path: dst}\n"
            + EXTRA_CONNECTIONS +
            "steps:\n  - id: files\n    copy: {from: here, to: 'there:/Archives'}\n"
            "    with: {overwrite: newer, exclude: ['**/*.tmp'], max_per_run: 50}\n")
    return Seed("local", plan, files, "src/Rapport 2024.txt",
                links={"dst/Archives/out": "../../outside"})


def _member_plan(source: str) -> str:
    return ("version: 1\nconnections:\n" + source + MEMBER_TARGET + EXTRA_CONNECTIONS +
            "steps:\n  - id: lettre\n    export: {from: audience, to: 'files:Lettre'}\n"
            "    with: {pending: drop}\n")


def _mailchimp_seed() -> Seed:
    files = {f"members_export_1/{n}": d
             for n, d in mailchimp_export_files(sample_members()[:12]).items()}
    return Seed("mailchimp_export", _member_plan(
        "  audience: {type: mailchimp_export, path: export.zip}\n"),
        {"export.zip": _zip(files)}, "export.zip")


def _csv_seed(folder: Path) -> Seed:
    path = write_members_csv(folder / "membres.csv", sample_members()[:12], delimiter=";")
    source = ("  audience: {type: csv, path: membres.csv, columns: {email: Courriel, first_name: "
              "Prénom, last_name: Nom, status: Statut, tags: Groupes}, statuses: {abonné: "
              "subscribed, désabonné: unsubscribed, NPAI: cleaned, 'en attente': pending, "
              "transactional: transactional}, tag_separator: '|'}\n")
    return Seed("csv", _member_plan(source), {"membres.csv": path.read_bytes()}, "membres.csv")


def _groups_seed(folder: Path) -> Seed:
    members, banned = write_google_groups_export(folder / "groups", sample_members()[:12])
    source = ("  audience: {type: google_groups_export, path: groups/membres.csv, "
              "banned_path: groups/bannis.csv}\n")
    return Seed("google_groups_export", _member_plan(source),
                {"groups/membres.csv": members.read_bytes(),
                 "groups/bannis.csv": banned.read_bytes()}, "groups/membres.csv")


def _takeout_seed() -> Seed:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        when = (2023, 6, 15, 10, 30, 0)
        for name, data in {"Communication/Affiche été.pdf": b"%PDF-1.4\n" * 100,
                           "Budget.xlsx": b"PK xlsx", "vide.txt": b""}.items():
            out.writestr(zipfile.ZipInfo(f"Takeout/Drive/{name}", when), data)
    plan = ("version: 1\nconnections:\n  takeout: {type: google_takeout, path: "
            "takeout-20240101T000000Z-001.zip}\n  there: {type: local, path: dst}\n"
            + EXTRA_CONNECTIONS +
            "steps:\n  - id: drive\n    copy: {from: takeout, to: there}\n")
    return Seed("google_takeout", plan,
                {"takeout-20240101T000000Z-001.zip": buffer.getvalue()},
                "takeout-20240101T000000Z-001.zip")


def cli_seeds(folder: Path) -> list[Seed]:
    """Seeds run through the whole command (sources whose targets need no server)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [_local_seed(), _mailchimp_seed(), _csv_seed(folder), _groups_seed(folder),
            _takeout_seed()]


def post_exports(folder: Path) -> dict[str, bytes]:
    """A zip of each social export format: the post sources, fuzzed at the source's edge (their
    only target, Mastodon, is a server)."""
    folder.mkdir(parents=True, exist_ok=True)
    when = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    tweets = [tweet(i, f"Bonjour n°{i} https://t.co/x{i}", when + dt.timedelta(hours=i),
                    reply_to=i - 1 if i % 3 == 0 else None) for i in range(1, 7)]
    exports = {"twitter_archive": write_archive(folder / "t.zip", tweets,
                                                {"1-photo.jpg": b"\xff\xd8" * 50})}
    posts = sample_posts(5)
    exports["facebook_export"] = facebook_export(folder / "f.zip", posts)
    exports["instagram_export"] = instagram_export(folder / "i.zip", posts)
    exports["linkedin_export"] = linkedin_export(folder / "l.zip", posts)
    return {name: path.read_bytes() for name, path in exports.items()}


# -- mutations --------------------------------------------------------------------------------

TOKENS = ["..", "../", "/../../escape", "dst:/../../escape", "${env:FUZZ_PASSWORD}",
          "${file:secret.txt}", "${file:line.txt}", "${env:FUZZ_TOKEN}", "${var.folder}",
          "${var.nope}",
          "${keyring:a/b}", "$${", "!!float x", "!!int y", "!!binary ===", "!!timestamp 2024-13-45",
          "&a", "*a", "*zz", "<<: *a", "[", "]", "{", "}", "\x00", "\x0c", "\x7f", "\ufffe",
          "\x1b[2J", "\u202e", "\n", ": ", "- ", "? ", "'", '"', "\\", "#", "|", ">", "~",
          "1e999", "-1", "0", "true", "null", "[]", "{}", "9" * 40, "x" * 5000, "\t",
          "copy", "mirror", "export", "from", "to", "with", "type", "path", "id",
          "local", "webdav", "csv", "hidden:", "vault:", "there:", "files:", "\ud800"]

YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
    | st.text(max_size=30) | st.sampled_from(TOKENS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


@st.composite
def text_mutation(draw: st.DrawFn, text: str) -> str:
    """A few edits at random places: insert a token or random text, delete, repeat a line."""
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["token", "text", "delete", "line"]))
        if kind == "token":
            text = text[:position] + draw(st.sampled_from(TOKENS)) + text[position:]
        elif kind == "text":
            text = text[:position] + draw(st.text(max_size=12)) + text[position:]
        elif kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 30)):]
        else:
            lines = text.splitlines(keepends=True)
            index = draw(st.integers(0, max(len(lines) - 1, 0)))
            lines.insert(index, lines[index] if lines else "")
            text = "".join(lines)
    return text


def _paths(value: Any, at: tuple = ()) -> list[tuple]:
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*at, index))
    return found


@st.composite
def structure_mutation(draw: st.DrawFn, text: str) -> str:
    """One value of the plan replaced by a random one (of any type), or a key added."""
    data = yaml.safe_load(text)
    at = draw(st.sampled_from(_paths(data)[1:]))
    parent = data
    for key in at[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        parent[at[-1]] = draw(YAML_VALUES)
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from([*TOKENS, "extra"]))] = draw(YAML_VALUES)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def json_mutation(draw: st.DrawFn, text: str) -> str:
    """A saved plan edited by hand: one value replaced (a target path by '../../x' …)."""
    data = json.loads(text)
    at = draw(st.sampled_from(_paths(data)[1:]))
    parent = data
    for key in at[:-1]:
        parent = parent[key]
    parent[at[-1]] = draw(YAML_VALUES | st.sampled_from(["../../outside/x", "/tmp/x", "a/../../b"]))
    return json.dumps(data, ensure_ascii=False)


NAME_TEXT = st.lists(st.sampled_from(["a", "é", "/", ".", "..", "\\", " ", "\n", "\x1b[1m",
                                      "\x00", "*", "?", "[", "${", "}", ":", "~", "ｅ"]),
                     max_size=12).map("".join)


@st.composite
def gentle_mutation(draw: st.DrawFn, text: str) -> str:
    """Edits that keep the plan valid more often, to reach what runs after `validate`: the
    step's locations, its filters, the organisation's name."""
    data = yaml.safe_load(text)
    step = data["steps"][0]
    action = next(a for a in ("copy", "mirror", "export") if a in step)
    for end in ("from", "to"):
        if draw(st.booleans()):
            connection = str(step[action][end]).partition(":")[0]
            step[action][end] = f"{connection}:{draw(NAME_TEXT)}"
    options = step.setdefault("with", {}) or {}
    if draw(st.booleans()):
        options[draw(st.sampled_from(["include", "exclude"]))] = draw(
            st.lists(NAME_TEXT, max_size=3))
    if draw(st.booleans()):
        options["max_per_run"] = draw(st.integers(-3, 5))
    if draw(st.booleans()):
        options["overwrite"] = draw(st.sampled_from(["conflict", "never", "newer", "always"]))
    step["with"] = options
    if draw(st.booleans()):
        data["organisation"] = draw(st.text(max_size=20))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def plan_mutation(text: str) -> st.SearchStrategy[str]:
    return st.one_of(text_mutation(text), structure_mutation(text), gentle_mutation(text))


@st.composite
def bytes_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Raw damage: flipped bytes, a cut, junk inserted."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "cut", "insert"]))
        position = draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[position] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del out[position:]
        else:
            out[position:position] = draw(st.binary(min_size=1, max_size=16))
    return bytes(out)


CONTENT_TOKENS = [b"\xff\xfe", b"\x00", b'\\ud800', b'"', b",", b";", b"\r\n",
                  b"\n\n", b"[" * 2000, b"{" * 50, b"null", b"123", b"[]", b"{}", b'"x"',
                  b"=" * 200_000, b'"' + b"y" * 140_000 + b'"', b"\xc3", b"\x1b[31m",
                  b"Email Address", b"@", b"..", b"/", b"\\u0000"]


@st.composite
def content_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Edit the text of a file (inside the zip, when it is one): tokens, cuts, repeats."""
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["token", "bytes", "delete"]))
        if kind == "token":
            data = data[:position] + draw(st.sampled_from(CONTENT_TOKENS)) + data[position:]
        elif kind == "bytes":
            data = data[:position] + draw(st.binary(max_size=8)) + data[position:]
        else:
            data = data[:position] + data[position + draw(st.integers(1, 200)):]
    return data


@st.composite
def archive_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """A zip damaged at any level: its bytes, one entry's text, its headers, or a bomb."""
    if not data.startswith(b"PK"):
        return draw(st.one_of(bytes_mutation(data), content_mutation(data)))
    kind = draw(st.sampled_from(["bytes", "entry", "entry", "entry", "header", "bomb"]))
    if kind == "bytes":
        return draw(bytes_mutation(data))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    if kind == "entry":
        name = draw(st.sampled_from(sorted(entries)))
        entries[name] = draw(content_mutation(entries[name]))
        return hostile.zip_of(entries)
    if kind == "bomb":
        name = draw(st.sampled_from(sorted(entries)))
        return hostile.bomb(name, size=draw(st.sampled_from([8 << 20, 32 << 20])),
                            prefix=entries[name][:200])
    damage: Callable[[bytes], bytes] = draw(st.sampled_from([
        hostile.encrypted, hostile.flipped_bit,
        lambda raw: hostile.with_compression_method(raw, 93),
        lambda raw: hostile.with_name_bytes(raw, b"e", b"\xff")]))
    return damage(data)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
