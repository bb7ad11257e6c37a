"""The spread ledger: one row per episode in SQLite, money in integer cents, one transaction per episode.

The ledger is what cash flows are securitised on, so a crash must never leave a partial episode in it: every
episode is a single INSERT inside its own transaction (WAL journal, synchronous=FULL), and the identity
rebate + captured = max(spread_value, 0) is a CHECK constraint the database enforces.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from v2p.economics.spread import SpreadAllocation
from v2p.errors import V2PError

SCHEMA = """
CREATE TABLE IF NOT EXISTS allocations (
    episode INTEGER NOT NULL,
    site TEXT NOT NULL,
    hours REAL NOT NULL CHECK (hours > 0),
    units INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    spread_value_cents INTEGER NOT NULL,
    s_cust REAL NOT NULL CHECK (s_cust >= 0 AND s_cust <= 1),
    s_cust_source TEXT NOT NULL,
    rebate_cents INTEGER NOT NULL CHECK (rebate_cents >= 0),
    captured_spread_cents INTEGER NOT NULL CHECK (captured_spread_cents >= 0),
    PRIMARY KEY (site, episode),
    CHECK (rebate_cents + captured_spread_cents = MAX(spread_value_cents, 0))
);
"""
S_CUST_SOURCES = ("platform_site", "counterfactual", "estimator", "estimator_uncalibrated")


class LedgerError(V2PError):
    """The ledger file is unreadable or violates its identity."""


@dataclass(frozen=True)
class LedgerEntry:
    episode: int
    site: str
    hours: float
    units: int
    attempts: int
    errors: int
    allocation: SpreadAllocation
    s_cust_source: str


@dataclass(frozen=True)
class SiteTotals:
    site: str
    episodes: int
    hours: float
    spread_value_cents: int
    positive_spread_cents: int
    rebate_cents: int
    captured_spread_cents: int

    @property
    def reconciles(self) -> bool:
        return self.rebate_cents + self.captured_spread_cents == self.positive_spread_cents


class Ledger:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: not a usable ledger database: {exc}") from None

    def append(self, entry: LedgerEntry) -> None:
        """Record one episode atomically (its own transaction)."""
        if entry.s_cust_source not in S_CUST_SOURCES:
            raise ValueError(f"s_cust_source must be one of {S_CUST_SOURCES}, got {entry.s_cust_source!r}")
        a = entry.allocation
        with self._db:  # BEGIN … COMMIT, or ROLLBACK on error
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO allocations VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (entry.episode, entry.site, entry.hours, entry.units, entry.attempts, entry.errors,
                 a.spread_value_cents, a.s_cust, entry.s_cust_source, a.rebate_cents, a.captured_spread_cents),
            )

    def episodes(self, site: str | None = None) -> list[int]:
        query = "SELECT episode FROM allocations" + (" WHERE site = ?" if site else "") + " ORDER BY episode"
        return [row[0] for row in self._db.execute(query, (site,) if site else ())]

    def rows(self) -> list[dict[str, object]]:
        cursor = self._db.execute("SELECT * FROM allocations ORDER BY site, episode")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def totals(self) -> list[SiteTotals]:
        query = """SELECT site, COUNT(*), SUM(hours), SUM(spread_value_cents), SUM(MAX(spread_value_cents, 0)),
                          SUM(rebate_cents), SUM(captured_spread_cents)
                   FROM allocations GROUP BY site ORDER BY site"""
        try:
            return [SiteTotals(*row) for row in self._db.execute(query)]
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: cannot read the ledger: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_existing_ledger(path: str | Path) -> Ledger:
    """Open a ledger that must already exist (reports never create an empty one by mistake)."""
    if not Path(path).is_file():
        raise LedgerError(f"{path}: no ledger here (expected the run folder's ledger.sqlite)")
    return Ledger(path)
