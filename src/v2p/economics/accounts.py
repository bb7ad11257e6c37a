"""A run's books: each finished episode goes to the per-episode CSV and to the spread ledger.

The ledger row is committed first (one SQLite transaction), then the CSV row is appended and fsynced, so a crash
can at worst leave the CSV one episode behind the ledger, never a partial episode in either; `reconcile` says so.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from v2p.config import EconomicsConfig
from v2p.economics.ledger import Ledger, LedgerEntry, open_existing_ledger
from v2p.economics.money import to_cents
from v2p.economics.monitor import EpisodeEconomics
from v2p.economics.spread import spread_allocation

CSV_NAME = "episodes.csv"
LEDGER_NAME = "ledger.sqlite"
CSV_COLUMNS = (
    "site", "episode", "hours", "units", "attempts", "errors", "mp_r", "err_rate", "err_target", "w_hat_r", "w_h",
    "wage_parity", "profit", "lambda_dual", "spread", "spread_value", "s_cust", "s_plat", "s_cust_source", "rebate",
    "captured_spread",
)


class EpisodeAccounts:
    def __init__(self, run_dir: str | Path, cfg: EconomicsConfig) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.cfg = cfg
        self.ledger = Ledger(self.run_dir / LEDGER_NAME)
        self.csv_path = self.run_dir / CSV_NAME
        if not self.csv_path.exists():
            with open(self.csv_path, "w", newline="") as f:
                csv.writer(f).writerow(CSV_COLUMNS)

    def record(self, site: str, ep: EpisodeEconomics, s_cust_source: str) -> None:
        alloc = spread_allocation(ep.implied_wage, ep.hours, ep.s_cust, self.cfg)
        self.ledger.append(LedgerEntry(ep.episode, site, ep.hours, ep.units, ep.attempts, ep.errors, alloc,
                                       s_cust_source))
        row = [site, ep.episode, ep.hours, ep.units, ep.attempts, ep.errors, ep.mp, ep.err_rate, ep.error_target,
               ep.implied_wage, self.cfg.human_wage, ep.wage_parity, ep.profit, ep.lam, ep.spread,
               alloc.spread_value, ep.s_cust, 1.0 - ep.s_cust, s_cust_source, alloc.rebate, alloc.captured_spread]
        with open(self.csv_path, "a", newline="") as f:
            csv.writer(f).writerow(row)
            f.flush()
            os.fsync(f.fileno())

    def close(self) -> None:
        self.ledger.close()


@dataclass(frozen=True)
class Reconciliation:
    ok: bool
    sites: dict[str, dict[str, int]]  # site -> ledger/csv cents and episodes
    problems: list[str]


def read_episode_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def reconcile(run_dir: str | Path) -> Reconciliation:
    """Check the ledger's identity per site and that its totals equal the CSV's, to the cent."""
    run_dir = Path(run_dir)
    ledger = open_existing_ledger(run_dir / LEDGER_NAME)
    try:
        totals = ledger.totals()
    finally:
        ledger.close()
    rows = read_episode_csv(run_dir / CSV_NAME) if (run_dir / CSV_NAME).exists() else []
    problems: list[str] = []
    sites: dict[str, dict[str, int]] = {}
    for t in totals:
        site_rows = [r for r in rows if r["site"] == t.site]
        csv_rebate = sum(to_cents(float(r["rebate"])) for r in site_rows)
        csv_captured = sum(to_cents(float(r["captured_spread"])) for r in site_rows)
        sites[t.site] = {"episodes": t.episodes, "csv_episodes": len(site_rows),
                         "spread_value_cents": t.spread_value_cents, "rebate_cents": t.rebate_cents,
                         "captured_spread_cents": t.captured_spread_cents, "csv_rebate_cents": csv_rebate,
                         "csv_captured_spread_cents": csv_captured}
        if not t.reconciles:
            problems.append(f"{t.site}: rebate + captured != max(spread_value, 0)")
        if (csv_rebate, csv_captured) != (t.rebate_cents, t.captured_spread_cents):
            problems.append(f"{t.site}: ledger and {CSV_NAME} differ ({t.episodes} vs {len(site_rows)} episodes)")
    return Reconciliation(not problems, sites, problems)
