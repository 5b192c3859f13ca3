"""`local`: a folder on this computer, as a source and as a target. The reference connector.

Writes go to a temporary name beside the final one and are renamed into place atomically, with
the source's modification time already set, so a crash never leaves a half-written file under
its final name. The temporary name is derived from the idempotency key, so a retry or an
in-doubt verification finds and removes the leftovers of exactly that write.

The walk lives in `connectors/local/walk.py`, the source in `connectors/local/source.py`, the
target in `connectors/local/target.py` and its disk helpers in `connectors/local/files.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from connectors.local.files import probe_folding
from connectors.local.source import LocalSource
from connectors.local.target import LocalTarget
from connectors.local.walk import TEMPORARY_PREFIX
from migrate.connector import Connector, StepContext
from migrate.errors import FatalError
from migrate.i18n import _
from migrate.options import option
from migrate.plan import confine

# Also named here by the tests (leftovers, name folding), as before the split.
__all__ = ["TEMPORARY_PREFIX", "LocalConnector", "LocalOptions", "LocalSource", "LocalTarget",
           "probe_folding"]


@dataclass(frozen=True, kw_only=True)
class LocalOptions:
    path: str = option(required=True,
                       help="The folder, absolute or relative to the plan file.")
    fsync: bool = option("boolean", default=False,
                         help="Flush every file to disk before recording it as done: survives a "
                              "power cut as well as a crash, at some cost in speed.")


class LocalConnector(Connector):
    name = "local"
    summary = "A folder on this computer (or a mounted drive)."
    Options = LocalOptions
    config: LocalOptions
    source_actions = ("copy",)
    target_actions = ("copy",)

    def root(self, location: str) -> Path:
        base = (self.base_dir / self.config.path).expanduser()
        return confine.inside(base, location)

    def local_folder(self, location: str) -> Path:
        return self.root(location)

    def open_source(self, location: str, step: StepContext) -> LocalSource:
        root = self.root(location)
        if not root.is_dir():
            raise FatalError(_("the folder {path} does not exist").format(path=root))
        return LocalSource(root)

    def open_target(self, location: str, step: StepContext) -> LocalTarget:
        return LocalTarget(self.root(location), fsync=self.config.fsync)
