"""The collector paused for a listing or a diff comes back as it was, whatever the nesting and
the threads (several plans at once), and never comes back if the user's program had it off."""

from __future__ import annotations

import gc
import threading

from migrate.runner import gcpause


def test_nested_and_threaded_pauses_restore_the_collector() -> None:
    assert gc.isenabled()
    entered, release = threading.Barrier(3), threading.Event()

    def worker() -> None:
        with gcpause.paused():
            entered.wait()
            release.wait()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    entered.wait()
    with gcpause.paused(), gcpause.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the workers are still listing
    release.set()
    for thread in threads:
        thread.join()
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
