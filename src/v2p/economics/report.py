"""The investor report: every figure of one operating point, computed by the economics core."""

from __future__ import annotations

from dataclasses import dataclass

from v2p.config import EconomicsConfig
from v2p.economics.labor import implied_wage, profit_per_hour, wage_parity
from v2p.economics.spread import (
    CustomerEconomics,
    SpreadAllocation,
    UnitEconomics,
    customer_economics,
    spread_allocation,
    unit_economics,
)


@dataclass(frozen=True)
class EconomicReport:
    mp: float
    err_rate: float
    implied_wage: float
    wage_parity: float
    profit: float
    allocation: SpreadAllocation
    customer: CustomerEconomics
    unit: UnitEconomics
    cfg: EconomicsConfig

    def as_dict(self) -> dict[str, float | None]:
        """The figures under the keys `v2p econ --json` promises."""
        a, c, u = self.allocation, self.customer, self.unit
        return {
            "mp": self.mp,
            "err_rate": self.err_rate,
            "implied_wage": self.implied_wage,
            "wage_parity": self.wage_parity,
            "profit": self.profit,
            "spread": a.spread_per_hour,
            "spread_value": a.spread_value,
            "s_cust": a.s_cust,
            "s_plat": a.s_plat,
            "rebate": a.rebate,
            "captured_spread": a.captured_spread,
            "customer_net_cost_per_hour": c.net_cost_per_hour,
            "customer_savings": c.savings,
            "platform_revenue_per_robot_year": u.revenue_per_robot_year,
            "gross_margin": u.gross_margin,
            "fleet_revenue": u.fleet_revenue,
            "fleet_gross_profit": u.fleet_gross_profit,
        }


def economic_report(mp: float, err: float, hours: float, s_cust: float, cfg: EconomicsConfig) -> EconomicReport:
    wage = implied_wage(mp, err, cfg)
    allocation = spread_allocation(wage, hours, s_cust, cfg)
    return EconomicReport(
        mp=mp,
        err_rate=err,
        implied_wage=wage,
        wage_parity=wage_parity(wage, cfg),
        profit=profit_per_hour(wage, cfg),
        allocation=allocation,
        customer=customer_economics(allocation, cfg),
        unit=unit_economics(allocation, cfg),
        cfg=cfg,
    )


def _money(x: float) -> str:
    return f"${x:,.2f}"


def format_report(report: EconomicReport, s_cust_source: str = "given") -> str:
    """Plain-text report in the seed's layout: performance, economics, spread, platform, customer, fleet."""
    r, a, c, u, cfg = report, report.allocation, report.customer, report.unit, report.cfg
    n = cfg.platform.fleet_size
    margin = "n/a (no platform revenue)" if u.gross_margin is None else f"{u.gross_margin:.1%}"
    lines = [
        "Performance",
        f"  Marginal product (MP)     {r.mp:10.1f} units/h",
        f"  Error rate                {r.err_rate:10.1%}   (SLA e* = {cfg.sla.error_target:.1%}:"
        f" {'met' if r.err_rate <= cfg.sla.error_target else 'VIOLATED'})",
        "Economics",
        f"  Implied wage ŵ_r          {_money(r.implied_wage):>10}/h",
        f"  Human wage w_h            {_money(cfg.human_wage):>10}/h",
        f"  Wage parity ŵ_r/w_h       {r.wage_parity:10.3f}",
        f"  Profit (ŵ_r − energy)     {_money(r.profit):>10}/h",
        f"Spread allocation ({a.hours:g} h)",
        f"  Spread ŵ_r − w_h          {_money(a.spread_per_hour):>10}/h",
        f"  Spread value              {_money(a.spread_value):>10}",
        f"  Customer share s_cust     {a.s_cust:10.1%}   ({s_cust_source})",
        f"  Platform share s_plat     {a.s_plat:10.1%}",
        f"  Rebate to customer        {_money(a.rebate):>10}",
        f"  Captured by platform      {_money(a.captured_spread):>10}",
        "Platform revenue",
        f"  Captured per robot-hour   {_money(u.captured_per_hour):>10}/h",
        f"  Revenue per robot-year    {_money(u.revenue_per_robot_year):>10}"
        f"   ({cfg.platform.robot_hours_per_year:g} h/yr)",
        f"  Cost per robot-year       {_money(cfg.platform.cost_per_robot_year):>10}",
        f"  Gross margin              {margin:>10}",
        "Customer economics",
        f"  Billed (labor parity)     {_money(cfg.human_wage):>10}/h",
        f"  Net cost after rebate     {_money(c.net_cost_per_hour):>10}/h",
        f"  Savings vs human wage     {c.savings:10.1%}",
        f"Unit economics ({n:,} robots)",
        f"  Platform revenue          {_money(u.fleet_revenue):>14}/yr",
        f"  Platform costs            {_money(u.fleet_cost):>14}/yr",
        f"  Gross profit              {_money(u.fleet_gross_profit):>14}/yr",
    ]
    return "\n".join(lines)
