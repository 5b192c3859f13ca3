"""Names Nextcloud accepts, derived deterministically and reversibly from the source's names.

The scheme (documented for users in `docs/renaming.md`):
- a refused character becomes a look-alike: `/` → `∕` (U+2215), `\\` → `＼`, and in Windows mode
  `< > : " | ? *` → `＜ ＞ ： ＂ ｜ ？ ＊`; control characters → `␀`…`␟` (U+2400 + code);
- leading and trailing spaces → `␠` (U+2420); trailing dots, the dot of a forbidden extension
  (`.part`, `.filepart`), the dot of a forbidden name (`.htaccess`) and `.`/`..` → `．` (U+FF0E);
- a reserved Windows name (`CON`, `nul.txt`, …, Windows mode) gets its first letter in full width
  (`ｃon.txt`);
- a look-alike already present in the source name is kept and marked with `‛` (U+201B) before
  it, so decoding is exact (`decode_segment`);
- a name longer than 250 bytes is shortened and given `~` and 8 hex digits of its SHA-256 before
  the extension; the original name is in the rename reason (plan and report);
- several items with the same name in one folder: numbered ` (2)`, ` (3)`… before the
  extension (`connectors/dav/collisions.py`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

from migrate.i18n import _

MAX_NAME_BYTES = 250
#: Apache's access and password files (`AccessFileName`, Debian's `<FilesMatch "^\.ht">`).
APACHE_ACCESS_FILES = (".htaccess", ".htpasswd", ".htgroup", ".htdigest")
QUOTE = "\u201b"
SPACE = "\u2420"
DOT = "\uff0e"
ALWAYS_CHARACTERS = {"/": "\u2215", "\\": "\uff3c"}
WINDOWS_CHARACTERS = {c: chr(ord(c) + 0xFEE0) for c in '<>:"|?*'}
CONTROL = {chr(code): chr(0x2400 + code) for code in range(0x20)}
_SUBSTITUTES = {*ALWAYS_CHARACTERS.values(), *WINDOWS_CHARACTERS.values(), *CONTROL.values(),
                SPACE, DOT, QUOTE}
_REVERSE = {v: k for k, v in {**ALWAYS_CHARACTERS, **WINDOWS_CHARACTERS, **CONTROL}.items()}
_REVERSE.update({SPACE: " ", DOT: "."})


def _is_substitute(char: str) -> bool:
    return char in _SUBSTITUTES or 0xFF21 <= ord(char) <= 0xFF5A  # full-width letters too


@dataclass(frozen=True)
class NameRules:
    """What the server refuses, as its capabilities say (Nextcloud 30+ keys)."""

    windows_compatible: bool = False
    forbidden_names: tuple[str, ...] = (".htaccess",)
    forbidden_basenames: tuple[str, ...] = ()
    forbidden_characters: tuple[str, ...] = ("/", "\\")
    forbidden_extensions: tuple[str, ...] = (".part", ".filepart")

    @classmethod
    def from_capabilities(cls, files: dict) -> NameRules:
        def listed(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            value = files.get(key)
            return tuple(str(v).lower() for v in value) if isinstance(value, list) else default

        names = listed("forbidden_filenames", listed("blacklisted_files", (".htaccess",)))
        return cls(bool(files.get("windows_compatible_filenames")), names,
                   listed("forbidden_filename_basenames", ()),
                   listed("forbidden_filename_characters", ("/", "\\")),
                   listed("forbidden_filename_extensions", (".part", ".filepart")))

    @cached_property  # in the instance's __dict__ (frozen: no __setattr__), not compared
    def characters(self) -> dict[str, str]:
        """The refused characters and their look-alikes: looked up once per name, where a
        cache keyed by the rules would hash all five fields each time."""
        characters = dict(ALWAYS_CHARACTERS)
        characters.update({c: WINDOWS_CHARACTERS.get(c, c) for c in self.forbidden_characters
                           if c in WINDOWS_CHARACTERS})
        return characters

    @classmethod
    def plain_webdav(cls) -> NameRules:
        """A generic server: what no file system accepts, and Apache's access files. Apache
        httpd (mod_dav, the most common WebDAV server) reads a `.htaccess` written into the
        folder it serves — one it cannot parse answers 500 to every request in that folder
        from then on — and Debian's configuration refuses every `.ht*` name (403)."""
        return cls(forbidden_names=APACHE_ACCESS_FILES, forbidden_extensions=())


