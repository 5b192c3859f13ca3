"""Writes made by processes forked from this one, for targets whose writes are CPU work here.

A write of a small local file is about 20 µs of Python around 30-45 µs of system calls. Threads
share one interpreter lock: two writer threads pass it back and forth thousands of times and
cost more CPU than one (decision 0496), and one process cannot use the second core the way
`rsync` does (its sender and receiver are processes). A target that declares
`Capabilities.write_processes` is written by `jobs` processes forked once its changes are
known: each has the target, the source and every change already in its memory (copied by the
fork), so a task is only the changes' places in the step's list and their idempotency keys, and
an answer only the entries written (a few plain fields each). This process keeps the journal,
the progress and the report, exactly as with threads; a process writes, never journals.

What stays true (decision 0496):
- A write is the target's own `write`, whole file under a temporary name then renamed: a
  process killed mid-write leaves a temporary file, never a partial file under its final name.
- Every task answers item by item; a process that dies before answering fails the items it
  held ("the process writing them stopped"), which the journal records as failed, and the
  next run finds what it had renamed into place and adopts it (same size and time). The other
  processes take the rest.
- The processes ignore Ctrl-C (the terminal sends it to all of them): this process stops
  dispatching, lets them finish the tasks they hold (up to `AHEAD` groups of 16 files each)
  and records those.
- If this process dies, so do they (Linux's parent-death signal), as threads would: what
  they were writing stays a temporary file, which the next run removes. Elsewhere each reads
  the end of its task pipe, finishes the task it holds, fails to answer, and exits.
- The first task is written here, before any fork, so whatever a target does once before its
  first write (remove a crash's leftovers, make its root folder) is done once.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import struct
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any

from migrate.errors import ConnectorError
from migrate.i18n import _
from migrate.journal.fastmake import maker
from migrate.model import Change, Fingerprint, ItemKind, TargetEntry

Result = TargetEntry | Exception
WriteGroup = Callable[[list[Change], list[str]], list[Result]]

_HEADER = struct.Struct("<I")
_make_entry = maker(TargetEntry, ("name", "kind", "fingerprint", "ref"))
_make_fingerprint = maker(Fingerprint, ("size", "mtime", "checksum", "etag"))
#: Tasks sent ahead to each process (16 files each, about 1 ms of work): while this process
#: runs Python (up to 5 ms before it gives the interpreter's lock to the thread that hands
#: out tasks), a process with two of them ran out and waited, 10-40 % of its time; with six,
#: about half that (decision 0496). The rest wait here, where Ctrl-C can still cancel them.
AHEAD = 6
#: How many times more items the runner keeps in flight for processes than for threads before
#: it dispatches its next batch: with the threads' 128, both processes ran out of work for
#: 10-20 ms while it made the next batch's keys (decision 0496). What is not sent yet waits
#: here, cancelled by Ctrl-C.
DEEPER = 8


#: Threads that may run while this process forks: each holds no lock a child needs (the
#: journal's heartbeat writes on its own SQLite connection every few seconds; a child never
#: touches the journal).
HARMLESS_THREADS = frozenset({"journal-heartbeat"})


def usable() -> bool:
    """Forking is safe only where no other thread may hold a lock the child needs (it would
    stay held forever there), on a system that forks (not macOS, whose system libraries refuse
    to run in a forked child)."""
    main = threading.main_thread()
    return hasattr(os, "fork") and sys.platform != "darwin" and \
        threading.current_thread() is main and all(
        thread is main or thread.name in HARMLESS_THREADS for thread in threading.enumerate())


class _Worker:
    def __init__(self, pid: int, tasks: int, answers: int) -> None:
        self.pid, self.tasks, self.answers = pid, tasks, answers
        self.held: deque[tuple[Future[Any], int]] = deque()  # futures sent, with their size
        self.buffer = b""


class ForkedWriters(Executor):
    """An executor of groups of writes (`submit_group`) run by `processes` forked children."""

    def __init__(self, processes: int, changes: Sequence[Change], write_group: WriteGroup) -> None:
        self.processes = max(1, processes)
        self.changes, self.write_group = changes, write_group
        self.place = {id(change): index for index, change in enumerate(changes)}
        self.workers: list[_Worker] = []
        self.waiting: deque[tuple[Future[Any], list[int], list[str]]] = deque()
        self.lock = threading.Lock()
        self.reader: threading.Thread | None = None
        self.first = self.started = self.closed = self.broken = False
        self.wake = (-1, -1)  # this process's own pipe: a task is waiting to be sent

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise NotImplementedError("ForkedWriters runs groups of writes: use submit_group")

    def submit_group(self, changes: list[Change], keys: list[str]) -> Future[list[Result]]:
        future: Future[list[Result]] = Future()
        if not self.started:
            if not self.first:  # the first group here (see the module's docstring)
                self.first = True
                return self._here(future, changes, keys)
            self._start()  # a second one: now the processes
        if not self.workers or self.broken:  # none could be forked (a limit on processes)
            return self._here(future, changes, keys)
        # Only queued here: the reader thread sends it. Ctrl-C (a KeyboardInterrupt, raised in
        # this thread only) can then never land between a task marked sent and its write,
        # which would leave the runner waiting forever for its answer.
        self.waiting.append((future, [self.place[id(c)] for c in changes], keys))
        with contextlib.suppress(OSError):  # full (the reader is behind) or closed: it knows
            os.write(self.wake[1], b"!")
        return future

    def _here(self, future: Future[list[Result]], changes: list[Change],
              keys: list[str]) -> Future[list[Result]]:
        future.set_running_or_notify_cancel()
        try:  # Ctrl-C meanwhile stops the step, as with a write in flight
            future.set_result(self.write_group(changes, keys))
        except Exception as error:
            future.set_exception(error)
        return future

    def _start(self) -> None:
        # Ctrl-C during the forks is held until they are over: a KeyboardInterrupt raised in
        # an at-fork hook (logging has some) would be printed and lost, and the copy would go
        # on. Each child ignores it from its first instruction (`_serve`).
        interrupted: list[int] = []
        previous = signal.signal(signal.SIGINT, lambda number, _frame: interrupted.append(number))
        gc.freeze()  # the children's collector never touches (and copies) what they inherit
        parent = os.getpid()
        self.wake = os.pipe()
        os.set_blocking(self.wake[1], False)
        try:
            for _index in range(self.processes):
                tasks_read, tasks_write = os.pipe()
                answers_read, answers_write = os.pipe()
                try:
                    with warnings.catch_warnings():  # 3.12 warns of any thread (see usable)
                        warnings.simplefilter("ignore", DeprecationWarning)
                        pid = os.fork()
                except OSError:  # no more processes to be had: those forked, or this one
                    for fd in (tasks_read, tasks_write, answers_read, answers_write):
                        os.close(fd)
                    break
                if pid == 0:  # the child: never returns
                    _serve(parent, tasks_read, answers_write, self.changes, self.write_group,
                           [fd for w in self.workers for fd in (w.tasks, w.answers)]
                           + [tasks_write, answers_read, *self.wake])
                os.close(tasks_read)
                os.close(answers_write)
                self.workers.append(_Worker(pid, tasks_write, answers_read))
        finally:
            gc.unfreeze()
            signal.signal(signal.SIGINT, previous)
            self.started = True
        if self.workers:
            self.reader = threading.Thread(target=self._read_answers, name="write-answers",
                                           daemon=True)
            self.reader.start()
        if interrupted:
            signal.raise_signal(signal.SIGINT)  # now, as it would have been

    def _send_waiting(self) -> None:
        """Hand waiting tasks to the processes with room (in the reader thread, holding the
        lock)."""
        for worker in sorted((w for w in self.workers if w.tasks >= 0),
                             key=lambda w: len(w.held)):
            while self.waiting and len(worker.held) < AHEAD:
                future, places, keys = self.waiting.popleft()
                if not future.set_running_or_notify_cancel():
                    continue  # cancelled by Ctrl-C before it was sent
                import pickle  # here, not at the top: a re-run that writes nothing never needs it

                payload = pickle.dumps((places, keys), pickle.HIGHEST_PROTOCOL)
                worker.held.append((future, len(places)))
                with contextlib.suppress(OSError):  # gone: its answers' end says so
                    os.write(worker.tasks, _HEADER.pack(len(payload)) + payload)
        if not any(w.tasks >= 0 for w in self.workers):
            self._fail_waiting()

    def _fail_waiting(self) -> None:
        """No process left to send them to (called holding the lock)."""
        while self.waiting:
            future, places, _keys = self.waiting.popleft()
            if future.set_running_or_notify_cancel():
                future.set_result([_stopped() for _place in places])

    def _read_answers(self) -> None:
        import selectors

        selector = selectors.DefaultSelector()
        for worker in self.workers:
            selector.register(worker.answers, selectors.EVENT_READ, worker)
        selector.register(self.wake[0], selectors.EVENT_READ, None)
        try:
            # Until every process has ended and the runner is done: should all die first, the
            # tasks queued later still get their answer ("stopped") from here.
            while len(selector.get_map()) > 1 or not self.closed:
                for key, _events in selector.select():
                    if key.data is None:  # tasks queued by the runner
                        os.read(self.wake[0], 1 << 16)
                        with self.lock:
                            self._send_waiting()
                        continue
                    worker: _Worker = key.data
                    data = os.read(worker.answers, 1 << 16)
                    if not data:
                        selector.unregister(worker.answers)
                        self._lost(worker)
                        continue
                    worker.buffer += data
                    self._answered(worker)
        except BaseException:  # a bug here must not leave the runner waiting forever
            for key in list(selector.get_map().values()):
                selector.unregister(key.fd)
                if key.data is not None:
                    self._lost(key.data)
            with self.lock:
                self.broken = True  # what comes later is written by the runner's thread
                self._fail_waiting()
            raise
        finally:
            selector.close()

    def _answered(self, worker: _Worker) -> None:
        import pickle

        buffer = worker.buffer
        while len(buffer) >= _HEADER.size:
            (length,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + length:
                break
            message = buffer[_HEADER.size:_HEADER.size + length]
            buffer = buffer[_HEADER.size + length:]
            with self.lock:
                future, size = worker.held.popleft()
                self._send_waiting()
            try:
                results = [_decode(result) for result in pickle.loads(message)]
                if len(results) != size:
                    raise RuntimeError(f"{len(results)} answers for {size} writes")
            except Exception as error:  # a bug: each write of the group fails with it
                results = [error] * size
            future.set_result(results)
        worker.buffer = buffer

    def _lost(self, worker: _Worker) -> None:
        """A process ended: what it held and never answered failed; the others take the rest."""
        with self.lock:
            if worker.tasks >= 0:
                os.close(worker.tasks)
                worker.tasks = -1
            held, worker.held = list(worker.held), deque()
            self._send_waiting()
        os.close(worker.answers)
        for future, size in held:
            future.set_result([_stopped() for _index in range(size)])

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            while self.waiting:  # only Ctrl-C or an error leaves any: never started
                self.waiting.popleft()[0].cancel()
            for worker in self.workers:  # each finishes what it holds, then reads the end
                if worker.tasks >= 0:
                    os.close(worker.tasks)
                    worker.tasks = -1
        with contextlib.suppress(OSError):  # the reader may be waiting on that pipe alone
            os.write(self.wake[1], b"!")
        if self.reader is not None:
            self.reader.join()
        if self.wake[0] >= 0:
            for fd in self.wake:
                os.close(fd)
            self.wake = (-1, -1)
        for worker in self.workers:
            with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
                os.waitpid(worker.pid, 0)


def _stopped() -> Exception:
    return ConnectorError(_("the process writing it stopped before saying it was written; "
                            "the next run finds it if it was, and writes it if not"))


def _encode(result: Result) -> Any:
    """An entry as its plain fields (pickling the dataclasses cost 5 µs each), an error as
    itself, or as its message when it cannot be pickled."""
    if type(result) is TargetEntry and type(result.fingerprint) is Fingerprint:
        print_ = result.fingerprint
        return (result.name, result.kind.value, print_.size, print_.mtime, print_.checksum,
                print_.etag, result.ref or None)
    import pickle

    try:
        pickle.loads(pickle.dumps(result))
    except Exception:
        return ConnectorError(str(result) or type(result).__name__)
    return result


def _decode(answer: Any) -> Result:
    if type(answer) is tuple:
        name, kind, size, mtime, checksum, etag, ref = answer
        return _make_entry(name, ItemKind(kind), _make_fingerprint(size, mtime, checksum, etag),
                           ref or {})
    return answer  # type: ignore[no-any-return]


def _die_with(parent: int) -> None:
    """Linux: this process is killed when its parent dies, as threads would be, rather than
    finishing the group it holds while a next run may already have started (its files would
    appear under its listing's feet). Elsewhere it ends at the end of its task pipe."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):  # no prctl: not Linux
        return
    if os.getppid() != parent:  # died before the call above
        os._exit(0)


def _serve(parent: int, tasks: int, answers: int, changes: Sequence[Change],
           write_group: WriteGroup, others: list[int]) -> None:
    """A child's life: tasks in, answers out, until the task pipe ends; never returns."""
    import pickle

    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
        _die_with(parent)
        # Its terminal or pipes are the parent's: whoever reads them sees their end when the
        # parent ends, not when its last writer does. Nothing is printed here anyway.
        quiet = os.open(os.devnull, os.O_RDWR)
        for standard in (0, 1, 2):
            if standard != quiet:
                os.dup2(quiet, standard)
        if quiet > 2:
            os.close(quiet)
        for fd in others:  # the other processes' pipes: their ends must close with their owners
            os.close(fd)
        pending = b""
        while True:
            while len(pending) < _HEADER.size or \
                    len(pending) < _HEADER.size + _HEADER.unpack_from(pending)[0]:
                data = os.read(tasks, 1 << 16)
                if not data:
                    return
                pending += data
            (length,) = _HEADER.unpack_from(pending)
            places, keys = pickle.loads(pending[_HEADER.size:_HEADER.size + length])
            pending = pending[_HEADER.size + length:]
            group = [changes[place] for place in places]
            try:
                results = write_group(group, keys)
            except Exception as error:  # the group's own failure is each item's
                results = [error] * len(group)
            payload = pickle.dumps([_encode(r) for r in results], pickle.HIGHEST_PROTOCOL)
            message = _HEADER.pack(len(payload)) + payload
            while message:
                message = message[os.write(answers, message):]
    except BrokenPipeError:
        code = 0  # the parent is gone: nobody to answer
    except BaseException:
        code = 1
    finally:
        os._exit(code)
