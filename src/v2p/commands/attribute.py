"""`v2p attribute`: measured data valuation, the counterfactual pair behind s_cust."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from v2p.cli_types import int_at_least
from v2p.commands._options import add_economics, add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("attribute", help="measure the customer's share s_cust by a counterfactual pair")
    p.add_argument("--platform-bags", nargs="+", required=True, help="recording folder(s) of the platform's data")
    p.add_argument("--customer-bags", nargs="+", required=True, help="recording folder(s) of the customer's data")
    p.add_argument("--site", required=True, help="the customer's site, where both policies are evaluated")
    p.add_argument("--seeds", type=int_at_least(2), default=3, help="seeds of the pair (default 3; at least 2)")
    p.add_argument("--steps", type=int_at_least(1), default=1500,
                   help="SAC updates for the platform's policy, and again for each fine-tuning of it")
    p.add_argument("--eval-episodes", type=int_at_least(1), default=2, help="evaluation shifts per policy and seed")
    p.add_argument("--out", default=None, help="folder for the trained pair (default: a temporary folder)")
    add_economics(p)
    add_json(p, "the measurement")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.errors import V2PError
    from v2p.experiments.attribution import measure_attribution, report_lines
    from v2p_sim import load_site

    cfg = load_economics_config(args.economics)
    load_site(args.site)  # a bad site name fails here, before any training
    for folder in [*args.platform_bags, *args.customer_bags]:
        if not Path(folder).is_dir():
            raise V2PError(f"{folder}: not a folder of bags")
    with tempfile.TemporaryDirectory() as tmp:
        result = measure_attribution(args.site, args.platform_bags, args.customer_bags, list(range(args.seeds)),
                                     args.steps, args.eval_episodes, args.out or tmp, cfg)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(f"Site {result.site}: {len(result.seeds)} seeds; per seed the platform's policy ({args.steps} SAC updates) "
          f"fine-tuned by {args.steps} more with and without the customer's data")
    print("\n".join(report_lines(result)))
    return 0

