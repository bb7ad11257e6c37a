"""`v2p summary`, `v2p plot`, `v2p elasticity`: reports of a demo run folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from v2p.commands._options import add_economics, add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, help_text, func in (
        ("summary", "the run's summary table and economics", run_summary),
        ("plot", "write the run's figures into RUN/plots", run_plot),
        ("elasticity", "how parity, spread and platform revenue respond to price, error cost and wage",
         run_elasticity),
    ):
        p = subparsers.add_parser(name, help=help_text)
        p.add_argument("--run", required=True, help="run folder written by `v2p demo`")
        add_economics(p)
        add_json(p)
        p.set_defaults(func=func)


def _run_dir(args: argparse.Namespace) -> Path:
    from v2p.errors import V2PError

    path = Path(args.run)
    if not (path / "state.json").is_file():
        raise V2PError(f"{path}: not a demo run folder (no state.json)")
    return path


def run_summary(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.experiments.demo import summarize_run
    from v2p.experiments.reporting import format_run_summary

    cfg, run_dir = load_economics_config(args.economics), _run_dir(args)
    print(json.dumps(summarize_run(run_dir, cfg)) if args.json else format_run_summary(run_dir, cfg))
    return 0


def run_plot(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.experiments.reporting import write_plots

    paths = write_plots(_run_dir(args), load_economics_config(args.economics))
    print(json.dumps({"plots": [str(p) for p in paths]}) if args.json else "\n".join(map(str, paths)))
    return 0


def run_elasticity(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.experiments.demo import summarize_run
    from v2p.experiments.elasticity import elasticity_analysis, format_elasticity_table, plot_elasticity

    cfg, run_dir = load_economics_config(args.economics), _run_dir(args)
    figures = summarize_run(run_dir, cfg)
    result = elasticity_analysis(figures["mp"], figures["err_rate"], figures["s_cust"], cfg)
    (run_dir / "plots").mkdir(exist_ok=True)
    plot_elasticity(result, str(run_dir / "plots" / "elasticity.png"))
    if args.json:
        print(json.dumps({"elasticities": result.elasticities, "scales": result.scales.tolist(),
                          "curves": {p: {o: v.tolist() for o, v in c.items()} for p, c in result.curves.items()}}))
    else:
        print(f"At the deployed operating point: MP {figures['mp']:.1f}/h, err {figures['err_rate']:.1%}, "
              f"s_cust {figures['s_cust']:.1%}")
        print(format_elasticity_table(result))
        print(f"curves: {run_dir / 'plots' / 'elasticity.png'}")
    return 0