def encode_segment(name: str, rules: NameRules) -> tuple[str, list[str]]:
    """(the name the server accepts, the reasons it changed); ([], unchanged)."""
    reasons: list[str] = []
    characters = rules.characters
    if name.isascii() and name.isprintable():
        # Most names: no look-alike (none is ASCII), control or refused character to look at
        # one by one; the checks below still apply. (A loop: a generator costs more than the
        # two to nine characters it looks for, once per name of a re-run.)
        for refused in characters:
            if refused in name:
                break
        else:
            return _finish(name, name, rules, reasons)
    out = []
    for char in name:
        if _is_substitute(char):
            out.append(QUOTE + char)
            # Only a marker is added, yet the name changes: the plan lists it like any rename.
            reasons.append(_("'{c}' is a character renamed names use, so '\u201b' is put "
                             "before it to keep the original name recoverable").format(c=char))
        elif char in characters:
            out.append(characters[char])
            reasons.append(_("'{c}' cannot be used in a name").format(c=char))
        elif char in CONTROL:
            out.append(CONTROL[char])
            reasons.append(_("control characters cannot be used in a name"))
        else:
            out.append(char)
    return _finish("".join(out), name, rules, reasons)


def _finish(encoded: str, name: str, rules: NameRules,
            reasons: list[str]) -> tuple[str, list[str]]:
    """The checks of a whole name: its ends, reserved names and extensions, its length."""
    encoded = _ends(encoded, reasons)
    encoded = _reserved(encoded, rules, reasons)
    if len(encoded.encode()) > MAX_NAME_BYTES:
        encoded = shorten(encoded, name)
        reasons.append(_("names are limited to {n} bytes (the full name was '{name}')")
                       .format(n=MAX_NAME_BYTES, name=name))
    return encoded, list(dict.fromkeys(reasons)) if reasons else reasons


def _ends(name: str, reasons: list[str]) -> str:
    if name and name[0] != " " and name[-1] != " " and name[-1] != ".":
        return name  # most names: nothing below changes them
    if name in ("", ".", ".."):
        reasons.append(_("'{name}' is not a usable name").format(name=name))
        return DOT * len(name) if name else "_"
    stripped = name.lstrip(" ")
    if len(stripped) != len(name):
        reasons.append(_("names cannot start with a space"))
        name = SPACE * (len(name) - len(stripped)) + stripped
    body = name.rstrip(" .")
    if len(body) != len(name):
        reasons.append(_("names cannot end with a space or a dot"))
        tail = name[len(body):]
        name = body + tail.replace(" ", SPACE).replace(".", DOT)
    return name


def _reserved(name: str, rules: NameRules, reasons: list[str]) -> str:
    lowered = name.lower()
    if lowered in rules.forbidden_names and name.startswith("."):
        reasons.append(_("'{name}' is reserved by the server").format(name=name))
        return DOT + name[1:]
    for extension in rules.forbidden_extensions:
        if extension.startswith(".") and lowered.endswith(extension):
            reasons.append(_("files ending in '{ext}' are refused by the server")
                           .format(ext=extension))
            cut = len(name) - len(extension)
            return name[:cut] + DOT + name[cut + 1:]
    dot = lowered.find(".", 1)
    basename = lowered if dot == -1 else lowered[:dot]
    if basename in rules.forbidden_basenames and name[0].isascii() and name[0].isalpha():
        reasons.append(_("'{name}' is a reserved name on Windows").format(name=basename.upper()))
        return chr(ord(name[0]) + 0xFEE0) + name[1:]
    return name


def decode_segment(encoded: str) -> str:
    """The source name an encoded segment came from (not for shortened names)."""
    out, quoted = [], False
    for char in encoded:
        if quoted:
            out.append(char)
            quoted = False
        elif char == QUOTE:
            quoted = True
        elif char in _REVERSE:
            out.append(_REVERSE[char])
        elif 0xFF21 <= ord(char) <= 0xFF5A:
            out.append(chr(ord(char) - 0xFEE0))
        else:
            out.append(char)
    return "".join(out)


def split_extension(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > 16:
        return name, ""
    return name[:dot], name[dot:]


def shorten(encoded: str, original: str) -> str:
    """Cut to 250 bytes keeping the extension, with a stable hash of the original name."""
    stem, extension = split_extension(encoded)
    suffix = "~" + hashlib.sha256(original.encode()).hexdigest()[:8] + extension
    room = MAX_NAME_BYTES - len(suffix.encode())
    cut = stem.encode()[:room].decode("utf-8", errors="ignore")
    return cut + suffix


def numbered(name: str, number: int) -> str:
    """`Budget (2).ods`, still within the byte limit."""
    stem, extension = split_extension(name)
    candidate = f"{stem} ({number}){extension}"
    if len(candidate.encode()) > MAX_NAME_BYTES:
        room = MAX_NAME_BYTES - len(f" ({number}){extension}".encode())
        candidate = f"{stem.encode()[:room].decode('utf-8', 'ignore')} ({number}){extension}"
    return candidate
