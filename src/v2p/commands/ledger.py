"""`v2p ledger --run DIR`: totals per site from the spread ledger, and the reconciliation check."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ledger", help="spread ledger totals per site, reconciled with the episode CSV")
    p.add_argument("--run", required=True, help="run folder (holds ledger.sqlite and episodes.csv)")
    p.add_argument("--json", action="store_true", help="print the totals as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.economics.accounts import reconcile

    result = reconcile(args.run)
    if args.json:
        print(json.dumps({"ok": result.ok, "sites": result.sites, "problems": result.problems}))
        return 0 if result.ok else 1
    print(f"{'site':<18}{'episodes':>9}{'spread value':>15}{'rebate':>12}{'captured':>12}  identity")
    for site, t in result.sites.items():
        print(f"{site:<18}{t['episodes']:>9}{t['spread_value_cents'] / 100:>15,.2f}{t['rebate_cents'] / 100:>12,.2f}"
              f"{t['captured_spread_cents'] / 100:>12,.2f}  {'ok' if site not in ' '.join(result.problems) else 'FAIL'}")
    for problem in result.problems:
        print(f"problem: {problem}")
    print("reconciled to the cent with episodes.csv" if result.ok else "NOT reconciled")
    return 0 if result.ok else 1
