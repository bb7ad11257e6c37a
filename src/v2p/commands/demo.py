"""`v2p demo`: the main job (see v2p.experiments.demo), then its summary, plots and the books check."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from v2p.cli_types import positive
from v2p.commands._options import add_economics, add_json

# the progress bar's share of each phase (start, width in %), about its wall time with a warm cache
WEIGHTS = {"encoder": (0, 3), "frontier": (3, 7), "platform": (10, 34), "customer": (44, 22), "learn": (66, 4),
           "attribute": (70, 15), "deploy": (85, 11), "oracle": (96, 2), "yardstick": (98, 2)}
SHIFT_PHASES = ("platform", "customer", "deploy")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="learn a wage-parity policy from video through the ROS 2 graph and price it")
    p.add_argument("--run", default=None, help="run folder (default runs/demo-<date-time>); an existing one resumes")
    p.add_argument("--scale", type=positive, default=1.0,
                   help="multiply every episode and step budget (default 1: ends within ~10 min on 2 cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--encoder", choices=("video", "mlp"), default="video",
                   help="video: camera → streaming encoder → policy on latent + /robot/state (default); mlp: a "
                        "frozen MLP over /sim/state (privileged simulator state, for comparison)")
    p.add_argument("--cache", type=Path, default=None,
                   help="folder of the encoders, oracles and sweeps runs share (default runs/cache)")
    add_economics(p)
    add_json(p, "the summary figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from v2p.config import REPO_ROOT, load_economics_config
    from v2p.experiments.demo import DemoBudget, run_demo
    from v2p.experiments.demo_phases import DEFAULT_CACHE
    from v2p.experiments.reporting import format_run_summary, write_plots

    cfg = load_economics_config(args.economics)
    run_dir = Path(args.run) if args.run else REPO_ROOT / "runs" / time.strftime("demo-%Y%m%d-%H%M%S")
    budget = DemoBudget().scaled(args.scale)
    bar = tqdm(total=100, desc="encoder", unit="%", file=sys.stderr, bar_format="{desc:<34} {bar} {elapsed}")

    def progress(phase: str, done: int, total: int) -> None:
        start, width = WEIGHTS[phase]
        bar.set_description(f"{phase} {done}/{total}" + (" episodes" if phase in SHIFT_PHASES else ""))
        bar.n = start + width * min(done, total) / max(total, 1)
        bar.refresh()

    try:
        figures = run_demo(run_dir, budget, cfg, args.seed, progress, args.encoder, args.cache or DEFAULT_CACHE)
    finally:
        bar.close()
    write_plots(run_dir, cfg)
    if args.json:
        print(json.dumps(figures))
    else:
        print(format_run_summary(run_dir, cfg))
        print(f"\nRun folder: {run_dir} (bags, checkpoints, episodes.csv, ledger.sqlite, plots/)")
        print("Books: " + ("balanced (every transaction sums to zero, the accounts balance, episodes.csv and the "
                           "summary equal the ledger to the cent)" if figures["books_balanced"]
                           else "NOT balanced: " + "; ".join(figures["books_problems"])))
    return 0 if figures["books_balanced"] else 1
