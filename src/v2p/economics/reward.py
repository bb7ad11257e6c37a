"""The learner's reward, stored in parts and priced with the current going rate ρ and SLA multiplier λ.

One step is one work cycle (a dish). Its reward, in $ per shift-hour, is

    r = [value − ρ·hours − λ·hours·(errors − e*)] / shift_hours,    value = p·units − c·errors

so a shift's rewards sum to ŵ_r − ρ − λ·(err − e*) (err weighted by time): the shift's implied wage under the SLA's
Lagrangian, measured against the going rate of the robot's time. The costs per hour (energy, K/H) are the same
whatever the robot does with its hour, so they are left out: they would only shift ρ. Charging each cycle the time it takes at ρ makes
every cycle's reward complete on its own (Dinkelbach's method for a ratio objective: maximising
E[value − ρ·hours] per cycle with ρ the best attainable wage maximises value per hour), so the learner needs no
bootstrapping across the shift (the dishwashing preset uses γ = 0). ρ is the wage the robot earns lately, never
below the human wage w_h (the robot's time is worth at least what the customer would pay a worker); λ and e* come
from the SLA's dual ascent.

Transitions store the three parts (value, time, error·time), each over shift_hours, and never a combined reward:
the weights (1, −(ρ − λ·e*), −λ) are applied when a batch is sampled, so data recorded under another λ or ρ is
priced like new data (`v2p.rl.replay.ReplayBuffer` with reward parts).
"""

from __future__ import annotations

from collections.abc import Sequence

from v2p.config import EconomicsConfig

REWARD_PARTS = ("value", "time", "error_time")


def reward_parts(units: int, errors: int, hours: float, shift_hours: float, cfg: EconomicsConfig
                 ) -> tuple[float, float, float]:
    """The parts of one step's reward: (value, hours, hours·errors), each over the shift's planned hours."""
    if shift_hours <= 0:
        raise ValueError(f"shift_hours must be positive, got {shift_hours}")
    value = cfg.unit_price * units - cfg.error_cost * errors
    return value / shift_hours, hours / shift_hours, hours * errors / shift_hours


def reward_weights(going_rate: float, lam: float, error_target: float) -> tuple[float, float, float]:
    """The weights that turn REWARD_PARTS into the reward: r = parts · weights."""
    return 1.0, -(going_rate - lam * error_target), -lam


def going_rate(recent_wage: float | None, cfg: EconomicsConfig) -> float:
    """ρ: the implied wage of the recent shifts (e.g. `EconomicsMonitor.rolling()`'s), floored at w_h; w_h
    before any shift has ended."""
    return cfg.human_wage if recent_wage is None else max(cfg.human_wage, float(recent_wage))


def combine(parts: Sequence[float], weights: Sequence[float]) -> float:
    """r = parts · weights."""
    return float(sum(p * w for p, w in zip(parts, weights, strict=True)))
