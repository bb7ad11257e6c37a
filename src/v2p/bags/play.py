"""Republish a bag's recorded CDR bytes on a live ROS 2 graph with their original timing (rclpy)."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rosbags.interfaces import Qos, QosDurability, QosReliability

from v2p.bags.errors import BagError
from v2p.bags.reader import bag_info, read_bag
from v2p.task import topics as task_topics


@dataclass(frozen=True)
class PlayResult:
    published: int
    topics: int
    bag_seconds: float  # bag time covered
    wall_seconds: float


def message_class(msgtype: str) -> type:
    """The rclpy message class of 'pkg/msg/Name'."""
    try:
        pkg, kind, name = msgtype.split("/")
        return getattr(importlib.import_module(f"{pkg}.{kind}"), name)
    except (ValueError, ImportError, AttributeError):
        raise BagError(f"message type {msgtype} is not installed in this Python environment") from None


def _publisher_qos(offered: tuple[Qos, ...]) -> Any:
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    first = offered[0] if offered else None
    best_effort = first is not None and first.reliability == QosReliability.BEST_EFFORT
    latched = first is not None and first.durability == QosDurability.TRANSIENT_LOCAL
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=max(10, first.depth if first else 10),
        reliability=ReliabilityPolicy.BEST_EFFORT if best_effort else ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
    )


def play_bag(
    path: Path | str,
    *,
    rate: float = 1.0,
    clock_hz: float | None = None,
    topics: Iterable[str] | None = None,
    delay_s: float = 1.0,
    stop_event: threading.Event | None = None,
    on_message: Callable[[str, int], None] | None = None,
) -> PlayResult:
    """Publish every message of the bag (or recording) at `rate` times its recorded pace.

    clock_hz: also publish /clock (rosgraph_msgs/Clock) with the bag time, at this rate, for nodes on sim time.
    delay_s: wait this long after creating the publishers so that subscribers discover them.
    """
    if rate <= 0:
        raise BagError(f"{path}: rate must be positive, got {rate}")
    if clock_hz is not None and clock_hz <= 0:
        raise BagError(f"{path}: clock rate must be positive, got {clock_hz}")
    info = bag_info(path)
    wanted = None if topics is None else set(topics)
    selected = [t for t in info.topics if wanted is None or t.name in wanted]
    if wanted is not None and (missing := wanted - {t.name for t in selected}):
        raise BagError(f"{path}: no such topic(s) in the bag: {', '.join(sorted(missing))}")

    import rclpy
    from rclpy.node import Node
    from rosgraph_msgs.msg import Clock

    stop = stop_event or threading.Event()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("v2p_bag_player", context=context)
    try:
        publishers = {t.name: node.create_publisher(message_class(t.msgtype), t.name, _publisher_qos(t.offered_qos))
                      for t in selected}
        clock_pub = node.create_publisher(Clock, task_topics.CLOCK, 10) if clock_hz else None
        stop.wait(delay_s)
        wall_start = time.monotonic()
        bag_start: int | None = None
        last_ts = 0
        published = 0

        def publish_clock(ts: int) -> None:
            if clock_pub is not None:
                msg = Clock()
                msg.clock.sec, msg.clock.nanosec = divmod(ts, 1_000_000_000)
                clock_pub.publish(msg)

        for message in read_bag(path, topics=[t.name for t in selected], raw=True):
            if stop.is_set():
                break
            if bag_start is None:
                bag_start = message.timestamp_ns
            due = wall_start + (message.timestamp_ns - bag_start) / 1e9 / rate
            # Sleep until the message is due, ticking /clock with the bag time meanwhile.
            while (wait := due - time.monotonic()) > 0 and not stop.is_set():
                if clock_pub is not None:
                    elapsed = (time.monotonic() - wall_start) * rate
                    publish_clock(bag_start + int(elapsed * 1e9))
                    stop.wait(min(wait, 1.0 / clock_hz))
                else:
                    stop.wait(wait)
            if stop.is_set():
                break
            publish_clock(message.timestamp_ns)
            publishers[message.topic].publish(message.data)
            published += 1
            last_ts = message.timestamp_ns
            if on_message is not None:
                on_message(message.topic, message.timestamp_ns)
        return PlayResult(
            published=published,
            topics=len(publishers),
            bag_seconds=(last_ts - bag_start) / 1e9 if bag_start is not None else 0.0,
            wall_seconds=time.monotonic() - wall_start,
        )
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
