"""The main job's summary: the seed's results table with Target and Status columns, read from the run's ledger.

Every money line is a sum of ledger postings (`v2p.economics.report.investor_figures`); the rates come from the
counts the ledger holds. Targets are derived from the economics config, not typed in: the MP target is the
break-even marginal product at the SLA (the MP at which a robot erring at exactly e* per attempt earns the human
wage: p·MP − c·e*·MP/(1 − e*) = w_h), parity ≥ 1, the error rate ≤ e*, revenue above the robot's own costs, and
the optimality target is 95% of the oracle's implied wage on the same shifts (the coarse fixed-action sweep's best
is a second line). The headline rates carry Student-t 95% intervals of their per-shift values over the deploy
shifts; the optimality ratio a paired bootstrap over the same shifts.
"""

from __future__ import annotations

from v2p.config import EconomicsConfig
from v2p.economics.labor import capital_cost_per_hour, errors_per_hour_at
from v2p.economics.report import InvestorFigures, format_report
from v2p.experiments.stats import t_interval

OPTIMALITY_TARGET = 0.95
HEADLINES = {"mp": "mp_r", "err_rate": "err_rate", "implied_wage": "w_hat_r"}  # summary key -> episodes.csv column


def _counts(rows: list[dict[str, str]], column: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[column]] = out.get(r[column], 0) + 1
    return dict(sorted(out.items()))


def summary_figures(figures: InvestorFigures, csv_rows: list[dict[str, str]], run: dict[str, object],
                    cfg: EconomicsConfig) -> dict[str, object]:
    """The investor figures of the deploy shifts plus the SLA verdict, the headline intervals, the two yardsticks,
    the measured and predicted data value and the run's phase times (`run`: the demo's RunState as a dict)."""
    out = figures.as_dict()
    first = int(out["first_episode"])
    deploy = [r for r in csv_rows if r["site"] == out["site"] and int(r["episode"]) >= first]
    out["sla_met"] = figures.err_rate <= cfg.sla.error_target
    out["sim_hours"] = figures.hours
    for key, column in HEADLINES.items():
        values = [float(r[column]) for r in deploy]
        out[f"{key}_ci"] = list(t_interval(values)) if len(values) >= 2 else None
    out["interval_shifts"] = len(deploy)
    out["interval_method"] = f"Student t 95% of the per-shift mean over {len(deploy)} deploy shifts"

    fixed = run.get("fixed_action") or {}
    out["fixed_action_implied_wage"] = fixed.get("implied_wage")
    out["fixed_action"] = fixed or None
    yard = run.get("yardstick") or {}
    out["oracle_implied_wage"] = yard.get("oracle_implied_wage")
    out["optimality_ratio"] = yard.get("optimality_ratio")
    out["optimality_ci"] = yard.get("optimality_ci")
    out["optimality_method"] = yard.get("optimality_method")
    out["oracle_table"] = yard.get("oracle_table")
    wage = fixed.get("implied_wage")
    out["fixed_action_ratio"] = figures.implied_wage / wage if wage else None

    a = run.get("attribution") or {}
    out["s_cust_measured"] = a.get("s_cust")
    out["s_cust_ci"] = a.get("s_cust_ci")
    out["s_cust_rule"] = a.get("s_cust_rule")
    out["ci_method"] = a.get("ci_method")
    out["delta_mpl_cust"] = a.get("delta_mpl_cust")
    out["delta_mpl_cust_ci"] = a.get("delta_mpl_cust_ci")
    out["delta_mpl_total"] = a.get("delta_mpl_total")
    out["pair_seeds"] = len(a.get("seeds", []))
    out["mp_spread"] = a.get("mp_spread")

    pred = run.get("predicted") or {}
    out["s_cust_predicted"] = pred.get("predicted")
    out["s_cust_predicted_interval"] = pred.get("interval95")
    out["estimator"] = {"source": pred.get("source"), "samples": pred.get("samples"),
                        "updated_samples": pred.get("updated_samples"), "why": pred.get("why")}
    customer = [r for r in csv_rows if r["site"] == out["site"] and int(r["episode"]) < first]
    out["customer_phase_rules"] = _counts(customer, "s_cust_rule")
    pricing = (run.get("pricing") or {}).get("customer") or {}
    out["customer_phase_prediction"] = {k: pricing.get(k) for k in ("source", "predicted", "interval95", "why")}

    enc = run.get("encoder") or {}
    out["encoder"] = enc.get("kind")
    out["encoder_metrics"] = enc.get("metrics")
    seconds = run.get("phase_seconds") or {}
    out["phase_seconds"] = dict(seconds)
    out["total_seconds"] = round(sum(seconds.values()), 1)
    out["warnings"] = list(run.get("warnings") or [])
    return out


