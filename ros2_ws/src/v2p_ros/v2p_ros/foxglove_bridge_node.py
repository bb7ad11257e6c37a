"""foxglove_bridge_node: streams the camera, the actions and every /econ/* topic to Foxglove over a WebSocket.

Built on the `foxglove-sdk` server (subprotocol foxglove.sdk.v1). Topics are found on the ROS graph as they
appear; each becomes a Foxglove channel carrying the ROS 2 CDR bytes unchanged (encoding "cdr") with the
message's full ROS 2 definition as its schema (encoding "ros2msg"), so Foxglove decodes them natively.

Parameters:
  host (str, 127.0.0.1)   interface to listen on; 0.0.0.0 exposes the stream to the network, on purpose only
  port (int, 8765)        0 picks a free port; the node logs the one it bound
  topics (str[])          fnmatch patterns of the topics to bridge
  discovery_period_s      how often the graph is checked for new topics
"""

from __future__ import annotations

import fnmatch
import importlib
import sys
from typing import Any

import foxglove
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from v2p.errors import V2PError
from v2p.task import topics
from v2p_ros.common import V2PNode, declare, spin_node

DEFAULT_TOPICS = [topics.CAMERA_IMAGE, topics.ACTION, topics.ECON_PREFIX + "*", topics.VIZ_MARKERS, topics.SIM_STATE,
                  topics.SIM_EVENTS]


def message_class(type_name: str) -> type:
    """The rclpy class of a ROS 2 type name such as 'std_msgs/msg/Float64'."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


def ros2msg_schema(type_name: str) -> str:
    """The message's definition with every nested type appended, as rosbag2 writes it into MCAP files."""
    from rosbags.typesys import Stores, get_typestore

    text, _ = get_typestore(Stores.ROS2_KILTED).generate_msgdef(type_name, ros_version=2)
    return text


def adapted_qos(publishers: list[Any], depth: int = 10) -> QoSProfile:
    """A subscription QoS every current publisher is compatible with (the rule rosbag2 uses): reliable and
    transient-local only when all publishers offer it."""
    reliable = bool(publishers) and all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                                        for p in publishers)
    latched = bool(publishers) and all(p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
                                       for p in publishers)
    return QoSProfile(depth=depth, history=HistoryPolicy.KEEP_LAST,
                      reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE)


class FoxgloveBridge(V2PNode):
    def __init__(self) -> None:
        super().__init__("foxglove_bridge")
        self.server: Any = None
        self.bridged: dict[str, tuple[Any, Any]] = {}  # topic -> (channel, subscription)
        self.skipped: set[tuple[str, str]] = set()
        self.host = declare(self, "host", "127.0.0.1", "interface to listen on (0.0.0.0: every interface)")
        port = declare(self, "port", 8765, "WebSocket port (0: a free one, logged)", (0, 65535))
        self.patterns = list(declare(self, "topics", DEFAULT_TOPICS, "fnmatch patterns of the topics to bridge"))
        period = declare(self, "discovery_period_s", 0.5, "how often the graph is checked for new topics",
                         (0.05, 60.0))
        try:
            self.server = foxglove.start_server(name="v2p", host=self.host, port=port)
        except Exception as exc:  # the SDK raises a bare RuntimeError for an address in use or unresolvable
            raise V2PError(f"cannot listen on {self.host}:{port}: {exc}") from None
        self.port = self.server.port
        self.get_logger().info(f"Foxglove bridge listening on ws://{self.host}:{self.port}")
        self.create_timer(period, self.discover)
        self.discover()

    def wanted(self, topic: str) -> bool:
        return any(fnmatch.fnmatchcase(topic, pattern) for pattern in self.patterns)

    def discover(self) -> None:
        for topic, types in self.get_topic_names_and_types():
            if topic in self.bridged or not self.wanted(topic):
                continue
            publishers = self.get_publishers_info_by_topic(topic)
            if not publishers:
                continue  # only subscribers so far: wait for a publisher to learn its QoS
            self.bridge(topic, types[0], publishers)

    def bridge(self, topic: str, type_name: str, publishers: list[Any]) -> None:
        try:
            cls = message_class(type_name)
            schema = ros2msg_schema(type_name)
        except (ImportError, AttributeError, ValueError, KeyError) as exc:
            if (topic, type_name) not in self.skipped:  # say it once, not every discovery tick
                self.skipped.add((topic, type_name))
                self.get_logger().warning(f"not bridging {topic}: cannot describe {type_name} ({exc})")
            return
        channel = foxglove.Channel(
            topic, message_encoding="cdr",
            schema=foxglove.Schema(name=type_name, encoding="ros2msg", data=schema.encode()))

        def forward(raw: bytes, channel: Any = channel) -> None:
            if channel.has_sinks():  # serialised bytes pass through untouched; nothing is sent unwatched
                channel.log(raw)

        subscription = self.create_subscription(cls, topic, forward, adapted_qos(publishers), raw=True)
        self.bridged[topic] = (channel, subscription)
        self.get_logger().info(f"bridging {topic} [{type_name}]")

    def destroy_node(self) -> None:
        for channel, _ in self.bridged.values():
            channel.close()
        if self.server is not None:
            self.server.stop()
            self.server = None
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return spin_node(FoxgloveBridge, "foxglove_bridge", args)


if __name__ == "__main__":
    sys.exit(main())
