"""The quality SLA as a training constraint: λ by dual ascent on the episode error rate, e* by curriculum.

Where the env prices the SLA itself (it has `set_lagrange_multiplier`, as V2PDishwashing-v0 does), the hook
hands it λ and e* before every episode and leaves rewards alone. Otherwise it adds the penalty to each step's
reward itself, telescoped like the economics core's shift reward, so an episode's penalties sum to
−(hours/shift_hours)·λ·max(0, err − e*): the same figure the Lagrangian reward charges.
"""

from __future__ import annotations

from typing import Any

from v2p.config import EconomicsConfig, load_economics_config
from v2p.economics.labor import error_rate
from v2p.economics.sla import DualAscent, ShiftTally, shift_reward_increment
from v2p.errors import V2PError
from v2p.rl.callbacks import Callback
from v2p.rl.episode_log import SHIFT_KEYS, has_shift_info


class SLAConstraint(Callback):
    def __init__(self, econ_cfg: EconomicsConfig | None = None, shift_hours: float = 1.0, lam: float = 0.0):
        """`shift_hours` scales the self-applied penalty (only used when the env does not take λ itself)."""
        if shift_hours <= 0:
            raise V2PError(f"SLAConstraint: shift_hours must be positive, got {shift_hours}")
        self.cfg = econ_cfg if econ_cfg is not None else load_economics_config()
        self.dual = DualAscent(self.cfg.sla, lam=lam)
        self.shift_hours = shift_hours
        self.history: list[dict[str, float]] = []  # per episode: lambda_dual, err_target, err_rate
        self._env: Any = None
        self._delegated = False
        self._tally = ShiftTally()

    @property
    def lam(self) -> float:
        return self.dual.lam

    @property
    def target(self) -> float:
        return self.dual.target

    def on_training_start(self, model: Any) -> None:
        self._env = model.env.unwrapped if model.env is not None else None
        self._delegated = hasattr(self._env, "set_lagrange_multiplier")
        self._push()

    def _push(self) -> None:
        if self._delegated:
            self._env.set_lagrange_multiplier(self.dual.lam)
            if hasattr(self._env, "set_sla_target"):
                self._env.set_sla_target(self.dual.target)

    def reward(self, reward: float, info: dict[str, Any]) -> float:
        if self._delegated:
            return reward
        after = self._tally_of(info)
        cfg, target, lam = self.cfg, self.dual.target, self.dual.lam
        # the penalty part of the Lagrangian reward increment: (with λ) − (with λ = 0)
        penalty = (shift_reward_increment(self._tally, after, cfg, target, lam, self.shift_hours)
                   - shift_reward_increment(self._tally, after, cfg, target, 0.0, self.shift_hours))
        self._tally = after
        return reward + penalty

    def on_episode_end(self, model: Any, record: dict[str, Any], info: dict[str, Any]) -> bool:
        err = self._tally_err(info)
        used = {"lambda_dual": self.dual.lam, "err_target": self.dual.target}
        self.dual.update(err)
        self.history.append({**used, "err_rate": err})
        record.update(used)
        record["lambda_next"] = self.dual.lam
        self._tally = ShiftTally()
        self._push()
        return True

    def state(self) -> dict[str, float]:
        """JSON-able state for checkpoint metadata."""
        return {"lambda": self.dual.lam, "episode": self.dual.episode, "err_target": self.dual.target}

    @staticmethod
    def _need(info: dict[str, Any]) -> None:
        if not has_shift_info(info):
            missing = [k for k in SHIFT_KEYS if k not in info]
            raise V2PError(f"SLAConstraint: the env's info lacks {missing}; the SLA needs errors and attempts "
                           "counted by the env")

    def _tally_of(self, info: dict[str, Any]) -> ShiftTally:
        self._need(info)
        return ShiftTally(int(info["units"]), int(info["attempts"]), int(info["errors"]),
                          float(info["sim_time_s"]) / 3600.0)

    def _tally_err(self, info: dict[str, Any]) -> float:
        self._need(info)
        return error_rate(info["errors"], info["attempts"])
