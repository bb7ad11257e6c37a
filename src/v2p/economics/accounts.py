"""A run's books: each finished episode goes to the double-entry ledger, then to the per-episode CSV.

The ledger transaction is committed first (one SQLite transaction), then the CSV row is appended and fsynced. A
crash can at worst leave the CSV one episode behind the ledger, never a partial episode in either; recording the
same episode again (a restarted node) books nothing twice and appends the CSV row it lacks. `books_balanced`
says whether the run's books balance: every transaction sums to zero, the accounts balance against each other,
episodes.csv agrees with the ledger, and the run's summary.json figures equal the ledger's sums to the cent.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from v2p.config import EconomicsConfig, PlatformConfig
from v2p.economics.ledger import Ledger, open_existing_ledger
from v2p.economics.money import to_cents
from v2p.economics.monitor import EpisodeEconomics
from v2p.economics.report import MONEY_KEYS, investor_figures

CSV_NAME = "episodes.csv"
LEDGER_NAME = "ledger.sqlite"
SUMMARY_NAME = "summary.json"
CSV_COLUMNS = (
    "site", "episode", "hours", "units", "attempts", "errors", "mp_r", "err_rate", "err_target", "w_hat_r", "w_h",
    "wage_parity", "profit", "lambda_dual", "spread", "spread_value", "contract", "s_cust", "s_plat", "s_cust_rule",
    "s_cust_ci_low", "s_cust_ci_high", "s_cust_method", "price_floored", "billed", "rebate", "captured_spread",
    "energy", "capital",
)
# CSV money column -> posting kinds whose cents it holds (the CSV's $ figures must equal the ledger's)
CSV_MONEY = {"billed": ("labor", "spread", "units"), "rebate": ("rebate",), "energy": ("energy",),
             "capital": ("capital",)}


def _usd(cents: int) -> str:
    return f"{cents / 100:.2f}"


class EpisodeAccounts:
    """The run folder's ledger.sqlite and episodes.csv, written together for each finished episode."""

    def __init__(self, run_dir: str | Path, cfg: EconomicsConfig) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.cfg = cfg
        self.ledger = Ledger(self.run_dir / LEDGER_NAME)
        self.csv_path = self.run_dir / CSV_NAME
        if not self.csv_path.exists():
            with open(self.csv_path, "w", newline="") as f:
                csv.writer(f).writerow(CSV_COLUMNS)
        self._in_csv = {(r["site"], int(r["episode"])) for r in read_episode_csv(self.csv_path)}

    def record(self, site: str, ep: EpisodeEconomics) -> bool:
        """Book the episode (its `books`: the share, its rule and the postings) and append its CSV row.
        False when the ledger already held it with the same figures (then only a missing CSV row is added)."""
        booked = self.ledger.append(site, ep.episode, ep.books)
        if (site, ep.episode) in self._in_csv:
            return booked
        b, share = ep.books, ep.books.share
        lo, hi = ("", "") if share.interval is None else share.interval
        row = [site, ep.episode, ep.hours, ep.units, ep.attempts, ep.errors, ep.mp, ep.err_rate, ep.error_target,
               ep.implied_wage, self.cfg.human_wage, ep.wage_parity, ep.profit, ep.lam, ep.spread,
               _usd(b.spread_value_cents), b.contract, share.share, 1.0 - share.share, share.rule, lo, hi,
               share.method, int(b.price_floored), _usd(b.billed_cents), _usd(b.cents("rebate")),
               _usd(b.captured_spread_cents), _usd(b.cents("energy")), _usd(b.cents("capital"))]
        with open(self.csv_path, "a", newline="") as f:
            csv.writer(f).writerow(row)
            f.flush()
            os.fsync(f.fileno())
        self._in_csv.add((site, ep.episode))
        return booked

    def close(self) -> None:
        self.ledger.close()


def read_episode_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class BooksCheck:
    """`books_balanced` and what it found: balances per account (cents) per site, and every problem."""

    books_balanced: bool
    balances: dict[str, dict[str, int]]  # site -> account -> cents (received − paid)
    episodes: dict[str, int]  # site -> booked episodes
    csv_episodes: int
    summary_checked: bool  # a summary.json was there to hold to the ledger
    problems: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"books_balanced": self.books_balanced, "balances_cents": self.balances, "episodes": self.episodes,
                "csv_episodes": self.csv_episodes, "summary_checked": self.summary_checked,
                "problems": self.problems}


