"""The options the `v2p` subcommands share, under one name and one help text each: `--json` and `--economics`.

Not a subcommand: `v2p.cli` skips the modules of `v2p.commands` whose names start with `_`.
"""

from __future__ import annotations

import argparse

from v2p.config import DEFAULT_ECONOMICS, REPO_ROOT

ECONOMICS_DEFAULT = DEFAULT_ECONOMICS.relative_to(REPO_ROOT)  # config/economics.yaml, as the help shows it


def add_json(parser: argparse.ArgumentParser, what: str | None = None) -> None:
    """`--json`: print `what` ("the figures", "the report") as one JSON object instead of text."""
    parser.add_argument("--json", action="store_true",
                        help=f"print {what} as one JSON object" if what else "print one JSON object")


def add_economics(parser: argparse.ArgumentParser, purpose: str | None = None) -> None:
    """`--economics PATH` (args.economics, None for the default file): the economics YAML, read for `purpose`."""
    use = f" {purpose}" if purpose else ""
    parser.add_argument("--economics", default=None, metavar="PATH",
                        help=f"economics YAML{use} (default {ECONOMICS_DEFAULT})")
