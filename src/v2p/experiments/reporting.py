"""Reports of a run folder: the printed summary and the figures (used by `v2p demo`, `summary`, `plot`)."""

from __future__ import annotations

from pathlib import Path

from v2p.config import EconomicsConfig
from v2p.errors import V2PError


def format_run_summary(run_dir: Path, cfg: EconomicsConfig) -> str:
    from v2p.economics.accounts import LEDGER_NAME
    from v2p.economics.ledger import open_existing_ledger
    from v2p.economics.report import investor_figures
    from v2p.experiments.demo import CUSTOMER_SITE, FIRST_EPISODE, summarize_run
    from v2p.experiments.summary import format_summary

    f = summarize_run(run_dir, cfg)
    with open_existing_ledger(run_dir / LEDGER_NAME) as ledger:
        books = investor_figures(ledger, cfg, CUSTOMER_SITE, FIRST_EPISODE["deploy"])
    nan = float("nan")

    def pct(x: object) -> str:
        return "n/a" if x is None else f"{x:.1%}"

    def interval(ci: object) -> str:
        return "n/a (unbounded)" if not ci else f"[{ci[0]:.1%}, {ci[1]:.1%}]"

    lines = [f"V2P demo: the platform's policy deployed at '{CUSTOMER_SITE}' "
             f"({f['episodes']} shifts, {f['sim_hours']:.2f} simulated h; encoder: {f['encoder']})", ""]
    lines.append(format_summary(books, f, cfg, f"the share on offer: {pct(f['s_cust_measured'])} measured by the "
                                f"counterfactual pair over {f['pair_seeds']} seeds"))
    pred, est = f.get("s_cust_predicted"), f.get("estimator") or {}
    at_pricing = f.get("customer_phase_prediction") or {}
    rules = ", ".join(f"{r} ×{n}" for r, n in (f.get("customer_phase_rules") or {}).items())
    lines += ["", "Data valuation at the customer's site",
              f"  ΔMPL_cust  {f.get('delta_mpl_cust') or nan:8.1f} units/h   (with − without the customer's data)",
              f"  ΔMPL_total {f.get('delta_mpl_total') or nan:8.1f} units/h   (with − the safe-action reference)",
              f"  s_cust measured  {pct(f['s_cust_measured'])}  95% CI {interval(f['s_cust_ci'])} "
              f"({f.get('ci_method')}); priced by rule: {f.get('s_cust_rule')}",
              f"  s_cust predicted {pct(pred)}  95% interval {interval(f.get('s_cust_predicted_interval'))} "
              + (f"(estimator, {est.get('samples')} measured customers; run-local copy updated to "
                 f"{est.get('updated_samples')})" if pred is not None else f"({est.get('why')})"),
              f"  customer shifts priced by: {rules or 'n/a'} "
              + ("" if at_pricing.get("predicted") is None else
                 f"(the estimator's prediction then: {pct(at_pricing['predicted'])}, 95% "
                 f"{interval(at_pricing.get('interval95'))})"),
              f"  deploy shifts priced by: {', '.join(f'{r} ×{n}' for r, n in sorted(books.sums.rules.items()))}: "
              f"an interval wider than {cfg.contract.max_share_interval:.2f} never sets a rebate"]
    fixed = f.get("fixed_action") or {}
    table = f.get("oracle_table") or {}
    lines += ["", "Yardsticks at '" + CUSTOMER_SITE + "'",
              "  oracle (best SLA-feasible speed, care per dish type, on the deploy shifts): "
              + ", ".join(f"{k} ({v[0]:.2f}, {v[1]:.2f})" for k, v in table.items())
              + ("" if f.get("oracle_implied_wage") is None else f": ŵ ${f['oracle_implied_wage']:.2f}/h"),
              f"  best fixed action (coarse sweep, other shifts): speed {fixed.get('speed', 0):.2f}, care "
              f"{fixed.get('care', 0):.2f}, MP {fixed.get('mp', 0):.1f}/h, err {fixed.get('err_rate', 0):.1%}, "
              f"ŵ ${fixed.get('implied_wage', 0):.2f}/h"]
    seconds = f.get("phase_seconds") or {}
    lines += ["", "Wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
              + f"; total {f.get('total_seconds', 0):.0f} s"]
    return "\n".join(lines)


def write_plots(run_dir: Path, cfg: EconomicsConfig) -> list[Path]:
    from v2p.experiments.demo import CUSTOMER_SITE
    from v2p.experiments.frontier import load_npz, plot_contours
    from v2p.experiments.plots import mean_action, plot_learning_curves, plot_spread_allocation

    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    paths = [plot_learning_curves(run_dir, cfg, out / "learning_curves.png"),
             plot_spread_allocation(run_dir, out / "spread_allocation.png")]
    npz = run_dir / f"frontier_{CUSTOMER_SITE}.npz"
    if not npz.exists():
        raise V2PError(f"{npz}: missing; the demo's frontier phase did not finish")
    deploy_bags = run_dir / "bags" / "deploy"
    point = mean_action(deploy_bags) if deploy_bags.exists() else None
    paths.append(plot_contours(load_npz(npz), out / "frontier.png", cfg.sla.error_target, cfg.human_wage,
                               operating_point=point))
    return paths
