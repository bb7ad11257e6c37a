"""`v2p sweep`: the (speed, care) feasibility frontier of a site, in parallel processes; with `--oracle`, the oracle
yardstick instead (the best SLA-feasible operating point per visible dish type, `v2p.experiments.oracle`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from v2p.cli_types import positive, positive_int
from v2p.commands._options import add_economics, add_json
from v2p.commands.sim import _hours


def _grid(text: str) -> int:
    value = positive_int(text)
    if not 2 <= value <= 41:
        raise argparse.ArgumentTypeError(f"must lie in [2, 41] points per axis, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sweep", help="sweep (speed, care) on a grid: MP, error rate, wage, best SLA point")
    p.add_argument("--site", default="default", help="site name (config/sites/NAME.yaml) or a site YAML path")
    p.add_argument("--grid", type=_grid, default=6, help="points per axis on [0, 1] (default 6)")
    p.add_argument("--episodes-per-point", type=positive_int, default=2, help="shifts per grid point (default 2)")
    p.add_argument("--workers", type=positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first shift at every point (default 0)")
    p.add_argument("--shift-hours", type=_hours, default=None, help="sim hours per shift (default: the site's)")
    add_economics(p)
    p.add_argument("--out", required=True, help="directory for frontier.npz, frontier.csv and frontier.png (with "
                   "--oracle: the cached oracle-SITE-KEY.json, reused when the site, economics and budget match)")
    p.add_argument("--oracle", action="store_true", help="find the oracle yardstick (per dish type, fine sweep, ≥100 "
                   "dishes per final point) instead of the fixed-action grid; --grid and --episodes-per-point do not "
                   "apply")
    p.add_argument("--eval-shifts", type=positive_int, default=8,
                   help="--oracle: shifts (seeds --seed ...) the oracle's table is judged on (default 8)")
    p.add_argument("--oracle-scale", type=positive, default=1.0,
                   help="--oracle: multiply its dish counts (a quick look below 1: the SLA is then judged on fewer "
                   "than 100 dishes per point)")
    add_json(p, "the result")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.errors import V2PError
    from v2p.experiments.frontier import plot_contours, save_csv, save_npz, sweep
    from v2p_sim import load_site

    cfg = load_economics_config(args.economics)
    site = load_site(args.site)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise V2PError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    if args.oracle:
        return run_oracle(args, site, cfg, out)
    result = sweep(site, args.grid, args.episodes_per_point, args.workers, seed=args.seed,
                   shift_hours=args.shift_hours, econ_config=cfg)
    target = cfg.sla.error_target
    files = {
        "npz": str(save_npz(result, out / "frontier.npz")),
        "csv": str(save_csv(result, out / "frontier.csv")),
        "png": str(plot_contours(result, out / "frontier.png", target, cfg.human_wage)),
    }
    best = result.best_feasible(target)
    summary = {
        "site": result.site,
        "grid": result.grid,
        "episodes_per_point": result.episodes_per_point,
        "error_target": target,
        "feasible_points": int(result.feasible(target).sum()),
        "best": best.as_dict() if best is not None else None,
        "files": files,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"site {result.site}: {result.grid}x{result.grid} grid, {result.episodes_per_point} shift(s) per point")
    print(f"  {summary['feasible_points']} of {result.grid ** 2} points meet the SLA (err <= {target:.0%})")
    if best is None:
        print("  no point meets the SLA")
    else:
        versus = "beats" if best.implied_wage > cfg.human_wage else "below"
        print(f"  best feasible: speed {best.speed:.2f}, care {best.care:.2f}: MP {best.mp:.1f}/h, "
              f"err {best.err_rate:.1%}, implied wage ${best.implied_wage:.2f}/h "
              f"({versus} the ${cfg.human_wage:.2f}/h human wage)")
    for kind, path in files.items():
        print(f"  wrote {path}")
    return 0


def oracle_lines(oracle, outcomes, cfg) -> list[str]:
    """The printed report of an oracle: its table, its figures on the pools and on the judged shifts."""
    from v2p.experiments.oracle import pooled_wage

    lines = [f"oracle at {oracle.site}: the best SLA-feasible (speed, care) per dish type "
             f"({len(oracle.points)} points swept, {oracle.dishes_per_point} dishes of a type per final point)"]
    for kind, (speed, care) in oracle.table.items():
        share = oracle.mix.get(kind, 0.0)
        lines.append(f"  {kind:<6} speed {speed:.2f}, care {care:.2f}   ({share:.0%} of the site's dishes)")
    lines.append(f"  on the pools: MP {oracle.predicted_mp:.1f}/h, err {oracle.predicted_err:.1%}, "
                 f"ŵ ${oracle.predicted_wage:.2f}/h")
    units, errors, hours = (sum(o.units for o in outcomes), sum(o.errors for o in outcomes),
                            sum(o.hours for o in outcomes))
    lines.append(f"  on {len(outcomes)} shifts: MP {units / hours:.1f}/h, err {errors / max(units + errors, 1):.1%}, "
                 f"ŵ ${pooled_wage(outcomes, cfg):.2f}/h")
    return lines


def run_oracle(args: argparse.Namespace, site, cfg, out: Path) -> int:
    from v2p.experiments.executor import LocalExecutor
    from v2p.experiments.oracle import OracleBudget, cached_oracle, evaluate_shifts, pooled_wage

    executor = LocalExecutor(args.workers)
    log = (lambda line: None) if args.json else print
    oracle = cached_oracle(site, cfg, out, OracleBudget().scaled(args.oracle_scale), executor, log)
    seeds = list(range(args.seed, args.seed + args.eval_shifts))
    outcomes = evaluate_shifts(site, oracle.act, seeds, args.shift_hours, executor)
    if args.json:
        print(json.dumps(oracle.as_dict() | {"eval_seeds": seeds, "eval_implied_wage": pooled_wage(outcomes, cfg),
                                             "eval_shifts": [o.__dict__ for o in outcomes]}))
    else:
        print("\n".join(oracle_lines(oracle, outcomes, cfg)))
    return 0
