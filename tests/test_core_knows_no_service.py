"""The core (`migrate/`, the stand-in servers aside) names no service: what it shows about one
comes from that service's connector. Comments and docstrings may cite a service as an example;
code and messages may not."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from migrate import registry
from migrate.plan.plan_file import load_plan
from migrate.report.data import _labels
from migrate.report.sections import sections

CORE = Path(__file__).parent.parent / "migrate"
#: Services and servers the toolkit knows, as words (a registered type name is one too).
SERVICES = ("drive", "google", "nextcloud", "mastodon", "gotosocial", "akkoma", "takahe",
            "mailman", "listmonk", "mailchimp", "mailpoet", "twitter", "facebook", "instagram",
            "linkedin", "takeout", "vcard")
#: Words journals written by earlier versions hold, read back under today's neutral names.
LEGACY = {("item_meta.py", '"drive_member"')}
#: Tokens that hold words (Python 3.12 splits f-strings in parts).
WORDY = {tokenize.NAME, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}


def _service_words() -> re.Pattern[str]:
    names = {*SERVICES, *(n for n in registry.names() if "_" in n or n in SERVICES)}
    words = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"(?<![a-z])({words})(?![a-z])", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    """First lines of the docstrings of a module, its classes and functions."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.add(body[0].lineno)
    return lines


def names_a_service(path: Path, pattern: re.Pattern[str]) -> list[str]:
    """`file:line: token` for every name or string (docstrings aside) naming a service."""
    text = path.read_text(encoding="utf-8")
    docstrings = _docstrings(ast.parse(text))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in WORDY:
            continue
        if token.type == tokenize.STRING and token.start[0] in docstrings:
            continue
        if pattern.search(token.string) and (path.name, token.string) not in LEGACY:
            found.append(f"{path}:{token.start[0]}: {token.string}")
    return found


def _core_modules() -> list[Path]:
    return [p for p in sorted(CORE.rglob("*.py"))
            if "sandbox" not in p.relative_to(CORE).parts]


def test_the_core_names_no_service() -> None:
    pattern = _service_words()
    assert [hit for path in _core_modules() for hit in names_a_service(path, pattern)] == []


def test_the_check_sees_a_service_in_code_but_not_in_a_docstring(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text('"""Like a Drive file id."""\n\n'
                      'def f(row):\n    """Reads Nextcloud."""\n'
                      '    return {"mastodon_url": row}  # Mastodon\n')
    assert names_a_service(module, _service_words()) == [f"{module}:5: \"mastodon_url\""]


def test_the_report_titles_its_maps_with_the_connectors_labels(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\norganisation: Les Amis\nconnections:\n"
        "  drive: {type: google_takeout, path: takeout.zip}\n"
        "  cloud: {type: nextcloud, url: 'https://cloud.example.org', user: u, password: p}\n"
        "  tweets: {type: twitter_archive, path: a.zip}\n"
        "  masto: {type: mastodon, url: 'https://mastodon.example', token: t}\n"
        "steps:\n  - id: documents\n    copy: {from: 'drive:/', to: 'cloud:/Docs'}\n"
        "  - id: posts\n    mirror: {from: tweets, to: masto}\n", encoding="utf-8")
    data = {"share_map": [{"step": "documents"}], "post_map": [{"step": "posts"}]}
    labels = _labels(load_plan(plan), data)
    assert labels == {"shares_from": "Google Takeout", "shares_to": "Nextcloud",
                      "posts_to": "Mastodon"}
    report = {"share_map": [{}], "post_map": [{}], "reconciliations": {}, "member_skips": [],
              "step_details": [], "renamed": [], "skipped": [], "conflicts": [], "stale": [],
              "failures": [], "done": [], "labels": labels}
    titles = [s.title for s in sections(report)]
    assert "Share map: Google Takeout to Nextcloud" in titles
    assert "Post map: original → Mastodon" in titles
