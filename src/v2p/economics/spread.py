"""Spread allocation between customer and platform, and what it means for each side (DESIGN.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from v2p.config import EconomicsConfig
from v2p.economics.labor import spread_per_hour
from v2p.economics.money import cents_to_dollars, split_cents, to_cents


def attribution_shares(delta_mpl_customer: float, delta_mpl_total: float) -> tuple[float, float]:
    """(s_cust, s_plat): s_cust = ΔMPL_cust / ΔMPL_total clipped to [0, 1]; s_plat = 1 − s_cust.

    With no total gain (ΔMPL_total ≤ 0) there is nothing the customer's data caused, so s_cust = 0.
    """
    if not (math.isfinite(delta_mpl_customer) and math.isfinite(delta_mpl_total)):
        raise ValueError("ΔMPL values must be finite")
    if delta_mpl_total <= 0:
        return 0.0, 1.0
    s_cust = min(max(delta_mpl_customer / delta_mpl_total, 0.0), 1.0)
    return s_cust, 1.0 - s_cust


@dataclass(frozen=True)
class SpreadAllocation:
    """One episode's spread and its split, money in integer cents (sums reconcile exactly)."""

    hours: float
    spread_per_hour: float
    s_cust: float
    spread_value_cents: int
    rebate_cents: int
    captured_spread_cents: int

    @property
    def s_plat(self) -> float:
        return 1.0 - self.s_cust

    @property
    def spread_value(self) -> float:
        return cents_to_dollars(self.spread_value_cents)

    @property
    def rebate(self) -> float:
        return cents_to_dollars(self.rebate_cents)

    @property
    def captured_spread(self) -> float:
        return cents_to_dollars(self.captured_spread_cents)


def spread_allocation(implied: float, hours: float, s_cust: float, cfg: EconomicsConfig) -> SpreadAllocation:
    """spread_value = (ŵ_r − w_h)·hours; rebate = s_cust·max(spread_value, 0); captured = the rest, to the cent."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    if not 0.0 <= s_cust <= 1.0:
        raise ValueError(f"s_cust must lie in [0, 1], got {s_cust}")
    spread = spread_per_hour(implied, cfg)
    value_cents = to_cents(spread * hours)
    rebate_cents, captured_cents = split_cents(max(value_cents, 0), s_cust)
    return SpreadAllocation(hours, spread, s_cust, value_cents, rebate_cents, captured_cents)


@dataclass(frozen=True)
class CustomerEconomics:
    net_cost_per_hour: float  # billed w_h per robot-hour, less the rebate per hour
    savings: float  # fraction of the human wage saved


def customer_economics(allocation: SpreadAllocation, cfg: EconomicsConfig) -> CustomerEconomics:
    rebate_per_hour = allocation.rebate / allocation.hours
    return CustomerEconomics(cfg.human_wage - rebate_per_hour, rebate_per_hour / cfg.human_wage)


@dataclass(frozen=True)
class UnitEconomics:
    captured_per_hour: float
    revenue_per_robot_year: float
    gross_margin: float | None  # (revenue − K) / revenue; None when there is no revenue to take a margin of
    fleet_revenue: float
    fleet_cost: float
    fleet_gross_profit: float


def unit_economics(allocation: SpreadAllocation, cfg: EconomicsConfig) -> UnitEconomics:
    """Platform revenue per robot-year = captured/h · H; gross margin; fleet totals × N."""
    plat = cfg.platform
    captured_per_hour = allocation.captured_spread / allocation.hours
    revenue = captured_per_hour * plat.robot_hours_per_year
    margin = (revenue - plat.cost_per_robot_year) / revenue if revenue > 0 else None
    fleet_revenue = revenue * plat.fleet_size
    fleet_cost = plat.cost_per_robot_year * plat.fleet_size
    return UnitEconomics(captured_per_hour, revenue, margin, fleet_revenue, fleet_cost, fleet_revenue - fleet_cost)
