"""`v2p econ`: the books of one operating point (MP, error rate) under the configured contract, and the
investor report read from them."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from v2p.cli_types import fraction, non_negative, positive
from v2p.commands._options import add_economics, add_json
from v2p.errors import V2PError

if TYPE_CHECKING:
    from v2p.config import EconomicsConfig
    from v2p.economics.pricing import ShareEvidence


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("econ", help="economics report for an operating point (MP, error rate)")
    p.add_argument("--mp", type=non_negative, required=True, help="marginal product, units/h")
    p.add_argument("--err", type=fraction, required=True, help="error rate, errors/attempts in [0, 1]")
    p.add_argument("--hours", type=positive, default=None,
                   help="robot-hours to book at this operating point (default: one robot-year, H of the config)")
    p.add_argument("--s-cust", type=fraction, default=None,
                   help="a customer share on offer (default none: the contract's default share prices the rebate)")
    p.add_argument("--s-cust-ci", type=float, nargs=2, metavar=("LOW", "HIGH"), default=None,
                   help="its 95%% interval; without one, or wider than the contract's max_share_interval, the "
                        "contract's default share prices the rebate")
    p.add_argument("--s-cust-source", choices=("measured", "estimator"), default="measured",
                   help="what the share comes from (default measured)")
    add_economics(p)
    add_json(p, "the figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p.economics import ShareEvidence, economic_report, format_report

    cfg = load_economics_config(args.economics)
    if args.s_cust_ci is not None and args.s_cust is None:
        raise V2PError("--s-cust-ci needs --s-cust: an interval of which share?")
    hours = args.hours if args.hours is not None else cfg.platform.robot_hours_per_year
    try:
        evidence = None if args.s_cust is None else ShareEvidence(
            args.s_cust, args.s_cust_source, None if args.s_cust_ci is None else tuple(args.s_cust_ci),
            "given on the command line")
        report = economic_report(args.mp, args.err, hours, evidence, cfg)
    except ValueError as exc:
        raise V2PError(str(exc)) from None
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(format_report(report, _share_note(evidence, cfg)))
    return 0


def _share_note(evidence: ShareEvidence | None, cfg: EconomicsConfig) -> str:
    """What was on offer, for the report's contract line."""
    if evidence is None:
        return "no share given (--s-cust)"
    lo_hi = evidence.interval
    ci = "no interval" if lo_hi is None else f"95% interval [{lo_hi[0]:.1%}, {lo_hi[1]:.1%}]"
    return f"{evidence.source} share {evidence.share:.1%} given, {ci}, limit {cfg.contract.max_share_interval:.2f}"
