"""Layouts of the flat arrays the nodes exchange over standard message types (no custom .msg build step).

/sim/events is std_msgs/Float64MultiArray, one message per event, `EVENT_FIELDS` in order; its layout's single
dimension is labelled with the field names so `ros2 topic echo` and Foxglove show what each number is.
/policy/action is std_msgs/Float32MultiArray [speed, care]; /sim/state and /encoder/latent are
std_msgs/Float32MultiArray vectors (the state layout is documented by `v2p_sim.Workcell.state_vector`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EVENT_KINDS = ("unit", "dropped", "broken", "dirty", "misplaced", "episode_start", "episode_end")
ERROR_KINDS = ("dropped", "broken", "dirty", "misplaced")
DISH_TYPES = ("plate", "bowl", "glass")
EVENT_FIELDS = ("episode", "kind", "sim_time_s", "dish_index", "dish_type", "episode_hours")
EVENT_LABEL = ",".join(EVENT_FIELDS)
ACTION_FIELDS = ("speed", "care")


class MessageError(ValueError):
    """A message whose content does not fit its layout; nodes log it and drop the message."""


@dataclass(frozen=True)
class SimEvent:
    """A unit done, an error detected, or an episode boundary, at a simulated time."""

    episode: int
    kind: str
    sim_time_s: float
    dish_index: int = -1
    dish_type: str = ""
    episode_hours: float = 0.0  # set on episode_end: the shift's simulated hours

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_KINDS

    def to_array(self) -> list[float]:
        dish = DISH_TYPES.index(self.dish_type) if self.dish_type else -1
        return [float(self.episode), float(EVENT_KINDS.index(self.kind)), self.sim_time_s, float(self.dish_index),
                float(dish), self.episode_hours]

    @classmethod
    def from_array(cls, values: list[float] | tuple[float, ...]) -> SimEvent:
        values = list(values)
        if len(values) != len(EVENT_FIELDS):
            raise MessageError(f"event needs {len(EVENT_FIELDS)} values ({EVENT_LABEL}), got {len(values)}")
        if not all(math.isfinite(v) for v in values):
            raise MessageError(f"event values must be finite, got {values}")
        episode, kind, sim_time, dish_index, dish, hours = values
        if kind != int(kind) or not 0 <= kind < len(EVENT_KINDS):
            raise MessageError(f"event kind code must be 0..{len(EVENT_KINDS) - 1}, got {kind}")
        if dish != int(dish) or not -1 <= dish < len(DISH_TYPES):
            raise MessageError(f"dish type code must be -1..{len(DISH_TYPES) - 1}, got {dish}")
        if episode < 0 or sim_time < 0 or hours < 0:
            raise MessageError(f"episode, sim time and hours must not be negative, got {values}")
        return cls(int(episode), EVENT_KINDS[int(kind)], sim_time, int(dish_index),
                   DISH_TYPES[int(dish)] if dish >= 0 else "", hours)


def parse_action(values: list[float] | tuple[float, ...]) -> tuple[float, float]:
    """(speed, care) from an action message; anything but two finite numbers in [0, 1] is a MessageError."""
    values = list(values)
    if len(values) != 2:
        raise MessageError(f"action needs 2 values (speed, care), got {len(values)}")
    speed, care = (float(v) for v in values)
    if not (math.isfinite(speed) and math.isfinite(care) and 0.0 <= speed <= 1.0 and 0.0 <= care <= 1.0):
        raise MessageError(f"action (speed, care) must be finite and in [0, 1], got ({speed}, {care})")
    return speed, care


def summary_error_target(statuses: list) -> float | None:
    """The e* an /econ/summary (diagnostic_msgs/DiagnosticArray `status` list) reports, if it holds a valid one."""
    for status in statuses:
        for kv in status.values:
            if kv.key != "error_target":
                continue
            try:
                target = float(kv.value)
            except ValueError:
                continue
            if math.isfinite(target) and 0.0 < target < 1.0:
                return target
    return None
