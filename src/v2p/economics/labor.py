"""Labor economics of one robot: marginal product, error rate, implied wage, parity, profit (DESIGN.md).

Errors are priced per error: the error rate is per attempt (errors / attempts), so the errors an hour costs are
errors / hours = err·MP/(1 − err), never err·MP. `implied_wage` is the one formula of the wage; every caller hands
it the errors per hour it counted (or, for an operating point given as a rate, `errors_per_hour_at`).
"""

from __future__ import annotations

import math

from v2p.config import EconomicsConfig


def marginal_product(units_completed: int | float, hours: float) -> float:
    """MP: clean units completed per hour of (simulated) work."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    if units_completed < 0:
        raise ValueError(f"units_completed must not be negative, got {units_completed}")
    return float(units_completed) / hours


def error_rate(errors: int | float, attempts: int | float) -> float:
    """err = errors / attempts; 0 when nothing was attempted."""
    if errors < 0 or attempts < 0 or errors > attempts:
        raise ValueError(f"need 0 <= errors <= attempts, got errors={errors} attempts={attempts}")
    return float(errors) / attempts if attempts else 0.0


def errors_per_hour(errors: int | float, hours: float) -> float:
    """Errors counted over `hours` of work, per hour."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    if errors < 0:
        raise ValueError(f"errors must not be negative, got {errors}")
    return float(errors) / hours


def errors_per_hour_at(mp: float, err: float) -> float:
    """Errors per hour of an operating point given as (MP, errors per attempt): err·MP/(1 − err).

    Each clean unit takes 1/(1 − err) attempts, so err·MP/(1 − err) attempts an hour fail. At err = 1 there is no
    clean unit to count from: the rate alone cannot say how many errors an hour makes.
    """
    if not (math.isfinite(mp) and mp >= 0):
        raise ValueError(f"MP must be a finite number >= 0, got {mp}")
    if not 0.0 <= err < 1.0:
        raise ValueError(f"the error rate must lie in [0, 1) to give errors per hour, got {err} (at 1 every attempt "
                         "fails and MP is 0: count the errors per hour instead)")
    return err * mp / (1.0 - err)


def implied_wage(mp: float, *, errors_per_hour: float, cfg: EconomicsConfig) -> float:
    """ŵ_r = p·MP − c·(errors per hour) ($/h): what the robot's hour of work is worth at the going unit price."""
    return cfg.unit_price * mp - cfg.error_cost * errors_per_hour


def wage_parity(implied: float, cfg: EconomicsConfig) -> float:
    """ŵ_r / w_h: above 1 the robot out-earns the human benchmark."""
    return implied / cfg.human_wage


def capital_cost_per_hour(cfg: EconomicsConfig) -> float:
    """K/H ($/h): the robot-year cost (hardware, compute, support) spread over its operating hours."""
    return cfg.platform.cost_per_robot_year / cfg.platform.robot_hours_per_year


def profit_per_hour(implied: float, cfg: EconomicsConfig) -> float:
    """Profit ($/h) = ŵ_r − energy cost − K/H."""
    return implied - cfg.energy_cost_per_hour - capital_cost_per_hour(cfg)


def spread_per_hour(implied: float, cfg: EconomicsConfig) -> float:
    """spread = ŵ_r − w_h ($/h): the surplus over paying a human for the same hour."""
    return implied - cfg.human_wage
