"""`v2p rl-bench`: train this SAC on any gymnasium env id and evaluate it."""

from __future__ import annotations

import argparse
import json

from v2p.cli_types import positive_int
from v2p.commands._options import add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("rl-bench", help="train and evaluate SAC on a gymnasium env (e.g. Pendulum-v1)")
    p.add_argument("--env", required=True, help="gymnasium env id, e.g. Pendulum-v1")
    p.add_argument("--steps", type=positive_int, required=True, help="env steps to train for")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=positive_int, default=10)
    p.add_argument("--threads", type=positive_int, default=None, help="torch threads (capped at free cores)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, or auto")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="SAC setting, e.g. --set learning_rate=1e-3 --set net_arch=256,256 (repeatable)")
    p.add_argument("--out", default=None, help="directory for episodes.csv and the final checkpoint")
    add_json(p, "the figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from v2p.errors import V2PError
    from v2p.rl import SAC, evaluate
    from v2p.rl.overrides import parse_overrides

    overrides = parse_overrides(args.overrides)
    try:
        env, eval_env = gym.make(args.env), gym.make(args.env)
    except gym.error.Error as exc:
        raise V2PError(f"--env {args.env}: {exc}") from None
    overrides.setdefault("seed", args.seed)
    overrides.setdefault("device", args.device)
    if args.threads is not None:
        overrides["threads"] = args.threads
    model = SAC(env, log_dir=args.out, **overrides)
    model.learn(args.steps, progress_bar=not args.json)
    mean, std = evaluate(model, eval_env, args.eval_episodes, seed=args.seed + 10_000)
    if args.out:
        model.save(f"{args.out}/checkpoint")
    result = {"env": args.env, "steps": args.steps, "seed": args.seed, "mean_return": mean, "std_return": std,
              "eval_episodes": args.eval_episodes, "train_seconds": model.train_seconds,
              "updates": model.agent.updates, "updates_per_second": model.updates_per_second,
              "threads": model.threads, "device": str(model.device)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.env}: return {mean:.1f} ± {std:.1f} over {args.eval_episodes} episodes after {args.steps} "
              f"steps; {model.train_seconds:.1f} s training, {model.updates_per_second:.1f} updates/s "
              f"({model.threads} threads, {model.device})")
    return 0
