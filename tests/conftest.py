"""Shared test configuration.

Every module in tests/fixtures/ is loaded as a pytest plugin, so a local server's fixtures live
beside each other and any test can ask for them by name.
"""

from pathlib import Path

pytest_plugins = sorted(
    f"tests.fixtures.{module.stem}"
    for module in (Path(__file__).parent / "fixtures").glob("*.py")
    if module.stem != "__init__"
)
