"""The main job's summary: the seed's results table with Target and Status columns, from measured episodes.

Targets are derived from the economics config, not typed in: the MP target is the break-even marginal product at
the SLA (the MP at which a robot erring at exactly e* earns the human wage, w_h / (p − c·e*)), parity ≥ 1, the
error rate ≤ e*, and the optimality target is 95% of the best SLA-feasible implied wage the sweep found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from v2p.config import EconomicsConfig
from v2p.economics.report import EconomicReport, economic_report, format_report

OPTIMALITY_TARGET = 0.95


@dataclass(frozen=True)
class OperatingPoint:
    """Hours-weighted figures over a set of episodes."""

    episodes: int
    hours: float
    units: int
    attempts: int
    errors: int

    @property
    def mp(self) -> float:
        return self.units / self.hours

    @property
    def err_rate(self) -> float:
        return self.errors / self.attempts if self.attempts else 0.0


def operating_point(rows: Iterable[dict[str, str]]) -> OperatingPoint:
    """Aggregate episode CSV rows (units, attempts, errors, hours summed, never averaged per episode)."""
    rows = list(rows)
    if not rows:
        raise ValueError("no episodes to summarise")
    return OperatingPoint(len(rows), sum(float(r["hours"]) for r in rows), sum(int(r["units"]) for r in rows),
                          sum(int(r["attempts"]) for r in rows), sum(int(r["errors"]) for r in rows))


def summary_figures(
    point: OperatingPoint, s_cust: float, best_feasible_wage: float | None, cfg: EconomicsConfig
) -> tuple[EconomicReport, dict[str, object]]:
    report = economic_report(point.mp, point.err_rate, point.hours, s_cust, cfg)
    figures: dict[str, object] = dict(report.as_dict())
    figures["sla_met"] = point.err_rate <= cfg.sla.error_target
    figures["best_feasible_implied_wage"] = best_feasible_wage
    figures["optimality_ratio"] = (report.implied_wage / best_feasible_wage
                                   if best_feasible_wage and best_feasible_wage > 0 else None)
    figures["episodes"] = point.episodes
    figures["sim_hours"] = point.hours
    return report, figures


def break_even_mp(cfg: EconomicsConfig) -> float:
    return cfg.human_wage / (cfg.unit_price - cfg.error_cost * cfg.sla.error_target)


def format_summary(report: EconomicReport, figures: dict[str, object], cfg: EconomicsConfig) -> str:
    u, a, c = report.unit, report.allocation, report.customer
    ratio = figures["optimality_ratio"]
    best = figures["best_feasible_implied_wage"]

    def status(ok: bool) -> str:
        return "✅" if ok else "❌"

    margin = u.gross_margin
    rows = [
        ("MP", f"{report.mp:.1f}/h", f"≥ {break_even_mp(cfg):.1f}/h (break-even at SLA)",
         status(report.mp >= break_even_mp(cfg))),
        ("Error rate", f"{report.err_rate:.1%}", f"≤ {cfg.sla.error_target:.1%} (SLA)",
         status(bool(figures["sla_met"]))),
        ("Wage parity", f"{report.wage_parity:.2f}", "≥ 1.00", status(report.wage_parity >= 1.0)),
        ("Profit", f"${report.profit:.2f}/h", f"≥ ${cfg.human_wage:.2f}/h (w_h)", status(report.profit >= cfg.human_wage)),
        ("Optimality", "n/a" if ratio is None else f"{ratio:.1%}",
         f"≥ {OPTIMALITY_TARGET:.0%} of best feasible" + ("" if best is None else f" (${best:.2f}/h)"),
         "–" if ratio is None else status(ratio >= OPTIMALITY_TARGET)),
        ("Platform capture", f"${u.captured_per_hour:.2f}/h", "> $0", status(u.captured_per_hour > 0)),
        ("Customer savings", f"{c.savings:.1%}", "> 0% when s_cust > 0", status(c.savings > 0 or a.s_cust == 0)),
        ("Gross margin", "n/a" if margin is None else f"{margin:.1%}", "> 0%", status(margin is not None and margin > 0)),
    ]
    width = [max(len(r[i]) for r in rows + [("Metric", "Value", "Target", "Status")]) for i in range(4)]
    line = "| " + " | ".join(f"{{:<{w}}}" for w in width) + " |"
    out = [line.format("Metric", "Value", "Target", "Status"), "|" + "|".join("-" * (w + 2) for w in width) + "|"]
    out += [line.format(*r) for r in rows]
    out += ["", format_report(report, f"measured, {figures.get('s_cust_source', 'given')}")]
    return "\n".join(out)
