"""Write rosbag2 bags (MCAP storage, metadata.yaml version 9) through `rosbags`.

A *recording* is a directory holding one or more complete bags, `REC/REC_0000`, `REC/REC_0001`, ...: splitting by
size or duration closes the current bag (its summary, footer and metadata.yaml are written) and opens the next, so
every split is a bag that `ros2 bag info`, Foxglove and the learner can open as soon as it is closed.

MCAP chunks are written and flushed to the OS every `chunk_size_bytes` (and on `flush()`), so a process killed
with SIGKILL loses at most the chunk it was filling; `v2p bag repair` restores the rest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from rosbags.interfaces import Connection, Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.rosbag2.storage_mcap import McapWriter
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.store import Typestore

from v2p.bags.errors import BagError

DEFAULT_CHUNK_SIZE = 256 * 1024
# The message definitions written into every bag: the ROS 2 Kilted store (identical for the standard types to
# Jazzy's), so the type hashes match what rclpy advertises on the graph.
STORE = Stores.ROS2_KILTED

_INFINITE = QosTime(sec=0x7FFFFFFF, nsec=0xFFFFFFFF)


def default_typestore() -> Typestore:
    return get_typestore(STORE)


def make_qos(
    *,
    reliable: bool = True,
    transient_local: bool = False,
    depth: int = 10,
) -> Qos:
    """An offered QoS profile as rosbag2 stores it in metadata.yaml."""
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=depth,
        reliability=QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT,
        durability=QosDurability.TRANSIENT_LOCAL if transient_local else QosDurability.VOLATILE,
        deadline=_INFINITE,
        lifespan=_INFINITE,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_INFINITE,
        avoid_ros_namespace_conventions=False,
    )


class _FlushingMcapWriter(McapWriter):
    """rosbags' MCAP storage with a configurable chunk size and an OS flush after every chunk.

    rosbags closes chunks at 1 MiB and leaves the tail in Python's file buffer; a recorder killed with SIGKILL
    would then lose far more than one chunk of a low-rate topic.
    """

    chunk_size = DEFAULT_CHUNK_SIZE

    def write(self, connection: Connection, timestamp: int, data: bytes | memoryview) -> None:
        super().write(connection, timestamp, data)
        if self.chunk.bio.tell() >= self.chunk_size:
            self.close_chunk()

    def close_chunk(self) -> None:
        super().close_chunk()
        self.bio.flush()

    def flush_chunk(self) -> None:
        """Close the pending chunk if it holds messages, so that it is on disk."""
        if self.chunk.msgs:
            self.close_chunk()

    @property
    def size(self) -> int:
        return self.bio.tell() + self.chunk.bio.tell()


class BagWriter:
    """Writes CDR-serialized messages into a recording of one or more rosbag2 MCAP bags.

    Not thread-safe: one thread owns the writer (the recorder node's writer thread).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        split_size_bytes: int | None = None,
        split_duration_s: float | None = None,
        chunk_size_bytes: int = DEFAULT_CHUNK_SIZE,
        typestore: Typestore | None = None,
    ) -> None:
        self.path = Path(path)
        if split_size_bytes is not None and split_size_bytes <= 0:
            raise BagError(f"{self.path}: split size must be positive, got {split_size_bytes} bytes")
        if split_duration_s is not None and split_duration_s <= 0:
            raise BagError(f"{self.path}: split duration must be positive, got {split_duration_s} s")
        if chunk_size_bytes < 1024:
            raise BagError(f"{self.path}: chunk size must be at least 1024 bytes, got {chunk_size_bytes}")
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise BagError(f"{self.path}: exists already and is not an empty folder; not overwriting a recording")
        self.split_size_bytes = split_size_bytes
        self.split_duration_ns = None if split_duration_s is None else int(split_duration_s * 1e9)
        self.chunk_size_bytes = chunk_size_bytes
        self.typestore = typestore or default_typestore()
        self.bags: list[Path] = []  # every bag of this recording, the open one last
        self.message_count = 0
        self._topics: dict[str, tuple[str, tuple[Qos, ...], str, str]] = {}
        self._connections: dict[str, Connection] = {}
        self._writer: Writer | None = None
        self._bag_start_ns: int | None = None
        self._closed = False
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BagError(f"{self.path}: cannot create the recording folder: {exc.strerror}") from None
        self._open_next_bag()

    # -- topics and messages -------------------------------------------------------------------------------------

    def add_topic(
        self,
        name: str,
        msgtype: str,
        qos: Sequence[Qos] = (),
        *,
        msgdef: str | None = None,
        rihs01: str | None = None,
    ) -> None:
        """Register a topic. Its definition comes from the typestore unless msgdef and rihs01 are given."""
        if name in self._topics:
            if self._topics[name][0] != msgtype:
                raise BagError(f"{self.path}: topic {name} already recorded as {self._topics[name][0]}, not {msgtype}")
            return
        if msgdef is None or rihs01 is None:
            if msgtype not in self.typestore.fielddefs:
                raise BagError(f"{self.path}: no message definition for type {msgtype} (topic {name})")
            msgdef, _ = self.typestore.generate_msgdef(msgtype, ros_version=2)
            rihs01 = self.typestore.hash_rihs01(msgtype)
        self._topics[name] = (msgtype, tuple(qos), msgdef, rihs01)
        self._add_connection(name)

    @property
    def topics(self) -> dict[str, str]:
        """Topic name -> message type of every registered topic."""
        return {name: spec[0] for name, spec in self._topics.items()}

    def write_raw(self, topic: str, timestamp_ns: int, data: bytes | memoryview) -> None:
        """Write one CDR-serialized message received (or stamped) at timestamp_ns."""
        if self._closed:
            raise BagError(f"{self.path}: recording is closed")
        if self._writer is None:  # `split` closed the last bag: this message opens the next
            self._open_next_bag()
        if topic not in self._connections:
            raise BagError(f"{self.path}: topic {topic} was not added before writing")
        if self._should_split(timestamp_ns):
            self._close_bag()
            self._open_next_bag()
        if self._bag_start_ns is None:
            self._bag_start_ns = timestamp_ns
        self._writer.write(self._connections[topic], timestamp_ns, data)
        self.message_count += 1

    def split(self) -> Path | None:
        """Close the open bag now, when it holds a message (the next message opens the next bag): a recording cut
        where its producer says, e.g. at each shift's end. Returns the bag closed, if any."""
        if self._closed or self._writer is None or self._bag_start_ns is None:
            return None
        bag = self.bags[-1]
        self._close_bag()
        return bag

    def flush(self) -> None:
        """Put every message written so far on disk (closes the pending MCAP chunk)."""
        if self._writer is not None and self._writer.storage is not None:
            storage = self._writer.storage
            assert isinstance(storage, _FlushingMcapWriter)
            storage.flush_chunk()

    def close(self) -> None:
        """Close the open bag: summary, footer and metadata.yaml. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._close_bag()

    def __enter__(self) -> BagWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------------------------

    def _should_split(self, timestamp_ns: int) -> bool:
        if self._bag_start_ns is None:  # never split an empty bag
            return False
        if self.split_duration_ns is not None and timestamp_ns - self._bag_start_ns >= self.split_duration_ns:
            return True
        if self.split_size_bytes is not None:
            storage = self._writer.storage if self._writer else None
            if isinstance(storage, _FlushingMcapWriter) and storage.size >= self.split_size_bytes:
                return True
        return False

    def _open_next_bag(self) -> None:
        bag = self.path / f"{self.path.name}_{len(self.bags):04d}"
        writer = Writer(bag, version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP)
        # Instance-level override: rosbags builds its storage from this mapping in open().
        writer.STORAGE_PLUGINS = {StoragePlugin.MCAP: _FlushingMcapWriter}
        try:
            writer.open()
        except (WriterError, OSError) as exc:
            raise BagError(f"{bag}: cannot open a bag for writing: {exc}") from None
        assert isinstance(writer.storage, _FlushingMcapWriter)
        writer.storage.chunk_size = self.chunk_size_bytes
        writer.set_custom_data("v2p.recording", self.path.name)
        writer.set_custom_data("v2p.opened_unix_ns", str(time.time_ns()))
        self._writer = writer
        self._connections = {}
        self._bag_start_ns = None
        self.bags.append(bag)
        for name in self._topics:
            self._add_connection(name)

    def _add_connection(self, name: str) -> None:
        assert self._writer is not None
        msgtype, qos, msgdef, rihs01 = self._topics[name]
        self._connections[name] = self._writer.add_connection(
            name, msgtype, msgdef=msgdef, rihs01=rihs01, offered_qos_profiles=list(qos)
        )

    def _close_bag(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            writer.close()
        except (WriterError, OSError) as exc:
            raise BagError(f"{writer.path}: cannot close the bag: {exc}") from None
        # metadata.yaml marks a bag complete; make it durable before anyone (the learner) reads the bag.
        fd = os.open(writer.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
