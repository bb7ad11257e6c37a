"""The economics model of DESIGN.md: labor figures, the quality SLA, the contracts and their double-entry books,
the share pricing rule, spread allocation, data value."""

from v2p.economics.contract import ACCOUNTS, EpisodeBooks, Posting, episode_books
from v2p.economics.data_value import DataValueEstimator, HeldoutReport, Prediction, heldout_report
from v2p.economics.labor import (
    capital_cost_per_hour,
    error_rate,
    errors_per_hour,
    errors_per_hour_at,
    implied_wage,
    marginal_product,
    profit_per_hour,
    spread_per_hour,
    wage_parity,
)
from v2p.economics.pricing import PRICING_RULES, PricedShare, ShareEvidence, price_share
from v2p.economics.report import InvestorFigures, economic_report, format_report, investor_figures
from v2p.economics.sla import DualAscent, ShiftTally, lagrangian_reward, sla_target
from v2p.economics.spread import SpreadAllocation, attribution_shares, spread_allocation

__all__ = [
    "ACCOUNTS", "PRICING_RULES", "DataValueEstimator", "HeldoutReport", "Prediction", "heldout_report", "DualAscent", "EpisodeBooks",
    "InvestorFigures", "Posting", "PricedShare", "ShareEvidence", "ShiftTally", "SpreadAllocation",
    "attribution_shares", "capital_cost_per_hour", "economic_report", "episode_books", "error_rate",
    "errors_per_hour", "errors_per_hour_at", "format_report", "implied_wage", "investor_figures",
    "lagrangian_reward", "marginal_product", "price_share", "profit_per_hour", 
    "sla_target", "spread_allocation", "spread_per_hour", "wage_parity",
]
