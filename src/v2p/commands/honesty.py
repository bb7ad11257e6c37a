"""`v2p honesty`: does the measured s_cust credit data that teaches, and only that?"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from v2p.cli_types import int_at_least


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "honesty", help="check that attribution credits a different dish mix and not more of the platform's own data")
    p.add_argument("--seeds", type=int_at_least(2), default=4, help="seeds of each pair (default 4; at least 2)")
    p.add_argument("--steps", type=int_at_least(1), default=2500,
                   help="SAC updates for the platform's policy, and again for each fine-tuning of it (default 2500)")
    p.add_argument("--platform-shifts", type=int_at_least(1), default=48,
                   help="shifts in the platform's data set (default 48)")
    p.add_argument("--customer-shifts", type=int_at_least(1), default=24,
                   help="shifts in each customer data set (default 24)")
    p.add_argument("--eval-episodes", type=int_at_least(1), default=2, help="evaluation shifts per policy and seed")
    p.add_argument("--workers", type=int_at_least(1), default=2, help="worker processes (default 2)")
    p.add_argument("--out", default=None, help="folder for the data sets and the trained pairs (default: temporary)")
    p.add_argument("--config", default=None, help="economics YAML (default config/economics.yaml)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.commands.attribute import seed_table
    from v2p.config import load_economics_config
    from v2p.experiments.honesty import CUSTOMER_SITE, PLATFORM_SITE, HonestyBudget, check_attribution_honesty

    cfg = load_economics_config(args.config)
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
        low, high = result.delta_mpl_cust_ci
        share = ("no total gain" if result.s_cust_ci is None else
                 f"{result.s_cust:.1%} (95% CI {result.s_cust_ci[0]:.1%} .. {result.s_cust_ci[1]:.1%})")
        print(f"\n{title}")
        print("\n".join(seed_table(result)))
        print(f"ΔMPL_cust {result.delta_mpl_cust:.1f} units/h (95% CI {low:.1f} .. {high:.1f}), "
              f"ΔMPL_total {result.delta_mpl_total:.1f}; s_cust {share}")
        print(f"expected: ΔMPL_cust's {expected}: {'PASS' if ok else 'FAIL'}")
    print(f"\nAttribution honesty: {'PASS' if check.passed else 'FAIL'}")
    return 0 if check.passed else 1
