"""`v2p honesty`: does the measured s_cust credit data that teaches, and only that?"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from v2p.cli_types import int_at_least
from v2p.commands._options import add_economics, add_json
from v2p.experiments.honesty import HonestyBudget

DEFAULT = HonestyBudget()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "honesty", help="check that attribution credits a different dish mix and not more of the platform's own data")
    p.add_argument("--seeds", type=int_at_least(2), default=DEFAULT.seeds,
                   help=f"seeds of each pair (default {DEFAULT.seeds}; at least 2)")
    p.add_argument("--steps", type=int_at_least(1), default=DEFAULT.steps,
                   help=f"SAC updates for the platform's policy, and again for each fine-tuning of it "
                        f"(default {DEFAULT.steps})")
    p.add_argument("--platform-shifts", type=int_at_least(1), default=DEFAULT.platform_shifts,
                   help=f"shifts in the platform's data set (default {DEFAULT.platform_shifts})")
    p.add_argument("--customer-shifts", type=int_at_least(1), default=DEFAULT.customer_shifts,
                   help=f"shifts in each customer data set (default {DEFAULT.customer_shifts})")
    p.add_argument("--eval-episodes", type=int_at_least(1), default=DEFAULT.eval_episodes,
                   help=f"evaluation shifts per policy and seed (default {DEFAULT.eval_episodes})")
    p.add_argument("--workers", type=int_at_least(1), default=2, help="worker processes (default 2)")
    p.add_argument("--out", default=None, help="folder for the data sets and the trained pairs (default: temporary)")
    add_economics(p)
    add_json(p, "the check")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.experiments.attribution import report_lines
    from v2p.experiments.honesty import CUSTOMER_SITE, PLATFORM_SITE, check_attribution_honesty

    cfg = load_economics_config(args.economics)
    budget = HonestyBudget(args.platform_shifts, args.customer_shifts, args.seeds, args.steps, args.eval_episodes)
    with tempfile.TemporaryDirectory() as tmp:
        check = check_attribution_honesty(args.out or tmp, cfg, budget, workers=args.workers,
                                          log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(check.as_dict()))
        return 0 if check.passed else 1
    print(f"Platform data: {budget.platform_shifts} shifts at {PLATFORM_SITE}; customer data: {budget.customer_shifts} "
          f"shifts at {CUSTOMER_SITE} (a different dish mix) or at {PLATFORM_SITE} (the platform's own site); "
          f"{budget.seeds} seeds, {budget.steps} SAC updates per fit")
    for title, result, expected, ok in (
        (f"Different mix: evaluated at {CUSTOMER_SITE}", check.different_mix, "CI above 0", check.different_mix_detected),
        (f"Same site: evaluated at {PLATFORM_SITE}", check.same_site, "CI contains 0", check.same_site_null),
    ):
        print(f"\n{title}")
        print("\n".join(report_lines(result)))
        print(f"expected: ΔMPL_cust's {expected}: {'PASS' if ok else 'FAIL'}")
    print(f"\nAttribution honesty: {'PASS' if check.passed else 'FAIL'}")
    return 0 if check.passed else 1
