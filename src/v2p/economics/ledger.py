"""The run's double-entry ledger: SQLite, integer cents, one transaction per (site, episode).

Accounts: customer, platform, energy_supplier, robot_capital. A posting moves a positive integer amount from its
payer to its payee (legs: −amount for the payer, +amount for the payee), so every transaction sums to zero. The
database enforces what it can: CHECK constraints on every amount, account, direction, rule and interval; a
transaction header that is written last in the same SQLite transaction as its postings and refused (trigger)
unless it matches them; postings that need a header by commit (deferred foreign key); labor_value bills that
equal the work's value floored at 0; append-only tables. WAL journal with synchronous=FULL: a crash leaves every
episode whole or absent. Appending an episode already booked with the same figures changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from v2p.config import CONTRACT_KINDS
from v2p.economics.contract import ACCOUNTS, POSTING_KINDS, EpisodeBooks
from v2p.economics.money import split_cents
from v2p.economics.pricing import PRICING_RULES
from v2p.errors import V2PError


def _sql_list(values: object) -> str:
    return ", ".join(f"'{v}'" for v in values)


_DIRECTIONS = " OR ".join(f"(kind = '{k}' AND payer = '{a}' AND payee = '{b}')" for k, (a, b) in POSTING_KINDS.items())
_SUM = "(SELECT COALESCE(SUM(amount_cents), 0) FROM postings WHERE txn = NEW.txn AND kind IN ({}))"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY CHECK (name IN ({_sql_list(ACCOUNTS)})));
INSERT OR IGNORE INTO accounts (name) VALUES {", ".join(f"('{a}')" for a in ACCOUNTS)};
CREATE TABLE IF NOT EXISTS transactions (
    txn INTEGER PRIMARY KEY,
    site TEXT NOT NULL CHECK (length(site) > 0),
    episode INTEGER NOT NULL CHECK (typeof(episode) = 'integer'),
    contract TEXT NOT NULL CHECK (contract IN ({_sql_list(CONTRACT_KINDS)})),
    hours REAL NOT NULL CHECK (hours > 0),
    units REAL NOT NULL CHECK (units >= 0),
    errors REAL NOT NULL CHECK (errors >= 0),
    implied_wage REAL NOT NULL,
    value_cents INTEGER NOT NULL CHECK (typeof(value_cents) = 'integer'),
    parity_cents INTEGER NOT NULL CHECK (typeof(parity_cents) = 'integer' AND parity_cents >= 0),
    price_floored INTEGER NOT NULL CHECK (price_floored = (value_cents < 0)),
    s_cust REAL NOT NULL CHECK (s_cust >= 0 AND s_cust <= 1),
    s_cust_rule TEXT NOT NULL CHECK (s_cust_rule IN ({_sql_list(PRICING_RULES)})),
    s_cust_offered REAL CHECK (s_cust_offered IS NULL OR (s_cust_offered >= 0 AND s_cust_offered <= 1)),
    s_cust_ci_low REAL,
    s_cust_ci_high REAL,
    s_cust_method TEXT NOT NULL,
    max_share_interval REAL NOT NULL CHECK (max_share_interval >= 0),
    posting_count INTEGER NOT NULL CHECK (posting_count >= 0),
    posted_cents INTEGER NOT NULL CHECK (posted_cents >= 0),
    UNIQUE (site, episode),
    CHECK ((s_cust_ci_low IS NULL) = (s_cust_ci_high IS NULL) AND
           (s_cust_ci_low IS NULL OR s_cust_ci_low <= s_cust_ci_high)),
    -- no share is set by an interval wider than the contract's limit, nor without one
    CHECK (s_cust_rule NOT IN ('measured', 'estimator') OR (s_cust_ci_low IS NOT NULL AND
           s_cust_ci_high - s_cust_ci_low <= max_share_interval AND s_cust = s_cust_offered)),
    CHECK (s_cust_rule <> 'platform_site' OR s_cust = 0)
);
CREATE TABLE IF NOT EXISTS postings (
    txn INTEGER NOT NULL REFERENCES transactions (txn) DEFERRABLE INITIALLY DEFERRED,
    kind TEXT NOT NULL,
    payer TEXT NOT NULL REFERENCES accounts (name),
    payee TEXT NOT NULL REFERENCES accounts (name),
    amount_cents INTEGER NOT NULL CHECK (typeof(amount_cents) = 'integer' AND amount_cents > 0),
    PRIMARY KEY (txn, kind),
    CHECK (payer <> payee),
    CHECK ({_DIRECTIONS})
);
CREATE VIEW IF NOT EXISTS legs (txn, kind, account, cents) AS
    SELECT txn, kind, payee, amount_cents FROM postings
    UNION ALL SELECT txn, kind, payer, -amount_cents FROM postings;
CREATE TRIGGER IF NOT EXISTS transaction_matches_its_postings BEFORE INSERT ON transactions
WHEN NEW.posting_count <> (SELECT COUNT(*) FROM postings WHERE txn = NEW.txn)
  OR NEW.posted_cents <> (SELECT COALESCE(SUM(amount_cents), 0) FROM postings WHERE txn = NEW.txn)
BEGIN SELECT RAISE(ABORT, 'transaction header does not match its postings'); END;
CREATE TRIGGER IF NOT EXISTS contract_postings BEFORE INSERT ON transactions
WHEN (NEW.contract = 'labor_value' AND ({_SUM.format("'labor', 'spread'")} <> MAX(NEW.value_cents, 0)
        OR {_SUM.format("'spread'")} <> MAX(NEW.value_cents - NEW.parity_cents, 0)
        OR {_SUM.format("'rebate'")} > {_SUM.format("'spread'")} OR {_SUM.format("'units'")} > 0))
  OR (NEW.contract = 'per_clean_unit' AND {_SUM.format("'labor', 'spread', 'rebate'")} > 0)
BEGIN SELECT RAISE(ABORT, 'postings do not follow the contract'); END;
CREATE TRIGGER IF NOT EXISTS transaction_closed BEFORE INSERT ON postings
WHEN EXISTS (SELECT 1 FROM transactions WHERE txn = NEW.txn)
BEGIN SELECT RAISE(ABORT, 'the transaction is closed: postings are added before its header'); END;
CREATE TRIGGER IF NOT EXISTS postings_no_update BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS postings_no_delete BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS transactions_no_update BEFORE UPDATE ON transactions
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS transactions_no_delete BEFORE DELETE ON transactions
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
"""
HEADER_COLUMNS = ("txn", "site", "episode", "contract", "hours", "units", "errors", "implied_wage", "value_cents",
                  "parity_cents", "price_floored", "s_cust", "s_cust_rule", "s_cust_offered", "s_cust_ci_low",
                  "s_cust_ci_high", "s_cust_method", "max_share_interval", "posting_count", "posted_cents")


