"""Gymnasium environment `V2PDishwashing-v0`: the dishwashing task through the generic `v2p.task.env.TaskEnv`.

One step is one dish cycle, one episode is one shift; action (speed, care) in [0, 1]², observation the state of
`v2p.task.dishwashing.STATE` (or a Dict adding a camera frame with `image_obs=True`), reward the Lagrangian
reward's per-step increment (see TaskEnv).
"""

from __future__ import annotations

from typing import Any

from v2p.task.dishwashing import DISHWASHING
from v2p.task.env import TaskEnv


class DishwashingEnv(TaskEnv):
    def __init__(self, site: Any = "default", **kwargs: Any) -> None:
        super().__init__(DISHWASHING, site=site, **kwargs)
