"""What happens in a workcell, as events: the vocabulary a task defines and its flat wire layout.

/sim/events is std_msgs/Float64MultiArray, one message per event, `EVENT_FIELDS` in order; its layout's single
dimension is labelled with the field names so `ros2 topic echo` and Foxglove show what each number is. Kind and
item type travel as indices into the task's `EventVocabulary`.

Every task shares three protocol kinds: "unit" (one unit of work done right), "episode_start" and
"episode_end" (a shift's frame); every other kind of the vocabulary is an error the simulator detected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from v2p.task.errors import MessageError

UNIT, EPISODE_START, EPISODE_END = "unit", "episode_start", "episode_end"
EVENT_FIELDS = ("episode", "kind", "sim_time_s", "dish_index", "dish_type", "episode_hours")
EVENT_LABEL = ",".join(EVENT_FIELDS)


@dataclass(frozen=True)
class EventVocabulary:
    """A task's event kinds (the unit, its error kinds, the episode frame) and the item types it works on."""

    error_kinds: tuple[str, ...]
    item_types: tuple[str, ...]

    def __post_init__(self) -> None:
        clash = {UNIT, EPISODE_START, EPISODE_END} & set(self.error_kinds)
        if clash or len(set(self.error_kinds)) != len(self.error_kinds) or not self.error_kinds:
            raise ValueError(f"error kinds must be distinct, non-empty and not {sorted(clash)}")
        if not self.item_types or len(set(self.item_types)) != len(self.item_types):
            raise ValueError(f"item types must be distinct and non-empty, got {self.item_types}")

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind, in wire-code order."""
        return (UNIT, *self.error_kinds, EPISODE_START, EPISODE_END)

    @property
    def work_kinds(self) -> tuple[str, ...]:
        """The kinds an attempt at one item ends with: the unit or one of the errors."""
        return (UNIT, *self.error_kinds)


@dataclass(frozen=True)
class SimEvent:
    """A unit done, an error detected, or an episode boundary, at a simulated time."""

    episode: int
    kind: str
    sim_time_s: float
    dish_index: int = -1  # the item's position in its shift (0, 1, ...); -1 for episode boundaries
    dish_type: str = ""  # the item's type ("" for episode boundaries)
    episode_hours: float = 0.0  # set on episode_start (the planned shift length) and episode_end (hours worked)

    @property
    def is_error(self) -> bool:
        return self.kind not in (UNIT, EPISODE_START, EPISODE_END)

    def to_array(self, vocabulary: EventVocabulary) -> list[float]:
        dish = vocabulary.item_types.index(self.dish_type) if self.dish_type else -1
        return [float(self.episode), float(vocabulary.kinds.index(self.kind)), self.sim_time_s,
                float(self.dish_index), float(dish), self.episode_hours]

    @classmethod
    def from_array(cls, values: Sequence[float], vocabulary: EventVocabulary) -> SimEvent:
        """Decode one /sim/events message; MessageError names what does not fit the layout."""
        values = list(values)
        if len(values) != len(EVENT_FIELDS):
            raise MessageError(f"event needs {len(EVENT_FIELDS)} values ({EVENT_LABEL}), got {len(values)}")
        if not all(math.isfinite(v) for v in values):
            raise MessageError(f"event values must be finite, got {values}")
        episode, kind, sim_time, dish_index, dish, hours = values
        kinds, types = vocabulary.kinds, vocabulary.item_types
        if kind != int(kind) or not 0 <= kind < len(kinds):
            raise MessageError(f"event kind code must be 0..{len(kinds) - 1}, got {kind}")
        if dish != int(dish) or not -1 <= dish < len(types):
            raise MessageError(f"dish type code must be -1..{len(types) - 1}, got {dish}")
        if episode < 0 or sim_time < 0 or hours < 0:
            raise MessageError(f"episode, sim time and hours must not be negative, got {values}")
        if episode != int(episode) or dish_index != int(dish_index):
            raise MessageError(f"episode and dish index must be whole numbers, got {values}")
        return cls(int(episode), kinds[int(kind)], sim_time, int(dish_index), types[int(dish)] if dish >= 0 else "",
                   hours)