def _csv_problems(ledger: Ledger, rows: list[dict[str, str]]) -> list[str]:
    problems: list[str] = []
    booked = {(r["site"], r["episode"]): r for r in ledger.rows()}
    seen: set[tuple[str, int]] = set()
    for line, row in enumerate(rows, start=2):
        try:
            key = (row["site"], int(row["episode"]))
            if key in seen:
                problems.append(f"{CSV_NAME} line {line}: {key[0]} episode {key[1]} appears twice")
            seen.add(key)
            entry = booked.get(key)
            if entry is None:
                problems.append(f"{CSV_NAME} line {line}: {key[0]} episode {key[1]} is not in the ledger")
                continue
            for column, kinds in CSV_MONEY.items():
                if to_cents(float(row[column])) != sum(entry[f"{k}_cents"] for k in kinds):
                    problems.append(f"{CSV_NAME} line {line}: {column} {row[column]} differs from the ledger's "
                                    f"{_usd(sum(entry[f'{k}_cents'] for k in kinds))}")
            if row["s_cust_rule"] != entry["s_cust_rule"]:
                problems.append(f"{CSV_NAME} line {line}: rule {row['s_cust_rule']} differs from the ledger's "
                                f"{entry['s_cust_rule']}")
        except (KeyError, ValueError, TypeError) as exc:
            problems.append(f"{CSV_NAME} line {line}: unreadable ({type(exc).__name__}: {exc})")
    missing = sorted(set(booked) - seen)
    if missing:
        problems.append(f"{CSV_NAME} lacks {len(missing)} episode(s) the ledger holds, first {missing[0]}")
    return problems


def _summary_problems(ledger: Ledger, summary: dict[str, object]) -> list[str]:
    """The summary's money figures against the same figures recomputed from the ledger, to the cent. They depend
    on the postings and on the summary's own H and N (per robot-year, fleet), which it states."""
    try:
        platform = PlatformConfig(robot_hours_per_year=float(summary["robot_hours_per_year"]),
                                  fleet_size=int(summary["fleet_size"]))
        first = summary["first_episode"]
        figures = investor_figures(ledger, EconomicsConfig(platform=platform), summary["site"],
                                   None if first is None else int(first)).as_dict()
    except (KeyError, TypeError, ValueError) as exc:
        return [f"{SUMMARY_NAME}: cannot be held to the ledger ({type(exc).__name__}: {exc})"]
    problems = []
    for key in MONEY_KEYS:
        if key not in summary or summary[key] is None or to_cents(float(summary[key])) != to_cents(figures[key]):
            problems.append(f"{SUMMARY_NAME}: {key} {summary.get(key)!r} is not the ledger's {figures[key]:.2f}")
    if summary.get("episodes") != figures["episodes"]:
        problems.append(f"{SUMMARY_NAME}: {summary.get('episodes')} episodes, the ledger holds {figures['episodes']}")
    return problems


def books_balanced(run_dir: str | Path) -> BooksCheck:
    """Check a run's books: the ledger's transactions and accounts, episodes.csv, and summary.json if present."""
    run_dir = Path(run_dir)
    with open_existing_ledger(run_dir / LEDGER_NAME) as ledger:
        problems = ledger.problems()
        sites = ledger.sites()
        balances = {site: ledger.sums(site).balances for site in sites}
        episodes = {site: ledger.sums(site).episodes for site in sites}
        csv_path = run_dir / CSV_NAME
        rows = read_episode_csv(csv_path) if csv_path.exists() else []
        if not csv_path.exists() and sites:
            problems.append(f"{csv_path}: missing")
        problems += _csv_problems(ledger, rows)
        summary_path = run_dir / SUMMARY_NAME
        summary_checked = summary_path.is_file()
        if summary_checked:
            try:
                summary = json.loads(summary_path.read_text())
            except (OSError, ValueError) as exc:
                problems.append(f"{summary_path}: unreadable ({exc})")
            else:
                problems += _summary_problems(ledger, summary)
    return BooksCheck(not problems, balances, episodes, len(rows), summary_checked, problems)
