"""What the node tests share: a driver node in the test process (publishes inputs, records outputs) and the
argv of a V2P node started as its own process."""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node


def node_argv(name: str, *params: str) -> list[str]:
    """`python -m v2p_ros.<name> --ros-args -p ...`: the node as launch starts it, minus the console script."""
    argv = [sys.executable, "-m", f"v2p_ros.{name}", "--ros-args"]
    for param in params:
        argv += ["-p", param]
    return argv


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.02)


def send_until(send: Callable[[], None], predicate: Callable[[], bool], timeout: float = 30.0,
               what: str = "condition", period: float = 0.3) -> None:
    """Repeat `send` until `predicate` holds: best-effort (sensor-data) messages sent before the receiving side
    has matched the sender are dropped by design, and a publisher cannot see that match."""
    deadline = time.monotonic() + timeout
    while True:
        send()
        until = time.monotonic() + period
        while time.monotonic() < until:
            if predicate():
                return
            time.sleep(0.02)
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"


class Driver:
    """An rclpy node in the test process, spun by a background thread; `received[topic]` lists messages."""

    def __init__(self, name: str = "v2p_test_driver") -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node(name, context=self.context)
        self.received: dict[str, list[Any]] = defaultdict(list)
        self.lock = threading.Lock()
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _spin(self) -> None:
        while self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # noqa: BLE001 - the context went away during shutdown
                return

    def subscribe(self, msg_type: type, topic: str, qos: Any) -> list[Any]:
        def keep(msg: Any) -> None:
            with self.lock:
                self.received[topic].append(msg)

        self.node.create_subscription(msg_type, topic, keep, qos)
        return self.received[topic]

    def count(self, topic: str) -> int:
        with self.lock:
            return len(self.received[topic])

    def publisher(self, msg_type: type, topic: str, qos: Any) -> Any:
        return self.node.create_publisher(msg_type, topic, qos)

    def wait_for_match(self, publisher: Any, subscribers: int = 1, timeout: float = 60.0) -> None:
        wait_until(lambda: publisher.get_subscription_count() >= subscribers, timeout,
                   f"{subscribers} subscriber(s) on {publisher.topic_name}")

    def wait_for_publisher(self, topic: str, timeout: float = 60.0) -> None:
        wait_until(lambda: self.node.count_publishers(topic) >= 1, timeout, f"a publisher on {topic}")

    def quiet(self, topic: str, seconds: float = 1.0) -> int:
        """Messages on `topic` that arrive within `seconds` from now."""
        before = self.count(topic)
        time.sleep(seconds)
        return self.count(topic) - before

    def close(self) -> None:
        rclpy.shutdown(context=self.context)
        self.thread.join(timeout=5.0)
        self.node.destroy_node()


def write_lockstep_recording(folder: Any, episodes: int, steps: int, seed: int = 0) -> Any:
    """A recording like a lockstep run's (latent, action, clock, events, λ) written with v2p.bags; returns its bag."""
    import numpy as np
    from rosbags.typesys.stores.ros2_kilted import (builtin_interfaces__msg__Time as Time,
                                                    rosgraph_msgs__msg__Clock as Clock,
                                                    std_msgs__msg__Float32MultiArray as F32,
                                                    std_msgs__msg__Float64 as F64,
                                                    std_msgs__msg__Float64MultiArray as F64A,
                                                    std_msgs__msg__MultiArrayLayout as Layout)

    from v2p.bags import BagWriter
    from v2p.task.dishwashing import EVENTS
    from v2p.task.events import SimEvent

    rng = np.random.default_rng(seed)
    types = {"/encoder/latent": "std_msgs/msg/Float32MultiArray", "/policy/action": "std_msgs/msg/Float32MultiArray",
             "/sim/events": "std_msgs/msg/Float64MultiArray", "/clock": "rosgraph_msgs/msg/Clock",
             "/econ/lambda": "std_msgs/msg/Float64"}
    t_ns, sim_s = 1_000_000_000, 0.0
    with BagWriter(folder) as writer:
        for topic, msgtype in types.items():
            writer.add_topic(topic, msgtype)

        def write(topic: str, msg: Any) -> None:
            nonlocal t_ns
            t_ns += 1_000_000
            writer.write_raw(topic, t_ns, writer.typestore.serialize_cdr(msg, types[topic]))

        def array(cls: type, values: Any, dtype: Any) -> Any:
            return cls(layout=Layout(dim=[], data_offset=0), data=np.asarray(values, dtype))

        for ep in range(episodes):
            write("/sim/events", array(F64A, SimEvent(ep, "episode_start", sim_s, episode_hours=0.01).to_array(EVENTS),
                                       np.float64))
            start = sim_s
            for k in range(steps):
                write("/encoder/latent", array(F32, rng.normal(size=128), np.float32))
                write("/policy/action", array(F32, rng.uniform(0, 1, 2), np.float32))
                sim_s += 15.0
                write("/clock", Clock(clock=Time(sec=int(sim_s), nanosec=0)))
                kind = "unit" if rng.random() < 0.8 else "dropped"
                write("/sim/events", array(F64A, SimEvent(ep, kind, sim_s, k, "plate").to_array(EVENTS), np.float64))
            write("/sim/events", array(F64A, SimEvent(ep, "episode_end", sim_s,
                                                      episode_hours=(sim_s - start) / 3600).to_array(EVENTS), np.float64))
            write("/econ/lambda", F64(data=0.5 * ep))
        return writer.bags[0]
