"""Options declared once, as a frozen dataclass per connector (and per step side): the
OptionSet that validation, the schema and `connectors show` read is derived from it, and the
connector receives its options typed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from migrate import registry
from migrate.connector import NoOptions
from migrate.diff import CoreStepOptions
from migrate.options import declared, typed
from migrate.plan.plan_file import CORE_STEP_OPTIONS

ROOT = Path(__file__).resolve().parents[1]
SECRET = "Zk7Q9xT2-tres-secret-value"
#: Untyped look-ups of a connection's or a step's options by name.
LOOKUP = re.compile(r"""\b(config|options)(\[|\.get\()\s*["']""")
#: The one read of another connector's step option: the Drive reads no permissions when the
#: target (nextcloud) says `sharing: ignore`.
ALLOWED = {("connectors/google_drive/connector.py", 'step.options.get("sharing")')}


@pytest.mark.parametrize("name", registry.names())
def test_every_connector_declares_its_options_as_a_dataclass(name: str) -> None:
    connector = registry.get(name)
    for dataclass_name, set_name in (("Options", "options"),
                                     ("SourceStepOptions", "source_step_options"),
                                     ("TargetStepOptions", "target_step_options")):
        declared_class = getattr(connector, dataclass_name)
        option_set = getattr(connector, set_name)
        assert dataclasses.is_dataclass(declared_class)
        assert declared_class.__dataclass_params__.frozen
        assert option_set == declared(declared_class), f"{name}.{set_name}"
    assert connector.Options is not NoOptions


def test_no_connector_reads_its_options_by_name() -> None:
    found = []
    for path in sorted((ROOT / "connectors").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if LOOKUP.search(line) and not any(relative == file and text in line
                                               for file, text in ALLOWED):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []


@pytest.mark.parametrize("name", registry.names())
def test_a_connection_secret_never_shows_in_the_typed_options(name: str) -> None:
    connector = registry.get(name)
    values = {o.name: SECRET if o.secret else _sample(o.kind, o.choices)
              for o in connector.options if o.required or o.secret}
    config = typed(connector.Options, values)
    for secret in connector.options.secret_names():
        assert getattr(config, secret) == SECRET
    assert SECRET not in repr(config)


def test_typed_fills_the_declared_defaults_and_ignores_other_declarations() -> None:
    options = typed(CoreStepOptions, {"include": ["Rapports/**"], "sharing": "ignore"})
    assert options == CoreStepOptions(include=("Rapports/**",))
    assert options.overwrite == "conflict" and options.exclude == () and options.max_per_run is None
    assert [o.name for o in CORE_STEP_OPTIONS] == ["overwrite", "include", "exclude",
                                                   "max_per_run"]


def test_a_declared_mapping_default_is_never_shared_between_connections() -> None:
    csv = registry.get("csv")
    first = typed(csv.Options, {"path": "a.csv"})
    first.columns["name"] = "Nom"
    assert typed(csv.Options, {"path": "b.csv"}).columns == {"email": "email"}
    assert csv.options.get("columns").default == {"email": "email"}


def _sample(kind: str, choices: tuple[str, ...]) -> object:
    if choices:
        return choices[0]
    return {"url": "https://example.org", "integer": 1, "number": 1.0, "boolean": True,
            "list": [], "mapping": {}}.get(kind, "value")
