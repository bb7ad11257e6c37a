"""The economics model of DESIGN.md: labor figures, the quality SLA, spread allocation, data value."""

from v2p.economics.data_value import Calibration, DataValueEstimator
from v2p.economics.labor import (
    error_rate,
    implied_wage,
    marginal_product,
    profit_per_hour,
    spread_per_hour,
    wage_parity,
)
from v2p.economics.report import EconomicReport, economic_report, format_report
from v2p.economics.sla import DualAscent, ShiftTally, lagrangian_reward, shift_reward_increment, sla_target
from v2p.economics.spread import (
    CustomerEconomics,
    SpreadAllocation,
    UnitEconomics,
    attribution_shares,
    customer_economics,
    spread_allocation,
    unit_economics,
)

__all__ = [
    "Calibration", "CustomerEconomics", "DataValueEstimator", "DualAscent", "EconomicReport", "ShiftTally",
    "SpreadAllocation", "UnitEconomics", "attribution_shares", "customer_economics", "economic_report",
    "error_rate", "format_report", "implied_wage", "lagrangian_reward", "marginal_product", "profit_per_hour",
    "shift_reward_increment", "sla_target", "spread_allocation", "spread_per_hour", "unit_economics", "wage_parity",
]
