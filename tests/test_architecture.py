"""House rules that keep the core independent of services."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_core_never_imports_a_connector() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "migrate").rglob("*.py")
                 if any(name == "connectors" or name.startswith("connectors.")
                        for name in _imports(p))]
    assert offenders == []


def test_every_registered_connector_names_itself_as_registered() -> None:
    from migrate import registry

    for name in registry.names():
        assert registry.get(name).name == name


def test_committed_schema_is_up_to_date() -> None:
    import json

    from migrate.plan.schema import plan_schema

    committed = json.loads((ROOT / "plans" / "schema.json").read_text(encoding="utf-8"))
    assert committed == plan_schema(), "run: migrate schema -o plans/schema.json"
