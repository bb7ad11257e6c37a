"""The recorder's core, without ROS: a bounded queue drained into a BagWriter by one writer thread.

Subscription callbacks must never block on disk, so they only `offer()` messages; when the queue is full the
message is dropped and counted, which is the recorder's drop figure (with the middleware's own message-lost
count, reported through `note_lost()`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from v2p.bags.writer import BagWriter

_STOP = object()
_SPLIT = object()  # queued by `split`: the writer thread closes the open bag after what was queued before


@dataclass(frozen=True)
class RecorderStats:
    received: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)  # queue full: the writer fell behind
    lost: dict[str, int] = field(default_factory=dict)  # reported lost by the middleware before delivery
    bags: int = 0
    error: str | None = None  # the write error that stopped recording, if any

    @property
    def total_written(self) -> int:
        return sum(self.written.values())

    @property
    def total_dropped(self) -> int:
        return sum(self.dropped.values()) + sum(self.lost.values())


class QueuedBagRecorder:
    def __init__(self, writer: BagWriter, *, queue_size: int = 100, flush_interval_s: float = 1.0) -> None:
        if queue_size < 1:
            raise ValueError(f"queue size must be at least 1, got {queue_size}")
        self.writer = writer
        self.flush_interval_s = flush_interval_s
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()  # guards the writer (topics are added from the ROS thread) and counters
        self._received: Counter[str] = Counter()
        self._written: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._lost: Counter[str] = Counter()
        self._error: str | None = None
        self._thread = threading.Thread(target=self._drain, name="bag-writer", daemon=True)
        self._started = False
        self._stopped = False

    def add_topic(self, name: str, msgtype: str, qos: tuple = ()) -> None:
        with self._lock:
            self.writer.add_topic(name, msgtype, qos)

    def start(self) -> None:
        self._started = True
        self._thread.start()

    def offer(self, topic: str, timestamp_ns: int, data: bytes) -> bool:
        """Queue one message for writing; False (and counted as dropped) when the queue is full or stopped."""
        with self._lock:
            self._received[topic] += 1
            if self._stopped or self._error is not None:
                self._dropped[topic] += 1
                return False
        try:
            self._queue.put_nowait((topic, timestamp_ns, data))
            return True
        except queue.Full:
            with self._lock:
                self._dropped[topic] += 1
            return False

    def split(self) -> None:
        """Close the open bag once every message queued so far is written (the next one opens a new bag)."""
        if self._started:
            self._queue.put(_SPLIT)
        else:
            self._drain_pending()
            self._split_now()

    def _split_now(self) -> None:
        with self._lock:
            if self._error is None:
                try:
                    self.writer.split()
                except Exception as exc:  # a close error is reported with the figures, not raised past them
                    self._error = f"closing a bag at a split failed: {exc}"

    def note_lost(self, topic: str, count: int) -> None:
        with self._lock:
            self._lost[topic] += count

    def stats(self) -> RecorderStats:
        with self._lock:
            return RecorderStats(
                received=dict(self._received),
                written=dict(self._written),
                dropped=dict(self._dropped),
                lost=dict(self._lost),
                bags=len(self.writer.bags),
                error=self._error,
            )

    def stop(self) -> RecorderStats:
        """Write everything queued, close the bag, and return the final figures."""
        with self._lock:
            self._stopped = True
        if self._started:
            self._queue.put(_STOP)
            self._thread.join()
        else:
            self._drain_pending()
        with self._lock:
            try:
                self.writer.close()
            except Exception as exc:  # a close error is reported with the figures, not raised past them
                self._error = self._error or f"closing the bag failed: {exc}"
        return self.stats()

    def _write(self, item: tuple[str, int, bytes]) -> None:
        topic, timestamp_ns, data = item
        with self._lock:
            if self._error is not None:
                self._dropped[topic] += 1
                return
            try:
                self.writer.write_raw(topic, timestamp_ns, data)
                self._written[topic] += 1
            except Exception as exc:  # disk full, I/O error: stop writing, keep counting, report it
                self._error = f"writing {topic} failed: {exc}"
                self._dropped[topic] += 1

    def _flush(self) -> None:
        with self._lock:
            if self._error is None:
                try:
                    self.writer.flush()
                except Exception as exc:
                    self._error = f"flushing the bag failed: {exc}"

    def _drain(self) -> None:
        last_flush = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=min(0.1, self.flush_interval_s))
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is _SPLIT:
                self._split_now()
            elif item is not None:
                self._write(item)
            if time.monotonic() - last_flush >= self.flush_interval_s:
                self._flush()
                last_flush = time.monotonic()

    def _drain_pending(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _SPLIT:
                self._split_now()
            elif item is not _STOP:
                self._write(item)
