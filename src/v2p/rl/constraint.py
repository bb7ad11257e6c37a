"""The quality SLA as a training constraint: λ by dual ascent on the episode error rate, e* by curriculum, and
the going rate ρ of the robot's time (see `v2p.economics.reward`), handed to the env before every episode.

The env prices its reward with them and reports the reward's parts (`v2p.task.env.TaskEnv` does); a SAC with
`reward_parts` stores the parts and prices every sampled batch with the newest weights, so transitions recorded
under an older λ or ρ are charged today's.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from v2p.config import EconomicsConfig, load_economics_config
from v2p.economics.labor import error_rate, implied_wage
from v2p.economics.reward import going_rate
from v2p.economics.sla import DualAscent
from v2p.errors import V2PError
from v2p.rl.callbacks import Callback
from v2p.rl.episode_log import SHIFT_KEYS, has_shift_info

RATE_WINDOW = 10  # shifts whose pooled wage sets the going rate


class SLAConstraint(Callback):
    def __init__(self, econ_cfg: EconomicsConfig | None = None, lam: float = 0.0):
        self.cfg = econ_cfg if econ_cfg is not None else load_economics_config()
        self.dual = DualAscent(self.cfg.sla, lam=lam)
        self.history: list[dict[str, float]] = []  # per episode: lambda_dual, err_target, err_rate, going_rate
        self.recent: deque[tuple[int, int, float]] = deque(maxlen=RATE_WINDOW)  # (units, errors, hours)
        self._env: Any = None

    @property
    def lam(self) -> float:
        return self.dual.lam

    @property
    def target(self) -> float:
        return self.dual.target

    @property
    def rate(self) -> float:
        """ρ: the pooled wage of the last RATE_WINDOW shifts, floored at w_h."""
        hours = sum(h for _, _, h in self.recent)
        if hours <= 0:
            return going_rate(None, self.cfg)
        units, errors = sum(u for u, _, _ in self.recent), sum(e for _, e, _ in self.recent)
        return going_rate(implied_wage(units / hours, errors_per_hour=errors / hours, cfg=self.cfg), self.cfg)

    def on_training_start(self, model: Any) -> None:
        env = model.env.unwrapped if model.env is not None else None
        if not hasattr(env, "set_lagrange_multiplier"):
            raise V2PError(f"SLAConstraint: the env {type(env).__name__} does not price the SLA (it has no "
                           "set_lagrange_multiplier); use a v2p.task.env.TaskEnv")
        self._env = env
        self._push()

    def _push(self) -> None:
        self._env.set_lagrange_multiplier(self.dual.lam)
        if hasattr(self._env, "set_sla_target"):
            self._env.set_sla_target(self.dual.target)
        if hasattr(self._env, "set_going_rate"):
            self._env.set_going_rate(self.rate)

    def on_episode_end(self, model: Any, record: dict[str, Any], info: dict[str, Any]) -> bool:
        if not has_shift_info(info):
            missing = [k for k in SHIFT_KEYS if k not in info]
            raise V2PError(f"SLAConstraint: the env's info lacks {missing}; the SLA needs errors and attempts "
                           "counted by the env")
        err = error_rate(info["errors"], info["attempts"])
        used = {"lambda_dual": self.dual.lam, "err_target": self.dual.target, "going_rate": self.rate}
        self.dual.update(err)
        self.recent.append((int(info["units"]), int(info["errors"]), float(info["sim_time_s"]) / 3600.0))
        self.history.append({**used, "err_rate": err})
        record.update(used)
        record["lambda_next"] = self.dual.lam
        self._push()
        return True

    def state(self) -> dict[str, float]:
        """JSON-able state for checkpoint metadata."""
        return {"lambda": self.dual.lam, "episode": self.dual.episode, "err_target": self.dual.target,
                "going_rate": self.rate}
