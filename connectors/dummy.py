"""`dummy`: a folder on this computer whose writes fail on purpose — test equipment for the
runner's retries, as dlt's `dummy` destination is for its loader.

Writes go through the `local` target (so what succeeds is really on disk and passes the
conformance suites); before each attempt the item may fail, by probability or by script:

    connections:
      flaky: {type: dummy, path: out, retry_probability: 0.3, retry_after: 0.1, seed: 7}
      scripted: {type: dummy, path: out, script: {"a.txt": [transient, transient], "b.txt": [skip]}}

An attempt's draw depends on the seed, the item and the attempt's number only — never on the
order in which threads ran — so a seeded run fails the same items the same way every time.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.local import LocalConnector, LocalOptions
from connectors.local.target import LocalTarget
from migrate.connector import Source, StepContext
from migrate.errors import ConnectorError, FatalError, SkipItem, TransientError
from migrate.i18n import _
from migrate.model import Change, TargetEntry
from migrate.options import option

#: What a script may ask of one attempt.
OUTCOMES = ("transient", "fatal", "skip", "ok")


@dataclass(frozen=True)
class DummyOptions(LocalOptions):
    fail_probability: float = option("number", default=0.0,
                                     help="Chance (0 to 1) that an attempt fails for good: the "
                                          "item is skipped.")
    retry_probability: float = option("number", default=0.0,
                                      help="Chance (0 to 1) that an attempt fails in a way worth "
                                           "retrying.")
    retry_after: float | None = option("number", help="Seconds the target asks to wait before "
                                                      "retrying (none by default).")
    seed: int = option("integer", default=0,
                       help="Seed of the draws: one seed, the same failures on every run.")
    script: Mapping[str, Any] = option("mapping",
                                       help="Item path → outcomes of its first attempts, in "
                                            "order (transient, fatal, skip, ok); the draws "
                                            "decide the attempts after them.")


class DummyConnector(LocalConnector):
    name = "dummy"
    summary = "Test equipment: a local folder whose writes fail on purpose (retries, errors)."
    Options = DummyOptions
    config: DummyOptions
    source_actions = ()

    def open_target(self, location: str, step: StepContext) -> DummyTarget:
        script = {str(path): [str(outcome) for outcome in outcomes]
                  for path, outcomes in self.config.script.items()}
        for path, outcomes in script.items():
            for outcome in outcomes:
                if outcome not in OUTCOMES:
                    raise FatalError(_("'{outcome}' in the script of {path} is not one of: "
                                       "{choices}").format(outcome=outcome, path=path,
                                                           choices=", ".join(OUTCOMES)))
        return DummyTarget(self.root(location), self.config, script)


class DummyTarget(LocalTarget):
    def __init__(self, root: Any, config: DummyOptions,
                 script: dict[str, list[str]]) -> None:
        super().__init__(root, fsync=config.fsync)
        self.fail_probability = float(config.fail_probability)
        self.retry_probability = float(config.retry_probability)
        self.retry_after = None if config.retry_after is None else float(config.retry_after)
        self.seed = int(config.seed)
        self.script = script
        #: Item path → the moments (time.monotonic) of its attempts: what a test inspects.
        self.attempts: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _outcome(self, path: str) -> str:
        with self._lock:
            moments = self.attempts.setdefault(path, [])
            moments.append(time.monotonic())
            number = len(moments)
        scripted = self.script.get(path, [])
        if number <= len(scripted):
            return scripted[number - 1]
        draw = random.Random(f"{self.seed}:{path}:{number}").random()
        if draw < self.fail_probability:
            return "skip"
        if draw < self.fail_probability + self.retry_probability:
            return "transient"
        return "ok"

    def _error(self, path: str) -> ConnectorError | None:
        outcome = self._outcome(path)
        if outcome == "transient":
            return TransientError(_("the dummy target is busy on purpose; trying again"),
                                  retry_after=self.retry_after)
        if outcome == "fatal":
            return FatalError(_("the dummy target refuses everything on purpose"))
        if outcome == "skip":
            return SkipItem(_("the dummy target refused this item on purpose"))
        return None

    def write(self, change: Change, source: Source, idempotency_key: str) -> TargetEntry:
        error = self._error(change.item.path)
        if error is not None:
            raise error
        return super().write(change, source, idempotency_key)
