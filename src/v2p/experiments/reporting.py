"""Reports of a run folder: the printed summary and the figures (used by `v2p demo`, `summary`, `plot`)."""

from __future__ import annotations

from pathlib import Path

from v2p.config import EconomicsConfig
from v2p.errors import V2PError


def format_run_summary(run_dir: Path, cfg: EconomicsConfig) -> str:
    from v2p.economics.accounts import LEDGER_NAME
    from v2p.economics.ledger import open_existing_ledger
    from v2p.economics.report import investor_figures
    from v2p.experiments.demo import CUSTOMER_SITE, FIRST_EPISODE, RunState, summarize_run
    from v2p.experiments.summary import format_summary

    figures = summarize_run(run_dir, cfg)
    state = RunState.load(run_dir)
    with open_existing_ledger(run_dir / LEDGER_NAME) as ledger:
        books = investor_figures(ledger, cfg, CUSTOMER_SITE, FIRST_EPISODE["deploy"])
    a = state.attribution or {}
    best = state.best_feasible.get(CUSTOMER_SITE, {})
    lines = [f"V2P demo: the platform's policy deployed at '{CUSTOMER_SITE}' "
             f"({figures['episodes']} shifts, {figures['sim_hours']:.2f} simulated h)", ""]
    lines.append(format_summary(books, figures, cfg, f"the share on offer: {a.get('s_cust', float('nan')):.1%} "
                                f"measured by the counterfactual pair over {len(a.get('seeds', []))} seeds"))
    ci = a.get("s_cust_ci")
    ci_text = "n/a (no total gain to share)" if ci is None else f"[{ci[0]:.1%}, {ci[1]:.1%}]"
    lines += ["", "Data valuation (counterfactual, measured at the customer's site)",
              f"  ΔMPL_cust  {a.get('delta_mpl_cust', float('nan')):8.1f} units/h   (with − without the customer's data)",
              f"  ΔMPL_total {a.get('delta_mpl_total', float('nan')):8.1f} units/h   (with − untrained)",
              f"  s_cust     {a.get('s_cust', float('nan')):8.1%}  95% CI {ci_text}",
              f"  priced by  {', '.join(f'{r} ×{n}' for r, n in sorted(books.sums.rules.items()))} (deploy shifts): "
              f"an interval wider than {cfg.contract.max_share_interval:.2f} never sets a rebate",
              f"  estimator  {figures['estimator']['status']}; novelty of the customer's data "
              f"{a.get('novelty', float('nan')):.3f}",
              "", f"Best SLA-feasible fixed action at '{CUSTOMER_SITE}' (sweep): speed {best.get('speed', 0):.2f}, "
              f"care {best.get('care', 0):.2f}, MP {best.get('mp', 0):.1f}/h, err {best.get('err_rate', 0):.1%}, "
              f"ŵ ${best.get('implied_wage', 0):.2f}/h"]
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
