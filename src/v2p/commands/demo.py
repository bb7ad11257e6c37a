"""`v2p demo`: the main job. Today: the economics report at the seed's operating point."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the main job")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.cli import main

    return main(["econ", "--mp", "109", "--err", "0.027", *(["--json"] if args.json else [])])