class LedgerError(V2PError):
    """The ledger file is unreadable, from another version, or refuses an episode."""


@dataclass(frozen=True)
class BookSums:
    """Sums over a selection of transactions (a site, from an episode on): what every investor figure is built of."""

    site: str | None
    first_episode: int | None
    episodes: int
    hours: float
    units: float
    errors: float
    value_cents: int  # Σ ŵ_r·h
    parity_cents: int  # Σ w_h·h
    share_hours: float  # Σ s_cust·h (for the hours-weighted share)
    floored: int  # episodes whose price was floored at 0
    kinds: dict[str, int]  # posting kind -> Σ cents
    balances: dict[str, int]  # account -> Σ legs (received − paid), cents
    rules: dict[str, int]  # pricing rule -> episodes
    contracts: tuple[str, ...]

    def cents(self, kind: str) -> int:
        return self.kinds.get(kind, 0)


class Ledger:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        try:
            self._db = sqlite3.connect(str(path), isolation_level=None)
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "allocations" in tables:
                raise LedgerError(f"{self.path}: a ledger of an older V2P (one row per episode, no postings); "
                                  "start a new run folder")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: not a usable ledger database: {exc}") from None

    # -- writing ---------------------------------------------------------------------------------------------------

    def append(self, site: str, episode: int, books: EpisodeBooks) -> bool:
        """Book one episode in one SQLite transaction. False (nothing written) when it is already booked with the
        same figures; LedgerError when it is booked with others."""
        with self._transaction():
            row = self._db.execute("SELECT txn FROM transactions WHERE site = ? AND episode = ?",
                                   (site, int(episode))).fetchone()
            if row is not None:
                if self._booked(row[0]) != self._as_booked(site, episode, books):
                    raise LedgerError(f"{self.path}: {site} episode {episode} is already booked with other figures")
                return False
            txn = self._db.execute("SELECT COALESCE(MAX(txn), 0) + 1 FROM transactions").fetchone()[0]
            self._insert_postings(txn, books)
            self._insert_header(txn, site, episode, books)
        return True

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _insert_postings(self, txn: int, books: EpisodeBooks) -> None:
        self._db.executemany("INSERT INTO postings (txn, kind, payer, payee, amount_cents) VALUES (?, ?, ?, ?, ?)",
                             [(txn, p.kind, p.payer, p.payee, p.cents) for p in books.postings])

    def _insert_header(self, txn: int, site: str, episode: int, books: EpisodeBooks) -> None:
        s = books.share
        lo, hi = (None, None) if s.interval is None else s.interval
        self._db.execute(
            f"INSERT INTO transactions ({', '.join(HEADER_COLUMNS)}) VALUES ({', '.join('?' * len(HEADER_COLUMNS))})",
            (txn, site, int(episode), books.contract, books.hours, books.units, books.errors, books.implied_wage,
             books.value_cents, books.parity_cents, int(books.price_floored), s.share, s.rule, s.offered, lo, hi,
             s.method, s.max_interval, len(books.postings), sum(p.cents for p in books.postings)))

    def _booked(self, txn: int) -> tuple:
        head = self._db.execute("SELECT site, episode, contract, hours, units, errors, value_cents, parity_cents, "
                                "s_cust, s_cust_rule FROM transactions WHERE txn = ?", (txn,)).fetchone()
        posts = self._db.execute("SELECT kind, amount_cents FROM postings WHERE txn = ? ORDER BY kind", (txn,))
        return tuple(head), tuple(posts.fetchall())

    @staticmethod
    def _as_booked(site: str, episode: int, b: EpisodeBooks) -> tuple:
        head = (site, int(episode), b.contract, b.hours, b.units, b.errors, b.value_cents, b.parity_cents,
                b.share.share, b.share.rule)
        return head, tuple(sorted((p.kind, p.cents) for p in b.postings))

    # -- reading ---------------------------------------------------------------------------------------------------

    @staticmethod
    def _where(site: str | None, first_episode: int | None, alias: str = "") -> tuple[str, tuple]:
        clauses, args = [], []
        if site is not None:
            clauses.append(f"{alias}site = ?")
            args.append(site)
        if first_episode is not None:
            clauses.append(f"{alias}episode >= ?")
            args.append(int(first_episode))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", tuple(args)

    def _read(self, query: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._db.execute(query, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: cannot read the ledger: {exc}") from None

    def episodes(self, site: str | None = None) -> list[int]:
        where, args = self._where(site, None)
        return [r[0] for r in self._read(f"SELECT episode FROM transactions{where} ORDER BY episode", args)]

    def sites(self) -> list[str]:
        return [r[0] for r in self._read("SELECT DISTINCT site FROM transactions ORDER BY site")]

    def sums(self, site: str | None = None, first_episode: int | None = None) -> BookSums:
        """Every sum the investor figures need, over the transactions of `site` from `first_episode` on."""
        where, args = self._where(site, first_episode)
        twhere, _ = self._where(site, first_episode, "t.")
        (n, hours, units, errors, value, parity, share_hours, floored), = self._read(
            "SELECT COUNT(*), COALESCE(SUM(hours), 0), COALESCE(SUM(units), 0), COALESCE(SUM(errors), 0), "
            "COALESCE(SUM(value_cents), 0), COALESCE(SUM(parity_cents), 0), COALESCE(SUM(s_cust * hours), 0), "
            f"COALESCE(SUM(price_floored), 0) FROM transactions{where}", args)
        join = "FROM {} JOIN transactions t USING (txn)" + twhere
        kinds = dict(self._read(f"SELECT kind, SUM(amount_cents) {join.format('postings')} GROUP BY kind", args))
        balances = dict.fromkeys(ACCOUNTS, 0) | dict(
            self._read(f"SELECT account, SUM(cents) {join.format('legs')} GROUP BY account", args))
        rules = dict(self._read(f"SELECT s_cust_rule, COUNT(*) FROM transactions{where} GROUP BY s_cust_rule", args))
        contracts = tuple(r[0] for r in self._read(
            f"SELECT DISTINCT contract FROM transactions{where} ORDER BY contract", args))
        return BookSums(site, first_episode, n, hours, units, errors, value, parity, share_hours, floored, kinds,
                        balances, rules, contracts)

    def rows(self) -> list[dict[str, object]]:
        """One dict per booked episode: its header and its cents per posting kind (0 where it has none), plus
        captured_spread_cents = spread − rebate."""
        heads = self._read(f"SELECT {', '.join(HEADER_COLUMNS)} FROM transactions ORDER BY site, episode")
        kinds: dict[int, dict[str, int]] = {}
        for txn, kind, cents in self._read("SELECT txn, kind, amount_cents FROM postings"):
            kinds.setdefault(txn, {})[kind] = cents
        out = []
        for head in heads:
            row = dict(zip(HEADER_COLUMNS, head))
            posted = kinds.get(row["txn"], {})
            row |= {f"{k}_cents": posted.get(k, 0) for k in POSTING_KINDS}
            row["captured_spread_cents"] = row["spread_cents"] - row["rebate_cents"]
            out.append(row)
        return out

    def problems(self) -> list[str]:
        """Everything that keeps the books from balancing, read back from the file (empty: they balance)."""
        found: list[str] = []
        check = [r[0] for r in self._read("PRAGMA integrity_check")]
        if check != ["ok"]:
            found.append(f"SQLite integrity check: {'; '.join(map(str, check[:3]))}")
        for txn, total in self._read("SELECT txn, SUM(cents) FROM legs GROUP BY txn HAVING SUM(cents) <> 0"):
            found.append(f"transaction {txn} sums to {total} cents, not 0")
        for (txn,) in self._read("SELECT DISTINCT txn FROM postings WHERE txn NOT IN (SELECT txn FROM transactions)"):
            found.append(f"postings of transaction {txn} have no header (a partial transaction)")
        bad = self._read(f"SELECT txn, kind FROM postings WHERE NOT (typeof(amount_cents) = 'integer' AND "
                         f"amount_cents > 0 AND payer <> payee AND ({_DIRECTIONS}))")
        found += [f"transaction {txn}: its {kind} posting is not a positive payment in its direction"
                  for txn, kind in bad]
        for row in self.rows():
            where = f"{row['site']} episode {row['episode']} (transaction {row['txn']})"
            posted = [row[f"{k}_cents"] for k in POSTING_KINDS]
            if row["posting_count"] != sum(1 for c in posted if c) or row["posted_cents"] != sum(posted):
                found.append(f"{where}: its header does not match its postings")
            if row["contract"] == "labor_value":
                spread = max(row["value_cents"] - row["parity_cents"], 0)
                billed = row["labor_cents"] + row["spread_cents"]
                if billed != max(row["value_cents"], 0) or row["spread_cents"] != spread:
                    found.append(f"{where}: billed other than the work's value floored at 0")
                if row["rebate_cents"] != split_cents(spread, row["s_cust"])[0]:
                    found.append(f"{where}: rebate is not s_cust × the spread")
            if row["s_cust_rule"] in ("measured", "estimator") and (
                    row["s_cust_ci_low"] is None
                    or row["s_cust_ci_high"] - row["s_cust_ci_low"] > row["max_share_interval"]):
                found.append(f"{where}: priced by a share whose interval is wider than the contract allows")
        (total,), = self._read("SELECT COALESCE(SUM(cents), 0) FROM legs")
        if total != 0:
            found.append(f"the accounts' balances sum to {total} cents, not 0")
        return found

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
