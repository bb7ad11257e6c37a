"""`v2p data-value corpus|fit|eval`: price data before retraining. A corpus of measured customers (features and the
counterfactual pair's ΔMPL_cust and s_cust), the estimator fitted on it, and its held-out scores."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from v2p.cli_types import int_at_least
from v2p.commands._options import add_economics, add_json
from v2p.experiments.customer_features import TARGETS

DEFAULT_BUDGET = dict(seeds=3, platform_updates=400, finetune_updates=200, eval_shifts=2)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data-value", help="the data-value estimator: build its corpus, fit it, score it")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    c = verbs.add_parser("corpus", help="measure customers drawn from the site generator (resumes after a kill)")
    c.add_argument("--customers", type=int_at_least(1), required=True, help="customers 0 .. N-1 of the corpus")
    c.add_argument("--out", type=Path, required=True, help="the corpus folder (rows.jsonl, bags, fits)")
    b = DEFAULT_BUDGET
    c.add_argument("--seeds", type=int_at_least(3), default=b["seeds"],
                   help=f"seeds of the pair per customer (default {b['seeds']}; at least 3)")
    c.add_argument("--platform-updates", type=int_at_least(1), default=b["platform_updates"],
                   help=f"SAC updates of each seed's platform policy (default {b['platform_updates']})")
    c.add_argument("--finetune-updates", type=int_at_least(1), default=b["finetune_updates"],
                   help=f"SAC updates of each arm's fine-tuning (default {b['finetune_updates']})")
    c.add_argument("--eval-shifts", type=int_at_least(1), default=b["eval_shifts"],
                   help=f"evaluation shifts per seed (default {b['eval_shifts']})")
    c.add_argument("--platform-shifts", type=int_at_least(1), default=6,
                   help="shifts of platform data at the reference kitchen (default 6)")
    c.add_argument("--customer-shifts", type=int_at_least(1), nargs=2, default=[2, 5], metavar=("MIN", "MAX"),
                   help="each customer records a number of shifts drawn in MIN..MAX (default 2 5)")
    c.add_argument("--first-site-seed", type=int_at_least(0), default=1000,
                   help="customer i is random_site(FIRST + i) (default 1000)")
    c.add_argument("--batch", type=int_at_least(1), default=4,
                   help="customers measured together, sharing one platform fit per seed (default 4)")
    c.add_argument("--workers", type=int_at_least(1), default=2, help="local worker processes (default 2)")
    c.add_argument("--ray", default=None, metavar="auto|ADDRESS", help="run the jobs on a Ray cluster instead")
    add_economics(c)
    c.set_defaults(func=run_corpus)

    f = verbs.add_parser("fit", help="fit the estimator on a corpus and write it with the corpus summary")
    f.add_argument("--corpus", type=Path, required=True, help="a corpus folder")
    f.add_argument("--out", type=Path, required=True, help="the estimator file (JSON), e.g. "
                                                            "config/data_value/estimator.json")
    f.add_argument("--target", choices=(*TARGETS, "all"), default="all",
                   help="what to predict (default all: one estimator each)")
    f.set_defaults(func=run_fit)

    e = verbs.add_parser("eval", help="leave-one-customer-out scores of the estimator on a corpus")
    e.add_argument("--corpus", type=Path, required=True, help="a corpus folder")
    e.add_argument("--target", choices=TARGETS, default="s_cust", help="what to predict (default s_cust)")
    add_json(e, "the scores")
    e.set_defaults(func=run_eval)


def _command(args: argparse.Namespace, *names: str) -> str:
    """The command line that reproduces this run, every option spelled out (defaults included)."""
    words = ["v2p", "data-value", args.verb]
    for name in names:
        value = getattr(args, name)
        if value is None:
            continue
        words.append("--" + name.replace("_", "-"))
        words += [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    return shlex.join(words)


def run_corpus(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.experiments.data_value_corpus import CorpusSpec, build_corpus
    from v2p.experiments.executor import make_executor
    from v2p.experiments.pair import PairBudget

    cfg = load_economics_config(args.economics)
    budget = PairBudget(args.seeds, args.platform_updates, args.finetune_updates, args.eval_shifts)
    spec = CorpusSpec(budget, platform_shifts=args.platform_shifts, customer_shifts=tuple(args.customer_shifts),
                      first_site_seed=args.first_site_seed)
    corpus = build_corpus(args.out, args.customers, spec, cfg, make_executor(args.workers, args.ray), args.batch,
                          _command(args, "customers", "out", "seeds", "platform_updates", "finetune_updates",
                                   "eval_shifts", "platform_shifts", "customer_shifts", "first_site_seed", "batch",
                                   "workers", "ray", "economics"), log=lambda line: print(line, file=sys.stderr, flush=True))
    build = corpus.builds[-1] if corpus.builds else {}
    print(f"{args.out}: {len(corpus.rows)} customers measured ({build.get('rows_added', 0)} added in "
          f"{build.get('wall_s', 0):.0f} s)")
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from v2p.experiments.data_value_corpus import fit_estimators, load_corpus

    corpus = load_corpus(args.corpus)
    targets = TARGETS if args.target == "all" else (args.target,)
    out = fit_estimators(corpus, targets, _command(args, "corpus", "out", "target"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    for line in report_lines(out["heldout"]):
        print(line)
    print(f"wrote {args.out}: {', '.join(targets)} fitted on {len(corpus.rows)} customers")
    return 0


def report_lines(heldout: dict[str, dict[str, float]]) -> list[str]:
    """Per target: the held-out figures (leave one customer out)."""
    return [f"{t}: held-out R² {h['heldout_r2']:.3f}, MAE {h['mae']:.4g} (constant predictor {h['mae_constant']:.4g}), "
            f"90% interval coverage {h['coverage90']:.0%}, prequential log score {h['log_score']:.3f} over "
            f"{h['customers']} customers (leave one customer out)" for t, h in heldout.items()]


def run_eval(args: argparse.Namespace) -> int:
    from v2p.experiments.data_value_corpus import evaluate_corpus, load_corpus

    report = evaluate_corpus(load_corpus(args.corpus), args.target)
    if args.json:
        print(json.dumps({"target": args.target, **report.as_dict()}))
        return 0
    print("\n".join(report_lines({args.target: report.as_dict()})))
    return 0
