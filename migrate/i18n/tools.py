"""Keep the catalogues up to date: `python -m migrate.i18n.tools update` (from a clone).

`update` extracts every message of `migrate/` and `connectors/` into
`migrate/locale/transhumance.pot`, merges it into each language's `.po` (new messages empty,
changed ones marked fuzzy with a guess) and compiles the `.mo` the program reads; it then lists
what still needs a translator. `check` only lists, and exits 1 when something is missing.

Messages are found by reading the code (Python's own parser, through Babel's extraction API):
- `_("…")`, `N_("…")`, `ngettext("…", "…", n)`;
- `_(NAME)` / `_(NAME[key])` where NAME is a constant of the same module (a string, or a
  dict/tuple/list of strings): its strings;
- `help="…"` in any call (click options, connector `Option`s), `text="…"` (init's questions),
  `summary = "…"` class attributes (connector summaries);
- the docstring of every click command and group (their help).
"""

from __future__ import annotations

import ast
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from migrate.i18n import DOMAIN, LOCALE_DIR, TRANSLATED

ROOT = LOCALE_DIR.parent.parent
SOURCES = ("migrate", "connectors")
POT = LOCALE_DIR / f"{DOMAIN}.pot"
MESSAGE_CALLS = {"_", "N_", "gettext"}
TEXT_KEYWORDS = {"help", "text"}
CLICK_DECORATORS = {"command", "group"}


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
            options: Any) -> Iterator[tuple[int, str | None, Any, list[str]]]:
    """A Babel extraction method (see the module docstring for what it finds)."""
    tree = ast.parse(fileobj.read())
    constants = _module_constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from _from_call(node, constants)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (isinstance(statement, ast.Assign) and _text(statement.value)
                        and any(isinstance(t, ast.Name) and t.id == "summary"
                                for t in statement.targets)):
                    yield statement.lineno, None, _text(statement.value), []
        elif isinstance(node, ast.FunctionDef) and _is_click_command(node):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, None, doc, []


def _from_call(node: ast.Call, constants: dict[str, list[tuple[int, str]]]) -> Iterator[Any]:
    name = _call_name(node)
    if name in MESSAGE_CALLS and node.args:
        argument = node.args[0]
        if _text(argument):
            yield node.lineno, None, _text(argument), []
        else:  # _(CONSTANT) or _(CONSTANT[key]): the constant's strings
            if isinstance(argument, ast.Subscript):
                argument = argument.value
            if isinstance(argument, ast.Name):
                for lineno, text in constants.get(argument.id, []):
                    yield lineno, None, text, []
    elif name == "ngettext" and len(node.args) >= 2:
        singular, plural = _text(node.args[0]), _text(node.args[1])
        if singular and plural:
            yield node.lineno, "ngettext", (singular, plural), []
    for keyword in node.keywords:
        if keyword.arg in TEXT_KEYWORDS and _text(keyword.value):
            yield keyword.value.lineno, None, _text(keyword.value), []


def _module_constants(tree: ast.Module) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value = statement.value
            if isinstance(value, ast.Dict):
                parts = value.values
            elif isinstance(value, ast.Tuple | ast.List):
                parts = value.elts
            else:
                parts = [value]
            texts = [(p.lineno, _text(p)) for p in parts if p is not None and _text(p)]
            for target in targets:
                if isinstance(target, ast.Name) and texts:
                    found[target.id] = texts  # type: ignore[assignment]
    return found


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _is_click_command(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and _call_name(d) in CLICK_DECORATORS
               for d in node.decorator_list)


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a message (what a translation must keep)."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:  # a lone brace: not a format string
        return set()


def extract_catalog() -> Any:
    """Every message of the source tree, as a Babel catalogue (the template)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="Transhumance", domain=DOMAIN, charset="utf-8",
                      msgid_bugs_address="", copyright_holder="Transhumance contributors")
    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", extract)]):
            texts = message if isinstance(message, tuple) else (message,)
            flags = ["python-brace-format"] if any(placeholders(t) for t in texts) else []
            catalog.add(message, None, [(f"{folder}/{filename}", lineno)], flags=flags)
    return catalog


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_po(language: str) -> Any:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po as read

    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, charset="utf-8")
    with path.open("rb") as handle:
        return read(handle, locale=language, domain=DOMAIN)


def needs_work(catalog: Any) -> list[Any]:
    """Messages with no translation, a fuzzy one, or one that changes the placeholders."""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        if (message.fuzzy or not all(texts)
                # A plural form may use either id's placeholders (click formats both keys).
                or any(placeholders(t) - placeholders(ids[0]) - placeholders(ids[-1])
                       for t in texts)
                or not placeholders(ids[0]) <= placeholders(texts[0])):
            missing.append(message)
    return missing


def update() -> dict[str, list[Any]]:
    """Extract, merge and compile; returns what each language still needs."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    template = extract_catalog()
    POT.parent.mkdir(parents=True, exist_ok=True)
    with POT.open("wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_by_file=True)
    todo = {}
    for language in TRANSLATED:
        catalog = read_po(language)
        catalog.update(template, update_header_comment=False)
        catalog.obsolete.clear()  # a removed message's translation is not worth keeping
        po_path(language).parent.mkdir(parents=True, exist_ok=True)
        with po_path(language).open("wb") as handle:
            write_po(handle, catalog, width=100, sort_by_file=True)
        with po_path(language).with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)  # fuzzy entries are left out: English shows instead
        todo[language] = needs_work(catalog)
    return todo


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command not in ("update", "check"):
        print("usage: python -m migrate.i18n.tools [update|check]", file=sys.stderr)
        return 2
    todo = update() if command == "update" else {lang: needs_work(read_po(lang))
                                                 for lang in TRANSLATED}
    for language, messages in todo.items():
        print(f"{language}: {len(messages)} message(s) to translate in {po_path(language)}")
        for message in messages:
            where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
            print(f"  {'fuzzy ' if message.fuzzy else ''}{message.id!r}  ({where})")
    return 1 if command == "check" and any(todo.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
