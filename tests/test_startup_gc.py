"""The collector's young-object threshold at start-up (decision 0495)."""

from __future__ import annotations

import subprocess
import sys


def _threshold_after_import(before: str) -> tuple[int, int, int]:
    probe = f"import gc\n{before}\nimport migrate\nprint(gc.get_threshold())"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    return tuple(int(n) for n in result.stdout.strip("()\n").split(","))  # type: ignore[return-value]


def test_importing_migrate_raises_only_the_young_threshold() -> None:
    # Python's default is (700, 10, 10): the older generations keep theirs.
    assert _threshold_after_import("gc.set_threshold(700, 10, 10)") == (50_000, 10, 10)


def test_a_higher_threshold_chosen_before_is_kept() -> None:
    assert _threshold_after_import("gc.set_threshold(200_000, 5, 7)") == (200_000, 5, 7)
