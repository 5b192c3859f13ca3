"""The collector paused for a listing or a diff comes back as it was, whatever the nesting and
the threads (several plans at once), and never comes back if the user's program had it off."""

from __future__ import annotations

import gc
import threading
import weakref

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


class _Made:
    """A tracked object, as a listing's items are (slotted, holding references)."""

    __slots__ = ("__weakref__", "value")

    def __init__(self, value: object) -> None:
        self.value = value


def test_what_a_pause_made_goes_to_the_oldest_generation_and_stays_collectable() -> None:
    gc.unfreeze()  # an earlier in-process command froze its heap at its end (cli.main)
    with gcpause.paused():
        made = [_Made(i) for i in range(60_000)]  # more than the young threshold (0495)
        cycle = _Made(None)
        cycle.value = cycle
        probe = weakref.ref(cycle)
        del cycle
    # No young collection is due: it would walk the 60,000 again, then a middle one again.
    assert gc.get_count()[0] < 1_000
    oldest = {id(one) for one in gc.get_objects(generation=2)}
    assert all(id(one) in oldest for one in made)
    assert gc.get_freeze_count() == 0  # nothing left frozen
    assert probe() is not None
    gc.collect()
    assert probe() is None  # a cycle made while paused is still freed by a full collection


def test_objects_the_program_froze_stay_frozen() -> None:
    kept = _Made("frozen by the program")
    gc.freeze()
    try:
        with gcpause.paused():
            made = [_Made(i) for i in range(1_000)]
        # Still in the permanent generation, which no generation 0-2 lists. (The freeze count
        # itself moves under xdist: its own thread frees frozen objects meanwhile.)
        assert not any(one is kept for generation in range(3)
                       for one in gc.get_objects(generation=generation))
        assert gc.get_freeze_count() > 0
        assert made
    finally:
        gc.unfreeze()
