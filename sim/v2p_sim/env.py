"""Gymnasium environment `V2PDishwashing-v0`: one step is one dish cycle, one episode is one shift.

Action: Box(2) in [0, 1] = (speed, care). Observation: the Workcell's state vector (STATE_DOC), or with
`image_obs=True` a Dict {"state", "image"} adding a camera frame. Reward: the economics core's Lagrangian reward
as a per-step increment (v2p.economics.sla.shift_reward_increment), so a shift's rewards sum to its Lagrangian
reward in $/h: a failed dish costs what the economics monitor says it costs.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from v2p.config import EconomicsConfig, load_economics_config
from v2p.economics.sla import ShiftTally, shift_reward_increment
from v2p_sim.site import SiteConfig, load_site
from v2p_sim.workcell import ERROR_KINDS, STATE_DIM, STATE_HIGH, STATE_LOW, Workcell

ACTION_TOLERANCE = 1e-6  # float32 round-off at the box's edges is not a bad action


class DishwashingEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        site: str | SiteConfig = "default",
        shift_hours: float | None = None,
        render_mode: str | None = None,
        image_obs: bool = False,
        image_size: int = 64,
        econ_config: EconomicsConfig | None = None,
        lagrange_multiplier: float = 0.0,
        sla_target: float | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not 8 <= int(image_size) <= 512:
            raise ValueError(f"image_size must lie in [8, 512], got {image_size!r}")
        self.site = load_site(site)
        self.shift_hours = float(shift_hours) if shift_hours is not None else self.site.shift_hours
        if not 0 < self.shift_hours <= 24:
            raise ValueError(f"shift_hours must lie in (0, 24], got {shift_hours!r}")
        self.render_mode = render_mode
        self.image_obs = bool(image_obs)
        self.image_size = int(image_size)
        self.econ = econ_config or load_economics_config()
        self.lam = 0.0
        self.set_lagrange_multiplier(lagrange_multiplier)
        self.sla_target = self.econ.sla.error_target
        if sla_target is not None:
            self.set_sla_target(sla_target)

        self.action_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        state = spaces.Box(STATE_LOW, STATE_HIGH, shape=(STATE_DIM,), dtype=np.float32)
        if self.image_obs:
            image = spaces.Box(0, 255, shape=(self.image_size, self.image_size, 3), dtype=np.uint8)
            self.observation_space = spaces.Dict({"state": state, "image": image})
        else:
            self.observation_space = state
        self.workcell = Workcell(self.site, seed=0, render_size=self.image_size)
        self.workcell.shift_hours = self.shift_hours
        self._tally = ShiftTally()

    # -------------------------------------------------------------- the constraint's knobs
    def set_lagrange_multiplier(self, lam: float) -> None:
        lam = float(lam)
        if not np.isfinite(lam) or lam < 0:
            raise ValueError(f"the Lagrange multiplier must be finite and >= 0, got {lam!r}")
        self.lam = lam

    def set_sla_target(self, target: float) -> None:
        target = float(target)
        if not 0 < target < 1:
            raise ValueError(f"the SLA error target must lie in (0, 1), got {target!r}")
        self.sla_target = target

    # -------------------------------------------------------------- gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.workcell.reset(int(self.np_random.integers(2**31 - 1)))
        self._tally = ShiftTally()
        return self._obs(), self._info([])

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (2,) or not np.all(np.isfinite(a)):
            raise ValueError(f"action must be 2 finite numbers (speed, care), got {action!r}")
        if np.any(a < -ACTION_TOLERANCE) or np.any(a > 1 + ACTION_TOLERANCE):
            raise ValueError(f"action must lie in [0, 1]^2 (speed, care), got {action!r}")
        speed, care = np.clip(a, 0.0, 1.0)
        wc = self.workcell
        result = wc.run_cycle(float(speed), float(care))
        before = self._tally
        self._tally = ShiftTally(wc.units, wc.attempts, wc.errors, wc.sim_time_s / 3600.0)
        reward = shift_reward_increment(before, self._tally, self.econ, self.sla_target, self.lam, self.shift_hours)
        terminated = wc.shift_done  # the shift is over: its clock is part of the state
        return self._obs(), float(reward), terminated, False, self._info([e.as_dict() for e in result.events])

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self.workcell.render_rgb(self.image_size)
        return None

    def close(self) -> None:
        self.workcell.close()

    # -------------------------------------------------------------- helpers
    def _obs(self) -> Any:
        state = self.workcell.state_vector()
        if self.image_obs:
            return {"state": state, "image": self.workcell.render_rgb(self.image_size)}
        return state

    def _info(self, events: list[dict]) -> dict:
        wc = self.workcell
        return {
            "units": wc.units,
            "attempts": wc.attempts,
            "errors": wc.errors,
            "errors_by_type": {k: wc.errors_by_type[k] for k in ERROR_KINDS},
            "sim_time_s": wc.sim_time_s,
            "events": events,
            "lagrange_multiplier": self.lam,
            "sla_target": self.sla_target,
        }
