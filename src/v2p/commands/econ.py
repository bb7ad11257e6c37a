"""`v2p econ`: the investor report for one operating point (MP, error rate)."""

from __future__ import annotations

import argparse
import json
import math

from v2p.errors import V2PError


def _fraction(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("econ", help="economics report for an operating point (MP, error rate)")
    p.add_argument("--mp", type=_non_negative, required=True, help="marginal product, units/h")
    p.add_argument("--err", type=_fraction, required=True, help="error rate, errors/attempts in [0, 1]")
    p.add_argument("--hours", type=_positive, default=1.0, help="hours the spread is valued over (default 1)")
    p.add_argument("--s-cust", type=_fraction, default=0.0,
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
