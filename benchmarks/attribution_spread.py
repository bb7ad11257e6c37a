"""How steady is the counterfactual pair's learner? The seed-to-seed spread of MP, learner against learner.

Records demo-like data once (`v2p.experiments.pair_data`: the platform's shifts at `default`, the customer's at
`customer_bistro`, 40% uniform exploration then a noisy fixed operating point), then runs the pair
(`v2p.experiments.pair.measure_pair`) for each learner at the same budget (the same updates per fit, the same
seeds, data and evaluation shifts) and prints per learner: the standard deviation between seeds of each arm's MP,
of ΔMPL_cust, the s_cust interval and its width, and the wall time.

Learners: `old` (γ 0.99, the minimum of 2 critics, target entropy −|A|: the setting before the Dinkelbach
preset), `preset` (DISHWASHING.sac: γ 0, the mean of 5 critics), both on (256, 256) networks, and `pair` (the
pair's learner, `PAIR_SAC`: the preset on (64, 64) networks).

  .venv/bin/python benchmarks/attribution_spread.py --learners old,preset,pair
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from v2p.config import load_economics_config
from v2p.experiments.attribution import summarize
from v2p.commands._pair import add_pair_options, pair_budget, pair_executor
from v2p.experiments.pair import PAIR_SAC, measure_pair
from v2p.task.dishwashing import POLICY_INPUTS
from v2p.experiments.pair_data import DataSet, record_many
from v2p.task.dishwashing import DISHWASHING

LEARNERS = {
    "old": replace(DISHWASHING.sac, gamma=0.99, critics=2, critic_aggregate="min", target_entropy=None, threads=1),
    "preset": replace(DISHWASHING.sac, threads=1),
    "pair": PAIR_SAC,
    "pair_lr3e-4": replace(PAIR_SAC, learning_rate=3e-4),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="/tmp/v2p-attribution-data", help="folder of the recorded data (reused)")
    p.add_argument("--work", default="/tmp/v2p-attribution-work", help="folder of the fits")
    p.add_argument("--learners", default="old,preset,pair", help=f"comma-separated, of {', '.join(LEARNERS)}")
    p.add_argument("--platform-site", default="default")
    p.add_argument("--site", default="customer_bistro", help="the customer's site")
    p.add_argument("--platform-shifts", type=int, default=26)
    p.add_argument("--customer-shifts", type=int, default=16)
    add_pair_options(p)  # --seeds, the updates, --eval-shifts, --policy-input, --workers, --ray: as v2p attribute
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    econ = load_economics_config(None)
    executor = pair_executor(args)
    data = Path(args.data)
    platform = DataSet(str(data / f"platform_{args.platform_site}_{args.platform_shifts}"), args.platform_site,
                       args.platform_shifts, 0)
    customer = DataSet(str(data / f"customer_{args.site}_{args.customer_shifts}"), args.site, args.customer_shifts,
                       1000)
    todo = [d for d in (platform, customer) if not Path(d.folder).exists()]
    if todo:
        t = time.time()
        record_many(todo, executor)
        print(f"recorded {', '.join(d.folder for d in todo)} in {time.time() - t:.0f} s", file=sys.stderr)
    budget = pair_budget(args)
    rows = []
    for name in args.learners.split(","):
        t, load = time.time(), os.getloadavg()[0]
        seeds, _ = measure_pair({"customer": (args.site, [customer.folder])}, [platform.folder],
                                Path(args.work) / name, econ, budget, executor, POLICY_INPUTS[args.policy_input], sac=LEARNERS[name],
                                log=lambda line: print(line, file=sys.stderr, flush=True))
        a = summarize(args.site, seeds["customer"], econ)
        ci = a.s_cust_ci
        row = {"learner": name, "wall_s": round(time.time() - t, 1), "load_before": round(load, 2),
               "load_after": round(os.getloadavg()[0], 2), "mp_sd_without": a.mp_spread["without"],
               "mp_sd_with": a.mp_spread["with"],
               "sd_delta_mpl_cust": float(np.std([s.delta_mpl_cust for s in a.seeds], ddof=1)),
               "delta_mpl_cust": a.delta_mpl_cust, "delta_mpl_total": a.delta_mpl_total, "s_cust": a.s_cust,
               "s_cust_ci": ci, "s_cust_ci_width": None if ci is None else ci[1] - ci[0],
               "evaluation_share": a.evaluation_share,
               "shift_mp": [s.shift_mp for s in a.seeds]}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{args.seeds} seeds, {args.platform_updates}+{args.finetune_updates} updates per arm, "
          f"{args.eval_shifts} evaluation shifts per seed, at {args.site}")
    print(f"{'learner':>8}{'sd MP without':>15}{'sd MP with':>12}{'sd ΔMPL_cust':>14}{'ΔMPL_total':>12}"
          f"{'s_cust':>8}{'CI width':>10}{'wall s':>8}")
    for r in rows:
        width = "unbounded" if r["s_cust_ci_width"] is None else f"{r['s_cust_ci_width']:.1%}"
        print(f"{r['learner']:>8}{r['mp_sd_without']:>15.1f}{r['mp_sd_with']:>12.1f}{r['sd_delta_mpl_cust']:>14.1f}"
              f"{r['delta_mpl_total']:>12.1f}{r['s_cust']:>8.1%}{width:>10}{r['wall_s']:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
