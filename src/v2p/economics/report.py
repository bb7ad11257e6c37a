"""The investor figures, each a sum of ledger postings (or a rate of such a sum), and their printed report.

`investor_figures` reads a ledger's sums; `economic_report` books one operating point into an in-memory ledger
and reads it back the same way, so `v2p econ`, `v2p summary` and the demo print figures of one set of books.
Rates that are not cash flows (MP, err, ŵ_r, parity, profit, spread per hour) come from the counts the ledger
holds, through the labor formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

from v2p.config import EconomicsConfig
from v2p.economics.contract import ACCOUNTS, BILL_KINDS, POSTING_KINDS, episode_books
from v2p.economics.labor import (
    error_rate,
    errors_per_hour_at,
    implied_wage,
    profit_per_hour,
    spread_per_hour,
    wage_parity,
)
from v2p.economics.ledger import BookSums, Ledger, LedgerError
from v2p.economics.money import cents_to_dollars
from v2p.economics.pricing import ShareEvidence, price_share

# figures in $ that are sums of postings (or the robot-hour/robot-year/fleet rates of such sums): `books_balanced`
# holds a summary to the ledger on these, to the cent
MONEY_KEYS = ("billed", "rebate", "platform_revenue", "captured_spread", "energy_cost", "capital_cost", "gross_profit",
              "work_value", "labor_parity", "spread_value", "customer_gain", "platform_revenue_per_robot_hour",
              "cost_per_robot_hour", "gross_profit_per_robot_hour", "platform_revenue_per_robot_year",
              "cost_per_robot_year", "gross_profit_per_robot_year", "fleet_revenue", "fleet_cost",
              "fleet_gross_profit", "customer_net_cost_per_hour", "human_cost_per_hour", "customer_gain_per_hour")


@dataclass(frozen=True)
class InvestorFigures:
    """The investor table of a selection of booked episodes (`BookSums`), per robot-hour, robot-year and fleet."""

    sums: BookSums
    cfg: EconomicsConfig

    def dollars(self, kind: str) -> float:
        return cents_to_dollars(self.sums.cents(kind))

    # -- rates from the booked counts ---------------------------------------------------------------------------
    @property
    def hours(self) -> float:
        return self.sums.hours

    @property
    def mp(self) -> float:
        return self.sums.units / self.hours

    @property
    def err_rate(self) -> float:
        return error_rate(self.sums.errors, self.sums.units + self.sums.errors)

    @property
    def errors_per_hour(self) -> float:
        return self.sums.errors / self.hours

    @property
    def implied_wage(self) -> float:
        return implied_wage(self.mp, errors_per_hour=self.errors_per_hour, cfg=self.cfg)

    @property
    def s_cust(self) -> float:
        """The hours-weighted share the episodes were priced with."""
        return self.sums.share_hours / self.hours

    # -- sums of postings -----------------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, object]:
        s, cfg, h = self.sums, self.cfg, self.hours
        per_year, fleet = cfg.platform.robot_hours_per_year, cfg.platform.fleet_size
        usd = cents_to_dollars
        billed = sum(s.cents(k) for k in BILL_KINDS)
        rebate = s.cents("rebate")
        revenue = billed - rebate  # what the customer pays, net: the platform's revenue (cents)
        costs = s.cents("energy") + s.cents("capital")
        gross = revenue - costs  # = the platform account's balance
        value, parity = s.value_cents, s.parity_cents
        wage = self.implied_wage
        return {
            "site": s.site, "first_episode": s.first_episode, "episodes": s.episodes, "hours": h,
            "contract": "+".join(s.contracts), "s_cust_rules": dict(s.rules), "price_floored_episodes": s.floored,
            "mp": self.mp, "err_rate": self.err_rate, "errors_per_hour": self.errors_per_hour,
            "implied_wage": wage, "wage_parity": wage_parity(wage, cfg), "profit": profit_per_hour(wage, cfg),
            "spread": spread_per_hour(wage, cfg), "s_cust": self.s_cust, "s_plat": 1.0 - self.s_cust,
            "billed": usd(billed), "rebate": usd(rebate), "platform_revenue": usd(revenue),
            "captured_spread": usd(s.cents("spread") - rebate), "energy_cost": usd(s.cents("energy")),
            "capital_cost": usd(s.cents("capital")), "gross_profit": usd(gross),
            "work_value": usd(value), "labor_parity": usd(parity), "spread_value": usd(value - parity),
            "customer_gain": usd(value - revenue),
            "platform_revenue_per_robot_hour": usd(revenue) / h, "cost_per_robot_hour": usd(costs) / h,
            "gross_profit_per_robot_hour": usd(gross) / h,
            "platform_revenue_per_robot_year": usd(revenue) / h * per_year,
            "cost_per_robot_year": usd(costs) / h * per_year, "gross_profit_per_robot_year": usd(gross) / h * per_year,
            "gross_margin": gross / revenue if revenue > 0 else None,
            "fleet_revenue": usd(revenue) / h * per_year * fleet, "fleet_cost": usd(costs) / h * per_year * fleet,
            "fleet_gross_profit": usd(gross) / h * per_year * fleet,
            "customer_net_cost_per_hour": usd(revenue) / h, "human_cost_per_hour": usd(parity) / h,
            "customer_gain_per_hour": usd(value - revenue) / h,
            "balances": {a: cents_to_dollars(s.balances[a]) for a in ACCOUNTS},
            "postings": {k: self.dollars(k) for k in POSTING_KINDS if s.cents(k)},
            "robot_hours_per_year": per_year, "fleet_size": fleet,
        }


def investor_figures(ledger: Ledger, cfg: EconomicsConfig, site: str | None = None,
                     first_episode: int | None = None) -> InvestorFigures:
    """The investor figures of the episodes of `site` from `first_episode` on, read from the ledger."""
    sums = ledger.sums(site, first_episode)
    if sums.episodes == 0:
        where = "" if site is None else f" at {site}"
        where += "" if first_episode is None else f" from episode {first_episode}"
        raise LedgerError(f"{ledger.path}: no booked episodes{where} to report")
    return InvestorFigures(sums, cfg)


def economic_report(mp: float, err: float, hours: float, evidence: ShareEvidence | None,
                    cfg: EconomicsConfig) -> InvestorFigures:
    """The books of one operating point (MP, errors per attempt) worked for `hours`: its expected counts priced under
    the configured contract, booked into an in-memory ledger and read back."""
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    books = episode_books(mp * hours, errors_per_hour_at(mp, err) * hours, hours,
                          price_share(evidence, cfg.contract), cfg)
    with Ledger(":memory:") as ledger:
        ledger.append("operating_point", 0, books)
        return investor_figures(ledger, cfg)


def _money(x: float) -> str:
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def format_report(figures: InvestorFigures, share_note: str = "") -> str:
    """Plain text: performance, the labor figures, the contract and share rule, the books (who paid whom), the
    accounts' balances, the platform's and the customer's economics, the fleet."""
    f, cfg, s = figures.as_dict(), figures.cfg, figures.sums
    h, per_year, n = figures.hours, cfg.platform.robot_hours_per_year, cfg.platform.fleet_size
    target = cfg.sla.error_target
    rules = ", ".join(f"{rule} ×{count}" for rule, count in sorted(s.rules.items()))
    margin = "n/a (no revenue)" if f["gross_margin"] is None else f"{f['gross_margin']:.1%}"

    def row(label: str, total: float) -> str:
        return f"  {label:<38}{_money(total):>16}{_money(total / h):>12}/h{_money(total / h * per_year):>16}/yr"

    lines = [
        "Performance",
        f"  Marginal product (MP)         {f['mp']:10.1f} units/h",
        f"  Error rate (per attempt)      {f['err_rate']:10.1%}   (SLA e* = {target:.1%}:"
        f" {'met' if f['err_rate'] <= target else 'VIOLATED'})",
        f"  Errors per hour               {f['errors_per_hour']:10.2f} /h     (err·MP/(1 − err))",
        "Labor figures",
        f"  Implied wage ŵ_r              {_money(f['implied_wage']):>10}/h   (p·MP − c·errors/h)",
        f"  Human wage w_h                {_money(cfg.human_wage):>10}/h",
        f"  Wage parity ŵ_r/w_h           {f['wage_parity']:10.3f}",
        f"  Profit ŵ_r − energy − K/H     {_money(f['profit']):>10}/h",
        f"  Spread S = ŵ_r − w_h          {_money(f['spread']):>10}/h",
        f"Contract {f['contract']}: s_cust {f['s_cust']:.1%} (priced by: {rules})" + (f"; {share_note}" if share_note
                                                                                         else ""),
    ]
    if s.floored:
        lines.append(f"  price floored at $0 in {s.floored} of {s.episodes} episodes (the work's value was negative)")
    head = f"Books: {s.episodes} episode(s), {h:g} robot-hours"
    lines.append(f"{head:<40}{'total':>16}{'per hour':>14}{'per year':>19}")
    for kind, (payer, payee) in POSTING_KINDS.items():
        if s.cents(kind):
            lines.append(row(f"{kind:<8} {payer} → {payee}", figures.dollars(kind)))
    lines.append("Balances (received − paid)")
    lines += [f"  {a:<38}{_money(f['balances'][a]):>16}" for a in ACCOUNTS]
    lines += [
        f"  {'sum over the accounts':<38}{_money(sum(f['balances'].values())):>16}",
        "Platform",
        row("Revenue (what the customer pays)", f["platform_revenue"]),
        row("  of which captured spread", f["captured_spread"]),
        row("Costs (energy + robot-year cost K)", f["energy_cost"] + f["capital_cost"]),
        row("Gross profit", f["gross_profit"]),
        f"  Gross margin                  {margin:>10}",
        "Customer",
        row("Net cost", f["platform_revenue"]),
        row("A human at w_h for the same hours", f["labor_parity"]),
        row("Value of the robot's work (ŵ_r·h)", f["work_value"]),
        row("Gain over a human (value − net cost)", f["customer_gain"]),
        f"Fleet ({n:,} robots, per year)",
        f"  Revenue                       {_money(f['fleet_revenue']):>18}/yr",
        f"  Costs                         {_money(f['fleet_cost']):>18}/yr",
        f"  Gross profit                  {_money(f['fleet_gross_profit']):>18}/yr",
    ]
    return "\n".join(lines)
