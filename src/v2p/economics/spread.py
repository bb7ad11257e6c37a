"""Attribution shares and the spread's split between customer and platform, in integer cents (DESIGN.md)."""

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
    """One episode's value, labor parity, spread and the spread's split, in integer cents.

    value = ŵ_r·h and parity = w_h·h are each rounded once; spread_value = value − parity exactly, so the bill
    (labor parity + spread) adds up to the value to the cent, and rebate + captured = max(spread_value, 0).
    """

    hours: float
    spread_per_hour: float
    s_cust: float
    value_cents: int
    parity_cents: int
    rebate_cents: int
    captured_spread_cents: int

    @property
    def spread_value_cents(self) -> int:
        return self.value_cents - self.parity_cents

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
    """spread_value = ŵ_r·h − w_h·h; rebate = s_cust·max(spread_value, 0); captured = the rest, to the cent."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    if not 0.0 <= s_cust <= 1.0:
        raise ValueError(f"s_cust must lie in [0, 1], got {s_cust}")
    value_cents, parity_cents = to_cents(implied * hours), to_cents(cfg.human_wage * hours)
    rebate_cents, captured_cents = split_cents(max(value_cents - parity_cents, 0), s_cust)
    return SpreadAllocation(hours, spread_per_hour(implied, cfg), s_cust, value_cents, parity_cents, rebate_cents,
                            captured_cents)
