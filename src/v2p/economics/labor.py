"""Labor economics of one robot: marginal product, error rate, implied wage, parity, profit (DESIGN.md)."""

from __future__ import annotations

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


def implied_wage(mp: float, err: float, cfg: EconomicsConfig) -> float:
    """ŵ_r = p·MP − c·err·MP ($/h): what the robot's hour of work is worth at the going unit price."""
    return cfg.unit_price * mp - cfg.error_cost * err * mp


def wage_parity(implied: float, cfg: EconomicsConfig) -> float:
    """ŵ_r / w_h: above 1 the robot out-earns the human benchmark."""
    return implied / cfg.human_wage


def profit_per_hour(implied: float, cfg: EconomicsConfig) -> float:
    """Profit ($/h) = ŵ_r − energy cost."""
    return implied - cfg.energy_cost_per_hour


def spread_per_hour(implied: float, cfg: EconomicsConfig) -> float:
    """spread = ŵ_r − w_h ($/h): the surplus over paying a human for the same hour."""
    return implied - cfg.human_wage
