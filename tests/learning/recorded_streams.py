"""Shared by tests/learning: the record stream a lockstep run produces and bags written from it by v2p.bags."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2p.config import load_economics_config
from v2p.learning import Record
from v2p.task import topics
from v2p.task.dishwashing import EVENTS
from v2p.task.events import SimEvent

CFG = load_economics_config()
DIM = 8
LAMBDA_TOPIC = topics.econ_topic("lambda")  # recorded too; the learner takes λ from the monitor's own dual ascent instead


class Stream:
    """Builds the record stream a lockstep run produces: clock, events, latent, action, in causal order."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.t_ns = 1_000_000_000
        self.sim_s = 0.0

    def add(self, topic: str, values) -> None:
        self.t_ns += 1_000_000
        self.records.append(Record(self.t_ns, topic, tuple(float(v) for v in values)))

    def event(self, episode: int, kind: str, hours: float = 0.0) -> None:
        self.add(topics.SIM_EVENTS, SimEvent(episode, kind, self.sim_s, 0, "plate", hours).to_array(EVENTS))

    def episode(self, number: int, outcomes: list[str], cycle_s: float = 10.0, shift_hours: float = 0.01,
                rng: np.random.Generator | None = None) -> None:
        rng = rng or np.random.default_rng(number)
        start = self.sim_s
        self.add(topics.CLOCK, [self.sim_s])
        self.event(number, "episode_start", shift_hours)
        for kind in outcomes:
            self.add(topics.LATENT, rng.normal(size=DIM))
            self.add(topics.ACTION, rng.uniform(0, 1, size=2))
            for _ in range(int(cycle_s)):
                self.sim_s += 1.0
                self.add(topics.CLOCK, [self.sim_s])
            self.event(number, kind)
        self.event(number, "episode_end", (self.sim_s - start) / 3600.0)


def _cdr_writer(path: Path, **split):
    from rosbags.typesys.stores.ros2_kilted import (builtin_interfaces__msg__Time as Time,
                                                    rosgraph_msgs__msg__Clock as Clock,
                                                    std_msgs__msg__Float32MultiArray as F32,
                                                    std_msgs__msg__Float64 as F64,
                                                    std_msgs__msg__Float64MultiArray as F64A,
                                                    std_msgs__msg__MultiArrayLayout as Layout)

    from v2p.bags import BagWriter

    types = {topics.LATENT: "std_msgs/msg/Float32MultiArray", topics.ACTION: "std_msgs/msg/Float32MultiArray",
             topics.SIM_EVENTS: "std_msgs/msg/Float64MultiArray", topics.CLOCK: "rosgraph_msgs/msg/Clock",
             LAMBDA_TOPIC: "std_msgs/msg/Float64"}
    writer = BagWriter(path, **split)
    for topic, msgtype in types.items():
        writer.add_topic(topic, msgtype)

    def write(rec: Record) -> None:
        msgtype = types[rec.topic]
        if rec.topic == topics.CLOCK:
            sec = int(rec.values[0])
            msg = Clock(clock=Time(sec=sec, nanosec=int(round((rec.values[0] - sec) * 1e9))))
        elif rec.topic == LAMBDA_TOPIC:
            msg = F64(data=rec.values[0])
        elif rec.topic == topics.SIM_EVENTS:
            msg = F64A(layout=Layout(dim=[], data_offset=0), data=np.array(rec.values, np.float64))
        else:
            msg = F32(layout=Layout(dim=[], data_offset=0), data=np.array(rec.values, np.float32))
        writer.write_raw(rec.topic, rec.timestamp_ns, writer.typestore.serialize_cdr(msg, msgtype))

    return writer, write


def write_bag(path: Path, stream: Stream, **split) -> Path:
    """Record `stream` into recording folder `path`; returns its (first) bag."""
    writer, write = _cdr_writer(path, **split)
    with writer:
        for rec in stream.records:
            write(rec)
    return writer.bags[0]


def two_episode_bag(path: Path, seed: int) -> Path:
    s = Stream()
    rng = np.random.default_rng(seed)
    s.episode(0, ["unit", "dropped", "unit", "unit"], rng=rng)
    s.episode(1, ["unit", "unit", "broken"], rng=rng)
    return write_bag(path, s)
