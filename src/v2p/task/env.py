"""`TaskEnv`: any task's simulated workcell as a gymnasium environment; one step is one work cycle.

Action: the task's ActionSpec as a Box. Observation: a view of the cell's state vector (`observation`, one of
`v2p.task.observation.STATE_VIEWS`: "oracle_state", the whole layout, by default; "observable_state", what a robot
can sense; "robot_state", its own proprioception and bookkeeping), or with `image_obs=True` a Dict {"state",
"image"} adding a camera frame (pixels + robot state: `image_obs=True, observation="robot_state"` through
`v2p.encoders.wrappers.LatentObservation(..., policy_input=POLICY_INPUTS["video"])`). Reward: the cycle's reward
in parts (`v2p.economics.reward`: its value, its time at the going rate ρ, its errors under the SLA multiplier
λ), priced with the env's current ρ, λ and e*; `info` carries the parts and the weights, so a learner can store
the parts and price them later with newer weights. A shift's rewards sum to ŵ_r − energy − ρ − λ·(err − e*). An episode
is a shift.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from v2p.config import EconomicsConfig, load_economics_config
from v2p.economics.reward import combine, reward_parts, reward_weights
from v2p.task.base import Task

ACTION_TOLERANCE = 1e-6  # float32 round-off at the box's edges is not a bad action


class TaskEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        task: Task,
        site: Any = "default",
        shift_hours: float | None = None,
        render_mode: str | None = None,
        image_obs: bool = False,
        image_size: int = 64,
        observation: str = "oracle_state",
        econ_config: EconomicsConfig | None = None,
        lagrange_multiplier: float = 0.0,
        sla_target: float | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not 8 <= int(image_size) <= 512:
            raise ValueError(f"image_size must lie in [8, 512], got {image_size!r}")
        self.task = task
        self.state_fields = list(task.observation.view(observation))  # ValueError names the views
        self.render_mode = render_mode
        self.image_obs = bool(image_obs)
        self.image_size = int(image_size)
        self.econ = econ_config or load_economics_config()
        self.lam = 0.0
        self.set_lagrange_multiplier(lagrange_multiplier)
        self.going_rate = self.econ.human_wage  # ρ: what an hour of the robot's time is worth (see reward.py)
        self.sla_target = self.econ.sla.error_target
        if sla_target is not None:
            self.set_sla_target(sla_target)
        self.workcell = task.make_cell(site, seed=0, render_size=self.image_size)
        if shift_hours is not None:
            if not 0 < float(shift_hours) <= 24:
                self.workcell.close()
                raise ValueError(f"shift_hours must lie in (0, 24], got {shift_hours!r}")
            self.workcell.shift_hours = float(shift_hours)
        self.shift_hours = float(self.workcell.shift_hours)
        self.action_space = spaces.Box(task.action.low_array, task.action.high_array, dtype=np.float32)
        layout = task.observation
        low, high = layout.low[self.state_fields], layout.high[self.state_fields]
        state = spaces.Box(low, high, shape=(len(self.state_fields),), dtype=np.float32)
        if self.image_obs:
            image = spaces.Box(0, 255, shape=(self.image_size, self.image_size, 3), dtype=np.uint8)
            self.observation_space = spaces.Dict({"state": state, "image": image})
        else:
            self.observation_space = state

    # -------------------------------------------------------------- the constraint's knobs
    def set_lagrange_multiplier(self, lam: float) -> None:
        lam = float(lam)
        if not np.isfinite(lam) or lam < 0:
            raise ValueError(f"the Lagrange multiplier must be finite and >= 0, got {lam!r}")
        self.lam = lam

    def set_going_rate(self, rate: float) -> None:
        rate = float(rate)
        if not np.isfinite(rate):
            raise ValueError(f"the going rate must be finite, got {rate!r}")
        self.going_rate = rate

    def set_sla_target(self, target: float) -> None:
        target = float(target)
        if not 0 < target < 1:
            raise ValueError(f"the SLA error target must lie in (0, 1), got {target!r}")
        self.sla_target = target

    # -------------------------------------------------------------- gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.workcell.reset(int(self.np_random.integers(2**31 - 1)))
        return self._obs(), self._info([])

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        spec = self.task.action
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (spec.dim,) or not np.all(np.isfinite(a)):
            raise ValueError(f"action must be {spec.dim} finite numbers ({', '.join(spec.fields)}), got {action!r}")
        low, high = np.asarray(spec.low), np.asarray(spec.high)
        if np.any(a < low - ACTION_TOLERANCE) or np.any(a > high + ACTION_TOLERANCE):
            raise ValueError(f"action must lie in [{spec.low}, {spec.high}] ({', '.join(spec.fields)}), got {action!r}")
        wc = self.workcell
        units, errors = wc.units, wc.errors
        result = wc.run_cycle(*(float(v) for v in np.clip(a, low, high)))
        parts = reward_parts(wc.units - units, wc.errors - errors, result.duration_s / 3600.0, self.shift_hours,
                             self.econ)
        weights = reward_weights(self.going_rate, self.lam, self.sla_target)
        terminated = wc.shift_done  # the shift is over: its clock is part of the state
        info = self._info([e.as_dict() for e in result.events]) | {"reward_parts": parts, "reward_weights": weights}
        return self._obs(), combine(parts, weights), terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self.workcell.render_rgb(self.image_size)
        return None

    def close(self) -> None:
        self.workcell.close()

    # -------------------------------------------------------------- helpers
    def _obs(self) -> Any:
        state = self.workcell.state_vector()[self.state_fields]
        if self.image_obs:
            return {"state": state, "image": self.workcell.render_rgb(self.image_size)}
        return state

    def _info(self, events: list[dict]) -> dict:
        wc = self.workcell
        return {
            "units": wc.units,
            "attempts": wc.attempts,
            "errors": wc.errors,
            "errors_by_type": {k: wc.errors_by_type[k] for k in self.task.events.error_kinds},
            "sim_time_s": wc.sim_time_s,
            "events": events,
            "lagrange_multiplier": self.lam,
            "sla_target": self.sla_target,
            "going_rate": self.going_rate,
        }
