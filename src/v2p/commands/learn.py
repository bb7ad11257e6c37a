"""`v2p learn`: train the SAC policy offline from recorded bags (the same code as learner_node)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from v2p.cli_types import non_negative_int, positive_int
from v2p.commands._options import add_economics, add_json
from v2p.task.dishwashing import DEFAULT_OBSERVATION, DISHWASHING, POLICY_INPUTS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("learn", help="train the policy from recorded bags (offline learner)")
    p.add_argument("--bags", nargs="+", required=True, metavar="DIR",
                   help="bags or folders of bags (every closed bag below each is used)")
    p.add_argument("--out", required=True, metavar="CKPT",
                   help="checkpoint directory to write (resumed from when it exists, unless --fresh)")
    p.add_argument("--steps", type=non_negative_int, required=True, help="SAC gradient steps to take")
    p.add_argument("--batch-size", type=positive_int, default=DISHWASHING.sac.batch_size,
                   help=f"SAC batch size (default {DISHWASHING.sac.batch_size})")
    p.add_argument("--buffer-size", type=positive_int, default=DISHWASHING.sac.buffer_size,
                   help=f"replay capacity (default {DISHWASHING.sac.buffer_size})")
    p.add_argument("--seed", type=int, default=0, help="seed of the networks and of batch sampling (default 0)")
    p.add_argument("--observation", choices=sorted(POLICY_INPUTS), default=DEFAULT_OBSERVATION,
                   help=f"what the policy acts on, read from the bags (default {DEFAULT_OBSERVATION}: "
                   f"{POLICY_INPUTS[DEFAULT_OBSERVATION].doc}; see v2p.task.dishwashing.POLICY_INPUTS)")
    add_economics(p, "for the reward")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--fresh", action="store_true", help="start new networks even if --out holds a checkpoint")
    add_json(p, "the report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.learning import learn, print_log
    econ = load_economics_config(args.economics)
    sac = replace(DISHWASHING.sac, batch_size=args.batch_size, buffer_size=args.buffer_size, seed=args.seed,
                  device=args.device, threads=args.threads)
    with print_log(sys.stderr if args.json else sys.stdout):
        report = learn(args.bags, args.out, args.steps, econ, sac_config=sac,
                       policy_input=POLICY_INPUTS[args.observation],
                       resume=not args.fresh)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(f"trained {args.steps} steps on {report.transitions} transitions ({report.episodes} episodes) from "
              f"{len(report.bags_used)} new bag(s); {len(report.bags_failed)} skipped")
        if report.metrics:
            print("  " + "  ".join(f"{k} {v:.4g}" for k, v in report.metrics.items()))
        print(f"checkpoint: {report.checkpoint} ({report.updates} updates in all)")
    return 0
