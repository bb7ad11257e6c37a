"""`v2p attribute`: measured data valuation, the counterfactual pair behind s_cust."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from v2p.commands._options import add_economics, add_json
from v2p.commands._pair import add_pair_options, pair_budget, pair_executor


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("attribute", help="measure the customer's share s_cust by a counterfactual pair")
    p.add_argument("--platform-bags", nargs="+", required=True, help="recording folder(s) of the platform's data")
    p.add_argument("--customer-bags", nargs="+", required=True, help="recording folder(s) of the customer's data")
    p.add_argument("--site", required=True, help="the customer's site, where both policies are evaluated")
    add_pair_options(p)
    p.add_argument("--out", default=None, help="folder for the trained pair (default: a temporary folder)")
    add_economics(p)
    add_json(p, "the measurement")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.errors import V2PError
    from v2p.experiments.attribution import measure_attribution, report_lines
    from v2p.task.dishwashing import POLICY_INPUTS
    from v2p_sim import load_site

    cfg = load_economics_config(args.economics)
    load_site(args.site)  # a bad site name fails here, before any training
    for folder in [*args.platform_bags, *args.customer_bags]:
        if not Path(folder).is_dir():
            raise V2PError(f"{folder}: not a folder of bags")
    budget = pair_budget(args)
    executor = pair_executor(args)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure_attribution(args.site, args.platform_bags, args.customer_bags, args.out or tmp, cfg, budget,
                                     executor, POLICY_INPUTS[args.policy_input],
                                     log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(f"Site {result.site}: {budget.seeds} seeds on {executor.name}; per seed the platform's policy "
          f"({budget.platform_updates} SAC updates on {args.policy_input}) fine-tuned by {budget.finetune_updates} "
          f"more with and without the customer's data, evaluated on {budget.eval_shifts} shifts against the safe "
          f"action")
    print("\n".join(report_lines(result)))
    return 0
