"""The layout shows the architecture (docs/decisions/0830): these keep it so."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "migrate"
LIMIT = 400


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "locale" not in p.parts)


def test_the_core_has_at_most_thirty_modules_at_its_top() -> None:
    top = [p.name for p in CORE.glob("*.py")]
    packages = [p.name for p in CORE.iterdir() if (p / "__init__.py").is_file()]
    assert len(top) + len(packages) <= 30, sorted(top + packages)


def test_no_module_of_the_core_or_the_connectors_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules(CORE) + _modules(ROOT / "connectors")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert long == {}


def test_only_the_commands_that_start_servers_import_the_stand_ins() -> None:
    # `migrate sandbox` and `migrate demo` (migrate/cli/) start them; nothing else in the core
    # may depend on them: an installed toolkit migrates without ever loading a stand-in.
    offenders = []
    for path in _modules(CORE):
        if path.parent.name == "cli":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            names += [n for n in ("sandbox",) if isinstance(node, ast.ImportFrom)
                      and node.module is None and any(a.name == n for a in node.names)]
            if any(n == "sandbox" or n.startswith("sandbox.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_connector_helpers_live_inside_their_connector_package() -> None:
    flat = sorted(p.name for p in (ROOT / "connectors").glob("mastodon_*.py"))
    assert flat == []
    assert (ROOT / "connectors" / "mastodon" / "__init__.py").is_file()
