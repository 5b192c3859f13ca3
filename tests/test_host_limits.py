"""Per-host write limits shared across clients, and what the event stream may never hold.

Two runners (two clients' steps) write side by side through real local targets; a thin
wrapper counts writes in flight, as tests/test_runner.py scripts failures — the runner's gate is
what is under test, no service is imitated.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from connectors.local import LocalConnector
from migrate.connector import StepContext
from migrate.consent import address_hash
from migrate.journal import Journal
from migrate.member_meta import MemberMeta
from migrate.model import Change, ItemKind, SourceItem, TargetEntry
from migrate.plan.references import Redactor
from migrate.runner.events import EventLog
from migrate.runner.executor import Runner
from migrate.runner.hosts import HostLimits, host_of
from tests.conformance.samples import MemorySource, change_for


class CountingTarget:
    """Counts writes in flight across every instance sharing `counter`."""

    def __init__(self, real, counter: dict[str, int], lock: threading.Lock) -> None:
        self.real, self.counter, self.lock = real, counter, lock
        self.capabilities = real.capabilities

    def write(self, change: Change, source, key: str) -> TargetEntry:
        with self.lock:
            self.counter["now"] += 1
            self.counter["max"] = max(self.counter["max"], self.counter["now"])
        try:
            time.sleep(0.01)
            return self.real.write(change, source, key)
        finally:
            with self.lock:
                self.counter["now"] -= 1


def _two_clients_at_once(tmp_path: Path, limits: HostLimits | None) -> int:
    counter, lock = {"now": 0, "max": 0}, threading.Lock()
    runs = []
    for client in ("a", "b"):
        folder = tmp_path / client
        context = StepContext("files", "copy", {}, "plan", folder)
        real = LocalConnector({"path": "out"}, folder).open_target("", context)
        source = MemorySource()
        changes = [change_for(source.add(f"f{i}", b"x" * i), f"f{i}") for i in range(24)]
        gate = limits.gate("cloud.example.org", 8) if limits else None
        runs.append((folder, changes, source, CountingTarget(real, counter, lock), gate))

    def run(folder, changes, source, target, gate) -> None:
        journal = Journal(folder / "journal.sqlite")  # one per client, used from its thread
        runner = Runner(journal, journal.start_run("test"), "plan", 4, str, gate=gate)
        assert runner.run("files", changes, source, target).done == 24
        journal.close()

    threads = [threading.Thread(target=run, args=args) for args in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in ("a", "b"):  # every write happened (an assert in a thread would not fail)
        assert len(list((tmp_path / client / "out").iterdir())) == 24
    return counter["max"]


def test_two_clients_on_one_host_never_exceed_its_limit_together(tmp_path: Path) -> None:
    assert _two_clients_at_once(tmp_path / "capped", HostLimits(per_host=2)) <= 2
    # Without the shared limit, the same two clients do write more at once (the test can fail).
    assert _two_clients_at_once(tmp_path / "free", None) > 2


def test_one_semaphore_per_host_sized_by_the_first_target() -> None:
    limits = HostLimits()
    assert limits.gate("a", 3) is limits.gate("a", 10)
    assert limits.sizes() == {"a": 3}
    assert host_of(None, {"url": "https://Cloud.Example.org/nc"}) == "cloud.example.org"
    assert host_of(None, {"url": "http://127.0.0.1:8080"}) == "127.0.0.1:8080"
    assert host_of("api.host", {"url": "https://other"}) == "api.host"
    assert host_of(None, {"path": "/srv/files"}) is None


def test_events_never_hold_a_suppressed_address_or_any_clients_secret(tmp_path: Path) -> None:
    combined, client_a, client_b = Redactor(), Redactor(), Redactor()
    combined.include(client_a)
    combined.include(client_b)
    log = EventLog(tmp_path / "events.jsonl", combined)
    client_a.add("secret-of-client-A")
    gone = SourceItem("parti@asso.example", "parti@asso.example", ItemKind.MEMBER,
                      data=MemberMeta(status="unsubscribed", suppressed=True))
    kept = SourceItem("reste@asso.example", "reste@asso.example", ItemKind.MEMBER,
                      data=MemberMeta(status="subscribed"))
    events = log.for_client("b", "clients/b/plan.yaml")
    events.items("done", [change_for(gone, gone.path), change_for(kept, kept.path)])
    events.items("failed", [change_for(kept, kept.path)], "refused: secret-of-client-A")
    log.close()
    text = (tmp_path / "events.jsonl").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert "parti@asso.example" not in text and "secret-of-client-A" not in text
    assert lines[0]["source_key"] == "sha256:" + address_hash("parti@asso.example")
    assert lines[1]["source_key"] == "reste@asso.example"
    assert lines[2]["reason"] == "refused: ********"
    assert {line["client"] for line in lines} == {"b"}
