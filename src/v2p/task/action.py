"""The action a policy sends: named fields, their bounds, and the one conversion to and from SAC's unit box.

Everything that checks, clamps or rescales an action (the simulator, the nodes, the learner, exports) uses an
`ActionSpec`, so a task's action is defined once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from v2p.task.errors import MessageError


@dataclass(frozen=True)
class ActionSpec:
    """A box action: `fields[i]` lies in [low[i], high[i]]; `safe` is what a robot does without a valid action."""

    fields: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    safe: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.fields)
        if not n or len(self.low) != n or len(self.high) != n or len(self.safe) != n:
            raise ValueError(f"action spec needs one low, high and safe value per field {self.fields}")
        if not all(math.isfinite(lo) and math.isfinite(hi) and lo < hi for lo, hi in zip(self.low, self.high)):
            raise ValueError(f"action bounds must be finite with low < high, got {self.low}, {self.high}")
        self.parse(self.safe)

    @property
    def dim(self) -> int:
        return len(self.fields)

    @property
    def low_array(self) -> np.ndarray:
        return np.asarray(self.low, dtype=np.float32)

    @property
    def high_array(self) -> np.ndarray:
        return np.asarray(self.high, dtype=np.float32)

    def parse(self, values: Sequence[float] | np.ndarray) -> tuple[float, ...]:
        """The action as floats; anything but `dim` finite numbers within the bounds is a MessageError naming the
        field (nodes log it and drop the message)."""
        values = list(np.asarray(values, dtype=np.float64).reshape(-1)) if isinstance(values, np.ndarray) else list(values)
        if len(values) != self.dim:
            raise MessageError(f"action needs {self.dim} values ({', '.join(self.fields)}), got {len(values)}")
        out = []
        for name, v, lo, hi in zip(self.fields, values, self.low, self.high):
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise MessageError(f"{name} must be a number, got {v!r}") from None
            if not (math.isfinite(v) and lo <= v <= hi):
                raise MessageError(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {v!r}")
            out.append(v)
        return tuple(out)

    def to_unit(self, action: np.ndarray) -> np.ndarray:
        """Actions in task units (..., dim) -> SAC's unit box [-1, 1] (what the replay buffer stores)."""
        low, high = self.low_array, self.high_array
        unit = 2.0 * (np.asarray(action, dtype=np.float32) - low) / (high - low) - 1.0
        return np.clip(unit, -1.0, 1.0).astype(np.float32)

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """SAC's unit box [-1, 1] -> task units."""
        low, high = self.low_array, self.high_array
        return (low + (np.asarray(unit, dtype=np.float32) + 1.0) * 0.5 * (high - low)).astype(np.float32)
