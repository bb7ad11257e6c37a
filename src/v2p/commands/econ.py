"""`v2p econ`: the investor report for one operating point (MP, error rate)."""

from __future__ import annotations

import argparse
import json

from v2p.cli_types import fraction, non_negative, positive
from v2p.errors import V2PError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("econ", help="economics report for an operating point (MP, error rate)")
    p.add_argument("--mp", type=non_negative, required=True, help="marginal product, units/h")
    p.add_argument("--err", type=fraction, required=True, help="error rate, errors/attempts in [0, 1]")
    p.add_argument("--hours", type=positive, default=1.0, help="hours the spread is valued over (default 1)")
    p.add_argument("--s-cust", type=fraction, default=0.0,
                   help="customer's measured share of the gain (default 0: no customer data measured)")
    p.add_argument("--config", default=None, help="economics YAML (default config/economics.yaml)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.economics import economic_report, format_report

    cfg = load_economics_config(args.config)
    try:
        report = economic_report(args.mp, args.err, args.hours, args.s_cust, cfg)
    except ValueError as exc:
        raise V2PError(str(exc)) from None
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(format_report(report, "given with --s-cust" if args.s_cust else "no customer data measured"))
    return 0
