"""Shared test configuration.

Every module in tests/fixtures/ is loaded as a pytest plugin, so a local server's fixtures live
beside each other and any test can ask for them by name.
"""

import signal
from pathlib import Path

pytest_plugins = sorted(
    f"tests.fixtures.{module.stem}"
    for module in (Path(__file__).parent / "fixtures").glob("*.py")
    if module.stem != "__init__"
)


def pytest_configure() -> None:
    """A test run started in the background by a script (`nohup … &` in a non-interactive
    shell) inherits Ctrl-C (SIGINT) ignored, and so would every `migrate` the Ctrl-C tests
    start: they would copy to the end and exit 0. Taking Python's own handler back here (in
    each xdist worker too) gives those children the default again, as from a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
