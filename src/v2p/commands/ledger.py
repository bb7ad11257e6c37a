"""`v2p ledger --run DIR`: each account's balance per site from the run's double-entry ledger, the customer's
position against employing a human at w_h for the same hours, and the `books_balanced` check."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from v2p.commands._options import add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ledger", help="account balances of a run's ledger and whether its books balance")
    p.add_argument("--run", required=True, help="run folder (holds ledger.sqlite and episodes.csv)")
    add_json(p, "the balances and the check")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.economics.accounts import LEDGER_NAME, books_balanced
    from v2p.economics.contract import ACCOUNTS, BILL_KINDS
    from v2p.economics.ledger import open_existing_ledger

    check = books_balanced(args.run)  # names a missing ledger first
    with open_existing_ledger(Path(args.run) / LEDGER_NAME) as ledger:
        sums = {site: ledger.sums(site) for site in ledger.sites()}
    positions = {}
    for site, s in sums.items():
        paid = sum(s.cents(k) for k in BILL_KINDS) - s.cents("rebate")  # = −(the customer's balance)
        positions[site] = {"hours": s.hours, "net_paid_cents": paid, "human_cost_cents": s.parity_cents,
                           "work_value_cents": s.value_cents, "cash_saved_cents": s.parity_cents - paid,
                           "gain_cents": s.value_cents - paid, "rules": s.rules}
    if args.json:
        print(json.dumps(check.as_dict() | {"customer_position": positions}))
        return 0 if check.books_balanced else 1
    for site, s in sums.items():
        p = positions[site]
        print(f"{site}: {s.episodes} episodes, {s.hours:.3f} robot-hours, contract {'+'.join(s.contracts)}, "
              f"s_cust priced by {', '.join(f'{r} ×{n}' for r, n in sorted(s.rules.items()))}")
        for account in ACCOUNTS:
            print(f"  {account:<17}{_usd(s.balances[account]):>14}")
        print(f"  {'sum':<17}{_usd(sum(s.balances.values())):>14}")
        diff = p["cash_saved_cents"]
        print(f"  the customer against employing a human at w_h for the same {s.hours:.3f} h:")
        print(f"    a human would cost            {_usd(p['human_cost_cents']):>14}")
        print(f"    the robot cost it, net        {_usd(p['net_paid_cents']):>14}   "
              f"({_usd(abs(diff))} {'less' if diff >= 0 else 'more'} cash)")
        print(f"    the robot's work was worth    {_usd(p['work_value_cents']):>14}   (ŵ_r·h; a human's, its wage)")
        print(f"    its gain over the human       {_usd(p['gain_cents']):>14}   (worth − net cost)")
    for problem in check.problems:
        print(f"problem: {problem}")
    summary = "summary.json held to the ledger" if check.summary_checked else "no summary.json to hold to it"
    print(f"books balanced: every transaction sums to zero, the accounts balance, episodes.csv agrees ({summary})"
          if check.books_balanced else "books NOT balanced")
    return 0 if check.books_balanced else 1


def _usd(cents: int) -> str:
    return f"-${-cents / 100:,.2f}" if cents < 0 else f"${cents / 100:,.2f}"
