"""A module imported on first use: `migrate --version` and `--help` answer without loading the
plan reader, the runner, YAML, tenacity or the connector registry (issue 16: startup)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands for the module `name` and imports it at the first attribute read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_target"] = None

    def __getattr__(self, attribute: str) -> Any:
        target = self.__dict__["_target"]
        if target is None:
            from migrate.runner import gcpause

            with gcpause.paused():  # an import makes long-lived objects, not garbage
                target = self.__dict__["_target"] = importlib.import_module(self.__name__)
        return getattr(target, attribute)
