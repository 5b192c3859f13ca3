"""Find English words left in a French page: words of the catalogue's English messages that no
French translation uses, found in the text a reader sees (code, links and data left aside)."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

from migrate.i18n import tools as i18n_tools

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
#: Words both languages write alike or that name things (services, technical tokens).
SHARED = {"plan", "apply", "migrate", "mailman", "nextcloud", "mastodon", "listmonk", "drive",
          "google", "takeout", "mailchimp", "csv", "json", "html", "yaml", "sha", "id", "ok",
          "url", "api", "rest", "transhumance", "pdf", "identities", "overwrite", "export",
          "mirror", "copy", "with", "newer", "always", "never", "conflict", "sharing", "map",
          "report", "ignore", "reposts", "skip", "utc", "dry", "run"}


@cache
def english_only() -> frozenset[str]:
    """Lower-case words of English messages that appear in no French translation."""
    catalogue = i18n_tools.read_po("fr")
    english: set[str] = set()
    french: set[str] = set()
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            english.update(w.lower() for w in WORD.findall(_without_placeholders(text)))
        for text in texts:
            french.update(w.lower() for w in WORD.findall(_without_placeholders(text or "")))
    return frozenset(w for w in english - french - SHARED if len(w) > 2)


def _without_placeholders(text: str) -> str:
    return re.sub(r"\{[^}]*\}|'[^']*'|`[^`]*`", " ", text)


class _VisibleText(HTMLParser):
    """The page's prose: what is not code, a link's address, a style or a script."""

    SKIP = frozenset({"code", "pre", "style", "script", "svg", "a", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def english_words_in(page: str) -> list[str]:
    """English words a French reader would meet in this HTML page, in order of appearance."""
    parser = _VisibleText()
    parser.feed(page)
    text = " ".join(parser.parts)
    text = re.sub(r"\S+@\S+|https?://\S+|\S+\.\w{2,4}\b", " ", text)  # addresses, file names
    found = [w for w in WORD.findall(text) if w.lower() in english_only()]
    return list(dict.fromkeys(found))
