"""The `v2p` command line. Subcommands live in `v2p.commands.*`, one module each; a module whose name starts with
`_` (`v2p.commands._options`, the options they share) is a helper, not a subcommand."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from v2p import __version__, commands
from v2p.errors import V2PError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="v2p", description="Video-to-policy robotics, priced like labor.")
    parser.add_argument("--version", action="version", version=f"v2p {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"v2p.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except V2PError as exc:
        print(f"v2p {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
