"""`StopRequest`: a request to stop, made once from any thread, and the waits it cuts short; `stop_on_signals`
makes SIGINT and SIGTERM request it; `CallbackInterrupt` ends a callback that overruns it.

A node's own loop (the simulator's) sleeps and waits only through its StopRequest, so a request made by another
thread (a signal's watcher, the executor's thread) wakes it at once and the loop returns between two steps.
"""

from __future__ import annotations

import _thread
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

CALLBACK_GRACE_S = 1.0  # a callback still running this long after a stop request is interrupted, as by Ctrl-C


class StopRequest:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._requested = False
        self._callbacks: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        return self._requested

    def request(self) -> None:
        """Ask to stop (again: nothing more happens); wakes every wait and runs the `on_request` callbacks."""
        with self._cond:
            if self._requested:
                return
            self._requested = True
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for callback in callbacks:
            callback()

    def on_request(self, callback: Callable[[], None]) -> None:
        """Call `callback` (in the requesting thread) when a stop is requested; at once if it was already."""
        with self._cond:
            if not self._requested:
                self._callbacks.append(callback)
                return
        callback()

    def notify(self) -> None:
        """Something a `wait_for` may be waiting on has changed (a producer in another thread calls this)."""
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until `ready()` holds (checked again at every `notify`), a stop is requested or `timeout_s` seconds
        pass; return `ready()`."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not (done := ready()) and not self._requested:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return done

    def sleep(self, seconds: float) -> bool:
        """Sleep `seconds` unless a stop is requested first; return whether one was."""
        self.wait_for(lambda: False, seconds)
        return self._requested


class CallbackInterrupt:
    """Interrupts a callback that the main thread still runs `CALLBACK_GRACE_S` after a stop request (a learner's
    round of updates takes seconds) with KeyboardInterrupt, as Ctrl-C would; only while the main thread spins the
    executor (`spinning`), never in the node's cleanup after it. `handler` is the main thread's signal handler
    (see `stop_on_signals`)."""

    def __init__(self) -> None:
        self.spinning = False  # set and read in the main thread only
        self.interrupted = False
        self._lock = threading.Lock()
        self._finished = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.interrupted and self.spinning:
            raise KeyboardInterrupt

    def after_grace(self) -> None:
        """Interrupt the main thread after the grace (a `StopRequest.on_request` callback)."""
        timer = threading.Timer(CALLBACK_GRACE_S, self._interrupt)
        timer.daemon = True
        timer.start()

    def finish(self) -> None:
        """The main thread no longer spins: interrupt nothing from now on."""
        with self._lock:
            self._finished = True

    def _interrupt(self) -> None:
        with self._lock:
            if not self._finished:
                self.interrupted = True
                _thread.interrupt_main(signal.SIGINT)  # runs `handler` in the main thread


@contextmanager
def stop_on_signals(stop: StopRequest, signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
                    handler: Callable[[int, Any], None] = lambda signum, frame: None) -> Iterator[None]:
    """While in the block, SIGINT and SIGTERM request `stop` (instead of raising KeyboardInterrupt or killing).

    Python runs a signal handler in the main thread between any two bytecodes, where taking a lock that the
    interrupted code holds (an Event's, a Condition's) deadlocks; so `handler` takes none (the default does
    nothing), and the signal arrives as a byte on a pipe (`signal.set_wakeup_fd`) that a thread of its own
    reads."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    wanted = {int(sig) for sig in signals}

    def watch() -> None:
        while byte := os.read(read_fd, 1):
            if byte[0] == 0:  # the block has ended
                return
            if byte[0] in wanted:
                stop.request()

    previous = {sig: signal.signal(sig, handler) for sig in signals}
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watcher = threading.Thread(target=watch, name="stop-on-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, old in previous.items():
            signal.signal(sig, old)
        os.write(write_fd, b"\0")
        watcher.join()
        os.close(read_fd)
        os.close(write_fd)
