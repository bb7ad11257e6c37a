"""`v2p sweep`: the (speed, care) feasibility frontier of a site, in parallel processes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from v2p.cli_types import positive_int
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
    p.add_argument("--out", required=True, help="directory for frontier.npz, frontier.csv and frontier.png")
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
