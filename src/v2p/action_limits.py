"""Limits on the actions a policy sends to a robot: a clamp envelope, a slew limit and a rate limit.

The policy node applies them before publishing, so commissioning a robot can start inside a narrow envelope
(say speed ≤ 0.6); the robot's controller must still enforce its own limits on whatever reaches its input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class ActionLimiter:
    low: np.ndarray  # per-dimension clamp, within [0, 1]
    high: np.ndarray
    max_delta_per_s: float = 0.0  # slew limit per dimension per second; 0: off
    max_rate_hz: float = 0.0  # at most this many actions per second; 0: off
    _last: np.ndarray | None = None
    _last_time_s: float | None = None

    def __post_init__(self) -> None:
        self.low = np.asarray(self.low, dtype=np.float32)
        self.high = np.asarray(self.high, dtype=np.float32)
        if self.low.shape != self.high.shape or not np.all((0 <= self.low) & (self.low <= self.high) & (self.high <= 1)):
            raise ValueError(f"action limits need 0 <= action_min <= action_max <= 1, got {self.low} and {self.high}")
        for name in ("max_delta_per_s", "max_rate_hz"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0 (0: off), got {value}")

    def limit(self, action: np.ndarray, now_s: float) -> np.ndarray | None:
        """The action to send at `now_s`, or None when the rate limit says to send nothing now."""
        if self.max_rate_hz > 0 and self._last_time_s is not None and now_s - self._last_time_s < 1.0 / self.max_rate_hz:
            return None
        out = np.clip(np.asarray(action, dtype=np.float32), self.low, self.high)
        if self.max_delta_per_s > 0 and self._last is not None and self._last_time_s is not None:
            step = self.max_delta_per_s * max(now_s - self._last_time_s, 0.0)
            out = np.clip(out, self._last - step, self._last + step).astype(np.float32)
        self._last, self._last_time_s = out, now_s
        return out
