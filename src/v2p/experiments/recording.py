"""Shifts of the simulator written straight to a rosbag2 recording, without a ROS graph.

The bag holds what the learner reads from a lockstep sim stack's recording, in the order the graph publishes it:
per shift an `episode_start` event, then per dish cycle the robot's own state on /robot/state and the whole state
on /sim/state, the action on /policy/action, the cycle's end on /clock and its events on /sim/events, and an
`episode_end` event. Use it for data sets whose behaviour policy is not a SAC (uniform exploration, a fixed
operating point) and for tests of what is learned from bags; the sim stack (`launch/sim.launch.yaml`) records the
same topics through DDS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from v2p.task import topics
from v2p.task.dishwashing import EVENTS, STATE
from v2p.task.events import SimEvent

Behaviour = Callable[[np.ndarray, np.random.Generator], tuple[float, float]]  # (state, rng) -> (speed, care)

TOPIC_TYPES = {topics.ROBOT_STATE: "std_msgs/msg/Float32MultiArray", topics.SIM_STATE: "std_msgs/msg/Float32MultiArray",
               topics.ACTION: "std_msgs/msg/Float32MultiArray",
               topics.SIM_EVENTS: "std_msgs/msg/Float64MultiArray", topics.CLOCK: "rosgraph_msgs/msg/Clock"}


def uniform_behaviour(state: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Exploration data: (speed, care) uniform on [0, 1]^2 whatever the state."""
    speed, care = rng.uniform(0.0, 1.0, size=2)
    return float(speed), float(care)


def record_shifts(folder: Path | str, site: str, episodes: int, seed: int, behaviour: Behaviour = uniform_behaviour,
                  first_episode: int = 0, shift_hours: float | None = None) -> Path:
    """Run `episodes` shifts at `site` (shift k seeded seed + k; `shift_hours` None: the site's) acting with
    `behaviour`; returns the bag."""
    from rosbags.typesys.stores.ros2_kilted import builtin_interfaces__msg__Time as Time
    from rosbags.typesys.stores.ros2_kilted import rosgraph_msgs__msg__Clock as Clock
    from rosbags.typesys.stores.ros2_kilted import std_msgs__msg__Float32MultiArray as F32
    from rosbags.typesys.stores.ros2_kilted import std_msgs__msg__Float64MultiArray as F64
    from rosbags.typesys.stores.ros2_kilted import std_msgs__msg__MultiArrayLayout as Layout

    from v2p.bags import BagWriter
    from v2p_sim import Workcell

    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    rng = np.random.default_rng(seed)
    workcell = Workcell(site, seed=seed)
    if shift_hours is not None:
        if not 0 < shift_hours <= 24:
            raise ValueError(f"shift_hours must lie in (0, 24], got {shift_hours!r}")
        workcell.shift_hours = float(shift_hours)
    stamp_ns, offset_s = 0, 0.0
    robot_fields = list(STATE.view("robot_state"))
    try:
        with BagWriter(folder) as writer:
            for topic, msgtype in TOPIC_TYPES.items():
                writer.add_topic(topic, msgtype)

            def write(topic: str, msg: Any) -> None:
                nonlocal stamp_ns
                stamp_ns += 1_000  # log time follows publication order, as the recorder stamps it
                writer.write_raw(topic, stamp_ns, writer.typestore.serialize_cdr(msg, TOPIC_TYPES[topic]))

            def event(ev: SimEvent) -> None:
                write(topics.SIM_EVENTS, F64(layout=Layout(dim=[], data_offset=0), data=np.asarray(ev.to_array(EVENTS))))

            def clock(sim_s: float) -> None:
                sec = int(sim_s)
                write(topics.CLOCK, Clock(clock=Time(sec=sec, nanosec=int(round((sim_s - sec) * 1e9)) % 1_000_000_000)))

            for k in range(episodes):
                episode = first_episode + k
                workcell.reset(seed + k)
                clock(offset_s)
                event(SimEvent(episode, "episode_start", offset_s, episode_hours=workcell.shift_hours))
                while not workcell.shift_done:
                    state = workcell.state_vector()
                    write(topics.ROBOT_STATE, F32(layout=Layout(dim=[], data_offset=0),
                                                 data=state[robot_fields].astype(np.float32)))
                    write(topics.SIM_STATE, F32(layout=Layout(dim=[], data_offset=0), data=state.astype(np.float32)))
                    speed, care = behaviour(state, rng)
                    write(topics.ACTION, F32(layout=Layout(dim=[], data_offset=0),
                                            data=np.asarray([speed, care], np.float32)))
                    result = workcell.run_cycle(speed, care)
                    clock(offset_s + workcell.sim_time_s)
                    for ev in result.events:
                        event(SimEvent(episode, ev.kind, offset_s + ev.sim_time_s, ev.dish_index, ev.dish_type))
                offset_s += workcell.sim_time_s
                event(SimEvent(episode, "episode_end", offset_s, episode_hours=workcell.sim_time_s / 3600.0))
            return writer.bags[0]
    finally:
        workcell.close()
