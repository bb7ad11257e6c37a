"""The options of the counterfactual pair that `v2p attribute` and `v2p honesty` share: its budget, the policy
input and where its jobs run (`--workers`, `--ray`).

Not a subcommand: `v2p.cli` skips the modules of `v2p.commands` whose names start with `_`.
"""

from __future__ import annotations

import argparse

from v2p.cli_types import int_at_least
from v2p.experiments.executor import Executor, make_executor
from v2p.experiments.pair import PAIR_INPUT_NAME, PairBudget
from v2p.task import topics
from v2p.task.dishwashing import POLICY_INPUTS

DEFAULT = PairBudget()
# the pair runs its policies on the workcell's state vector (`evaluate_shifts`): inputs read from /sim/state alone
STATE_INPUTS = sorted(name for name, p in POLICY_INPUTS.items() if p.topic == topics.SIM_STATE and p.robot_state is None)


def add_pair_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", type=int_at_least(2), default=DEFAULT.seeds,
                   help=f"seeds of the pair (default {DEFAULT.seeds}; at least 2)")
    p.add_argument("--platform-updates", type=int_at_least(1), default=DEFAULT.platform_updates,
                   help=f"SAC updates of each seed's platform policy (default {DEFAULT.platform_updates})")
    p.add_argument("--finetune-updates", type=int_at_least(1), default=DEFAULT.finetune_updates,
                   help=f"SAC updates of each arm's fine-tuning, the same with and without the customer's data "
                        f"(default {DEFAULT.finetune_updates})")
    p.add_argument("--eval-shifts", type=int_at_least(1), default=DEFAULT.eval_shifts,
                   help=f"evaluation shifts per seed, the same for both arms and the reference "
                        f"(default {DEFAULT.eval_shifts})")
    p.add_argument("--policy-input", choices=STATE_INPUTS, default=PAIR_INPUT_NAME,
                   help=f"what the pair's policies act on (default {PAIR_INPUT_NAME})")
    p.add_argument("--workers", type=int_at_least(1), default=2, help="local worker processes (default 2)")
    p.add_argument("--ray", default=None, metavar="auto|ADDRESS",
                   help="run the fits and evaluations on a Ray cluster instead: auto joins or starts one, ADDRESS "
                        "joins that head node")


def pair_budget(args: argparse.Namespace) -> PairBudget:
    return PairBudget(args.seeds, args.platform_updates, args.finetune_updates, args.eval_shifts)


def pair_executor(args: argparse.Namespace) -> Executor:
    """Local processes, or the Ray cluster `--ray` names."""
    return make_executor(args.workers, args.ray)