def break_even_mp(cfg: EconomicsConfig) -> float:
    """MP at which ŵ_r = w_h for a robot erring at exactly e* per attempt (errors/h = e*·MP/(1 − e*))."""
    return cfg.human_wage / (cfg.unit_price - cfg.error_cost * errors_per_hour_at(1.0, cfg.sla.error_target))


def _ci(f: dict[str, object], key: str, fmt: str) -> str:
    ci = f.get(f"{key}_ci")
    return "" if not ci else f" [{format(ci[0], fmt)}, {format(ci[1], fmt)}]"


def format_summary(figures: InvestorFigures, summary: dict[str, object], cfg: EconomicsConfig,
                   share_note: str = "") -> str:
    """The results table, then the whole report of the books (`format_report`)."""
    f = summary
    ratio, oracle, margin = f["optimality_ratio"], f["oracle_implied_wage"], f["gross_margin"]
    fixed, fixed_ratio = f["fixed_action_implied_wage"], f["fixed_action_ratio"]
    cost_per_hour = cfg.energy_cost_per_hour + capital_cost_per_hour(cfg)

    def status(ok: bool) -> str:
        return "✅" if ok else "❌"

    opt_ci = f.get("optimality_ci")
    if opt_ci and any(c != c for c in opt_ci):  # nan: a run folder from before the bootstrap dropped them
        opt_ci = None
    rows = [
        ("MP", f"{f['mp']:.1f}/h" + _ci(f, "mp", ".1f"), f"≥ {break_even_mp(cfg):.1f}/h (break-even at SLA)",
         status(f["mp"] >= break_even_mp(cfg))),
        ("Error rate", f"{f['err_rate']:.1%}" + _ci(f, "err_rate", ".1%"), f"≤ {cfg.sla.error_target:.1%} (SLA)",
         status(bool(f["sla_met"]))),
        ("Implied wage", f"${f['implied_wage']:.2f}/h" + _ci(f, "implied_wage", ".2f"),
         f"≥ ${cfg.human_wage:.2f}/h (w_h)", status(f["implied_wage"] >= cfg.human_wage)),
        ("Wage parity", f"{f['wage_parity']:.2f}", "≥ 1.00", status(f["wage_parity"] >= 1.0)),
        ("Profit", f"${f['profit']:.2f}/h", f"≥ ${cfg.human_wage:.2f}/h (w_h)", status(f["profit"] >= cfg.human_wage)),
        ("Optimality", "n/a" if ratio is None else f"{ratio:.1%}" + ("" if not opt_ci else
                                                                     f" [{opt_ci[0]:.1%}, {opt_ci[1]:.1%}]"),
         f"≥ {OPTIMALITY_TARGET:.0%} of the oracle" + ("" if oracle is None else f" (${oracle:.2f}/h, same shifts)"),
         "–" if ratio is None else status(ratio >= OPTIMALITY_TARGET)),
        ("vs fixed action", "n/a" if fixed_ratio is None else f"{fixed_ratio:.1%}",
         "coarse sweep's best" + ("" if fixed is None else f" (${fixed:.2f}/h, other shifts)"), "–"),
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
    out.append(f"Intervals: {f.get('interval_method', 'none')}" + ("" if not f.get("optimality_method")
                                                                   else f"; optimality: {f['optimality_method']}"))
    out += ["", format_report(figures, share_note)]
    return "\n".join(out)
