"""recorder_node: record topics as raw CDR into rosbag2 MCAP bags (v2p.bags), counting what it drops.

Subscriptions are raw (no deserialization); callbacks only queue the bytes, one writer thread writes them.
The recording is `record_dir/bag_name/` holding bags `bag_name_0000`, `bag_name_0001`, ... (a new bag at every
split); each bag is complete once its metadata.yaml exists. Chunks are flushed at least every `flush_interval_s`,
so a SIGKILL loses at most that much; SIGINT/SIGTERM close the bag cleanly.
"""

from __future__ import annotations

import importlib
import re
import sys
import time
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.duration import Duration
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

from v2p.bags.recording import QueuedBagRecorder, RecorderStats
from v2p.bags.writer import BagWriter
from v2p.errors import V2PError
from v2p.task import topics
from v2p.task.dishwashing import EVENTS
from v2p.task.events import EPISODE_END, SimEvent
from v2p_ros.common import V2PNode, declare, reliable_qos, spin_node

_INFINITE = QosTime(sec=0x7FFFFFFF, nsec=0xFFFFFFFF)
_BAG_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
CLOCK_DEPTH = 2000  # history depth of the /clock subscription at least (a Clock is 8 bytes of payload)


def _qos_time(duration: Duration) -> QosTime:
    ns = duration.nanoseconds
    if ns <= 0 or ns >= 2**63 - 1:
        return _INFINITE
    return QosTime(sec=ns // 1_000_000_000, nsec=ns % 1_000_000_000)


def offered_qos(profile: QoSProfile) -> Qos:
    """A publisher's QoS as rosbag2 stores it (rclpy and rosbags number the policies alike)."""
    return Qos(
        history=QosHistory(int(profile.history)),
        depth=int(profile.depth),
        reliability=QosReliability(int(profile.reliability)),
        durability=QosDurability(int(profile.durability)),
        deadline=_qos_time(profile.deadline),
        lifespan=_qos_time(profile.lifespan),
        liveliness=QosLiveliness(int(profile.liveliness)),
        liveliness_lease_duration=_qos_time(profile.liveliness_lease_duration),
        avoid_ros_namespace_conventions=bool(profile.avoid_ros_namespace_conventions),
    )


def subscription_qos(offered: list[QoSProfile], depth: int) -> QoSProfile:
    """Match every publisher: reliable only if all offer it, transient-local only if all offer it."""
    reliable = all(p.reliability == ReliabilityPolicy.RELIABLE for p in offered)
    latched = all(p.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in offered)
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
    )


def recording_path(record_dir: str, bag_name: str) -> Path:
    """The recording folder, checked: a folder path (not a file), and a plain bag name (no path separators)."""
    if not record_dir:
        raise V2PError("parameter record_dir is empty")
    root = Path(record_dir).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise V2PError(f"parameter record_dir: {root} exists and is not a folder")
    name = bag_name or time.strftime("v2p_%Y%m%d-%H%M%S")
    if not _BAG_NAME.match(name) or name in {".", ".."}:
        raise V2PError(f"parameter bag_name: {name!r} must be a plain name (letters, digits, _ . -)")
    return root / name


class RecorderNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("recorder")
        self.recorder: QueuedBagRecorder | None = None  # destroy_node may run on a node whose __init__ failed
        self._recorded: dict[str, object] = {}
        record_dir = declare(self, "record_dir", "runs/bags", "folder under which each recording gets its own folder")
        bag_name = declare(self, "bag_name", "", "name of this recording's folder (empty: v2p_<date-time>)")
        wanted = declare(self, "topics", [], "topics to record (empty: every topic discovered)", array_of=str)
        self.excluded = set(
            declare(self, "exclude_topics", ["/rosout", "/parameter_events"], "topics never recorded when recording all")
        )
        split_size_mb = declare(self, "split_size_mb", 0.0, "start a new bag at this size in MiB (0: never)",
                                (0.0, 1e6))
        split_duration_s = declare(self, "split_duration_s", 0.0,
                                   "start a new bag after this much recorded time in s (0: never)", (0.0, 1e6))
        chunk_size_kb = declare(self, "chunk_size_kb", 256, "MCAP chunk size in KiB: what a SIGKILL can lose at most",
                                (1, 1 << 20))
        flush_interval_s = declare(self, "flush_interval_s", 1.0,
                                   "write the pending chunk at least this often, in s", (0.01, 60.0))
        queue_size = declare(self, "queue_size", 100, "messages waiting for the writer before new ones are dropped",
                             (1, 100000))
        self.qos_depth = declare(self, "qos_depth", 100, "subscription history depth", (1, 10000))
        discovery_s = declare(self, "discovery_interval_s", 0.5, "how often to look for new topics, in s",
                              (0.05, 60.0))
        report_s = declare(self, "report_interval_s", 5.0, "how often to log and publish the figures, in s",
                           (0.1, 3600.0))
        self.split_on_episode_end = declare(self, "split_on_episode_end", False, "close the bag at every "
                                            f"episode_end on {topics.SIM_EVENTS} (so the learner can train on a "
                                            "shift as soon as it ends)")
        self.split_grace_s = declare(self, "split_grace_s", 0.3, "wall seconds after an episode_end before its "
                                     "bag is closed, for the shift's messages still on their way", (0.0, 60.0))
        self._split_timer = None

        self.path = recording_path(record_dir, bag_name)
        writer = BagWriter(
            self.path,
            split_size_bytes=int(split_size_mb * 1024 * 1024) or None,
            split_duration_s=split_duration_s or None,
            chunk_size_bytes=chunk_size_kb * 1024,
        )
        self.recorder = QueuedBagRecorder(writer, queue_size=queue_size, flush_interval_s=flush_interval_s)
        self.recorder.start()
        self._skipped: set[str] = set()
        self._wanted = {self.resolve_topic_name(t) for t in wanted}
        self._diagnostics = self.create_publisher(DiagnosticArray, topics.DIAGNOSTICS, reliable_qos())
        self.create_timer(discovery_s, self.discover)
        self.create_timer(report_s, self.report)
        what = ", ".join(sorted(self._wanted)) if self._wanted else "every topic"
        self.get_logger().info(f"recording {what} into {self.path}")
        self.discover()

    def _wants(self, topic: str) -> bool:
        if self._wanted:
            return topic in self._wanted
        return topic not in self.excluded

    def discover(self) -> None:
        """Subscribe to every wanted topic that has a publisher and is not recorded yet."""
        for topic, types in self.get_topic_names_and_types():
            if topic in self._recorded or topic in self._skipped or not self._wants(topic):
                continue
            publishers = self.get_publishers_info_by_topic(topic)
            if not publishers:
                continue  # the offered QoS is only known once someone publishes
            if len(types) != 1:
                self._skip(topic, f"it carries several types {types}")
                continue
            msgtype = types[0]
            try:
                pkg, kind, name = msgtype.split("/")
                msg_class = getattr(importlib.import_module(f"{pkg}.{kind}"), name)
                self.recorder.add_topic(topic, msgtype, tuple(offered_qos(p.qos_profile) for p in publishers))
            except (ValueError, ImportError, AttributeError, V2PError) as exc:
                self._skip(topic, str(exc) or f"type {msgtype} unavailable")
                continue
            # /clock comes in bursts (a tick every tick_period_s of a cycle run at physics speed): a deeper history
            # keeps a lagging writer thread from losing the step times the learner reads
            depth = max(self.qos_depth, CLOCK_DEPTH) if topic == topics.CLOCK else self.qos_depth
            qos = subscription_qos([p.qos_profile for p in publishers], depth)
            events = SubscriptionEventCallbacks(
                message_lost=lambda info, t=topic: self.recorder.note_lost(t, info.total_count_change)
            )
            self._recorded[topic] = self.create_subscription(
                msg_class, topic, lambda data, info, t=topic: self._on_message(t, data, info), qos,
                raw=True, event_callbacks=events,
            )
            self.get_logger().info(f"recording {topic} ({msgtype})")

    def _skip(self, topic: str, why: str) -> None:
        self._skipped.add(topic)
        self.get_logger().error(f"not recording {topic}: {why}")

    def _on_message(self, topic: str, data: bytes, info: dict) -> None:
        # Stamp with the publication time: callbacks of messages that arrive together run in subscription
        # order, not arrival order, and the learner pairs latent, action and events by log time.
        self.recorder.offer(topic, info["source_timestamp"] or self.get_clock().now().nanoseconds, data)
        if topic == topics.SIM_EVENTS and self.split_on_episode_end and self._ends_an_episode(data):
            if self._split_timer is not None:
                self.destroy_timer(self._split_timer)
            self._split_timer = self.create_timer(self.split_grace_s, self._split)

    @staticmethod
    def _ends_an_episode(data: bytes) -> bool:
        """Whether raw /sim/events bytes hold an episode_end (anything malformed is recorded, never acted on)."""
        from rclpy.serialization import deserialize_message
        from std_msgs.msg import Float64MultiArray

        try:
            return SimEvent.from_array(deserialize_message(data, Float64MultiArray).data, EVENTS).kind == EPISODE_END
        except Exception:  # noqa: BLE001 - garbage CDR fails inside the deserializer in many ways
            return False

    def _split(self) -> None:
        self.destroy_timer(self._split_timer)
        self._split_timer = None
        self.recorder.split()

    def report(self) -> None:
        stats = self.recorder.stats()
        self.get_logger().info(_summary(self.path, stats))
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        level = DiagnosticStatus.ERROR if stats.error else (DiagnosticStatus.WARN if stats.total_dropped else
                                                           DiagnosticStatus.OK)
        msg.status = [DiagnosticStatus(
            level=level,
            name=f"{self.get_name()}: recording",
            message=stats.error or ("dropping messages" if stats.total_dropped else "ok"),
            hardware_id=str(self.path),
            values=[
                KeyValue(key="written", value=str(stats.total_written)),
                KeyValue(key="dropped_queue_full", value=str(sum(stats.dropped.values()))),
                KeyValue(key="lost_in_middleware", value=str(sum(stats.lost.values()))),
                KeyValue(key="bags", value=str(stats.bags)),
                KeyValue(key="topics", value=str(len(self._recorded))),
            ],
        )]
        self._diagnostics.publish(msg)

    def destroy_node(self) -> None:
        """Stop receiving, write what is queued, close the bag (exit code 1 if writing failed), log the figures."""
        for sub in self._recorded.values():
            self.destroy_subscription(sub)
        self._recorded.clear()
        if self.recorder is not None:
            stats = self.recorder.stop()
            (self.get_logger().error if stats.error else self.get_logger().info)(_summary(self.path, stats))
            self.exit_code = 1 if stats.error else 0
            self.recorder = None
        super().destroy_node()


def _summary(path: Path, stats: RecorderStats) -> str:
    text = (
        f"{stats.total_written} messages on {len(stats.written)} topics in {stats.bags} bag(s) at {path}; "
        f"dropped {sum(stats.dropped.values())} (queue full), lost {sum(stats.lost.values())} (middleware)"
    )
    return f"{text}; ERROR {stats.error}" if stats.error else text


def main(args: list[str] | None = None) -> int:
    return spin_node(RecorderNode, "recorder", args)


if __name__ == "__main__":
    sys.exit(main())
