"""The main job's summary: the seed's results table with Target and Status columns, read from the run's ledger.

Every money line is a sum of ledger postings (`v2p.economics.report.investor_figures`); the rates come from the
counts the ledger holds. Targets are derived from the economics config, not typed in: the MP target is the
break-even marginal product at the SLA (the MP at which a robot erring at exactly e* per attempt earns the human
wage: p·MP − c·e*·MP/(1 − e*) = w_h), parity ≥ 1, the error rate ≤ e*, revenue above the robot's own costs, and
the optimality target is 95% of the best SLA-feasible implied wage the sweep found.
"""

from __future__ import annotations

from v2p.config import EconomicsConfig
from v2p.economics.labor import capital_cost_per_hour, errors_per_hour_at
from v2p.economics.report import InvestorFigures, format_report

OPTIMALITY_TARGET = 0.95


def summary_figures(figures: InvestorFigures, best_feasible_wage: float | None,
                    cfg: EconomicsConfig) -> dict[str, object]:
    """The investor figures plus the SLA verdict and the optimality against the sweep's best feasible wage."""
    out = figures.as_dict()
    out["sla_met"] = figures.err_rate <= cfg.sla.error_target
    out["best_feasible_implied_wage"] = best_feasible_wage
    out["optimality_ratio"] = (figures.implied_wage / best_feasible_wage
                               if best_feasible_wage and best_feasible_wage > 0 else None)
    out["sim_hours"] = figures.hours
    return out


def break_even_mp(cfg: EconomicsConfig) -> float:
    """MP at which ŵ_r = w_h for a robot erring at exactly e* per attempt (errors/h = e*·MP/(1 − e*))."""
    return cfg.human_wage / (cfg.unit_price - cfg.error_cost * errors_per_hour_at(1.0, cfg.sla.error_target))


def format_summary(figures: InvestorFigures, summary: dict[str, object], cfg: EconomicsConfig,
                   share_note: str = "") -> str:
    """The results table, then the whole report of the books (`format_report`)."""
    f = summary
    ratio, best, margin = f["optimality_ratio"], f["best_feasible_implied_wage"], f["gross_margin"]
    cost_per_hour = cfg.energy_cost_per_hour + capital_cost_per_hour(cfg)

    def status(ok: bool) -> str:
        return "✅" if ok else "❌"

    rows = [
        ("MP", f"{f['mp']:.1f}/h", f"≥ {break_even_mp(cfg):.1f}/h (break-even at SLA)",
         status(f["mp"] >= break_even_mp(cfg))),
        ("Error rate", f"{f['err_rate']:.1%}", f"≤ {cfg.sla.error_target:.1%} (SLA)", status(bool(f["sla_met"]))),
        ("Wage parity", f"{f['wage_parity']:.2f}", "≥ 1.00", status(f["wage_parity"] >= 1.0)),
        ("Profit", f"${f['profit']:.2f}/h", f"≥ ${cfg.human_wage:.2f}/h (w_h)", status(f["profit"] >= cfg.human_wage)),
        ("Optimality", "n/a" if ratio is None else f"{ratio:.1%}",
         f"≥ {OPTIMALITY_TARGET:.0%} of best feasible" + ("" if best is None else f" (${best:.2f}/h)"),
         "–" if ratio is None else status(ratio >= OPTIMALITY_TARGET)),
        ("Platform revenue", f"${f['platform_revenue_per_robot_hour']:.2f}/h",
         f"> ${cost_per_hour:.2f}/h (energy + K/H)", status(f["platform_revenue_per_robot_hour"] > cost_per_hour)),
        ("Captured spread", f"${f['captured_spread'] / f['hours']:.2f}/h", "> $0",
         status(f["captured_spread"] > 0)),
        ("Gross margin", "n/a" if margin is None else f"{margin:.1%}", "> 0%",
         status(margin is not None and margin > 0)),
        ("Customer gain", f"${f['customer_gain_per_hour']:.2f}/h", "> $0 when s_cust > 0",
         status(f["customer_gain"] > 0 or f["s_cust"] == 0)),
    ]
    width = [max(len(r[i]) for r in rows + [("Metric", "Value", "Target", "Status")]) for i in range(4)]
    line = "| " + " | ".join(f"{{:<{w}}}" for w in width) + " |"
    out = [line.format("Metric", "Value", "Target", "Status"), "|" + "|".join("-" * (w + 2) for w in width) + "|"]
    out += [line.format(*r) for r in rows]
    out += ["", format_report(figures, share_note)]
    return "\n".join(out)
