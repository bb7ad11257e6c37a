"""v2p_sim: the PyBullet dishwashing workcell, its sites, and the gymnasium environment V2PDishwashing-v0.

The task's vocabulary (dish types, the action, error kinds, the state layout) is `v2p.task.dishwashing`.

Importing the package registers the environment with gymnasium.
"""

from __future__ import annotations

import gymnasium as gym

from v2p_sim.env import DishwashingEnv
from v2p_sim.rollout import run_fixed_action
from v2p_sim.site import DishSpec, SiteConfig, load_site
from v2p_sim.workcell import CyclePlan, Workcell, plan_cycle

ENV_ID = "V2PDishwashing-v0"

if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="v2p_sim.env:DishwashingEnv")

__all__ = ["ENV_ID", "CyclePlan", "DishSpec", "DishwashingEnv", "SiteConfig", "Workcell", "load_site", "plan_cycle",
           "run_fixed_action"]
