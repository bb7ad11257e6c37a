"""`v2p honesty`: does the measured s_cust credit data that teaches, and only that?"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from v2p.cli_types import int_at_least
from v2p.commands._options import add_economics, add_json
from v2p.commands._pair import add_pair_options, pair_budget, pair_executor
from v2p.experiments.honesty import SCENARIOS, HonestyBudget

DEFAULT = HonestyBudget()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "honesty", help="check that attribution credits a different dish mix and not more of the platform's own data")
    p.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=list(SCENARIOS),
                   help="pairs of sites to check: " + "; ".join(f"{k}: platform {p}, customer {c}"
                                                                for k, (p, c) in SCENARIOS.items())
                        + " (default: all)")
    p.add_argument("--platform-shifts", type=int_at_least(1), default=DEFAULT.platform_shifts,
                   help=f"shifts in the platform's data set (default {DEFAULT.platform_shifts})")
    p.add_argument("--customer-shifts", type=int_at_least(1), default=DEFAULT.customer_shifts,
                   help=f"shifts in each customer data set (default {DEFAULT.customer_shifts})")
    add_pair_options(p)
    p.add_argument("--out", default=None, help="folder for the data sets and the trained pairs (default: temporary)")
    add_economics(p)
    add_json(p, "the check")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.experiments.attribution import report_lines
    from v2p.experiments.honesty import check_attribution_honesty
    from v2p.task.dishwashing import POLICY_INPUTS

    cfg = load_economics_config(args.economics)
    budget = HonestyBudget(args.platform_shifts, args.customer_shifts, pair_budget(args))
    executor = pair_executor(args)
    with tempfile.TemporaryDirectory() as tmp:
        check = check_attribution_honesty(args.out or tmp, cfg, budget, tuple(args.scenarios), executor,
                                          POLICY_INPUTS[args.policy_input],
                                          log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(check.as_dict()))
        return 0 if check.passed else 1
    p = budget.pair
    print(f"Platform data: {budget.platform_shifts} shifts; customer data: {budget.customer_shifts} shifts at the "
          f"customer's site (a different dish mix) or at the platform's own site; {p.seeds} seeds, "
          f"{p.platform_updates} + {p.finetune_updates} SAC updates per arm, {p.eval_shifts} evaluation shifts per "
          f"seed, on {executor.name}")
    for name, s in check.scenarios.items():
        limit = s.same_site.priced.max_interval
        for title, result, expected, ok in (
            (f"[{name}] different mix: {s.customer_site}'s data, evaluated there", s.different_mix,
             "ΔMPL_cust's interval above 0", s.different_mix_detected),
            (f"[{name}] same site: more of {s.platform_site}'s data, evaluated there", s.same_site,
             f"ΔMPL_cust's interval contains 0 and s_cust's is at most {limit:.0%} wide",
             s.same_site_null and s.same_site_precise),
        ):
            print(f"\n{title}")
            print("\n".join(report_lines(result)))
            print(f"expected: {expected}: {'PASS' if ok else 'FAIL'}")
    print(f"\nAttribution honesty: {'PASS' if check.passed else 'FAIL'}")
    return 0 if check.passed else 1
