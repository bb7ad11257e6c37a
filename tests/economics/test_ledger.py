"""The double-entry ledger: every posting and transaction sums to zero, the database refuses what is not a whole,
balanced, contract-following transaction, a crash never leaves a partial episode, and booking is idempotent."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2p.config import ContractConfig, EconomicsConfig
from v2p.economics.contract import ACCOUNTS, POSTING_KINDS, episode_books
from v2p.economics.ledger import Ledger, LedgerError, open_existing_ledger
from v2p.economics.money import split_cents, to_cents
from v2p.economics.pricing import PricedShare, ShareEvidence, price_share

CFG = EconomicsConfig()
PER_UNIT = replace(CFG, contract=ContractConfig(kind="per_clean_unit", price_per_unit=0.27))


def share(s_cust=0.4, cfg=CFG):
    return price_share(ShareEvidence(s_cust, "measured", (s_cust - 0.05, s_cust + 0.05), "test pair"), cfg.contract)


def books(units=20, errors=1, hours=0.2, s_cust=0.4, cfg=CFG):
    return episode_books(units, errors, hours, share(s_cust, cfg), cfg)


def raw(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    return db


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 60), st.floats(0.01, 9), st.floats(0, 1),
                          st.booleans()), min_size=1, max_size=12))
def test_every_transaction_sums_to_zero_and_moves_what_the_contract_says(tmp_path_factory, episodes):
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    with Ledger(path) as ledger:
        for i, (units, errors, hours, s_cust, per_unit) in enumerate(episodes):
            cfg = PER_UNIT if per_unit else CFG
            b = books(units, errors, hours, s_cust, cfg)
            assert sum(b.net_cents(a) for a in ACCOUNTS) == 0
            assert ledger.append("s", i, b)
        assert ledger.problems() == []
    db = raw(path)
    for txn, total in db.execute("SELECT txn, SUM(cents) FROM legs GROUP BY txn"):
        assert total == 0, txn
    assert db.execute("SELECT COUNT(*) FROM postings WHERE amount_cents <= 0 OR payer = payee").fetchone() == (0,)
    for (txn, episode, contract, units, hours, value, parity, s_cust) in db.execute(
            "SELECT txn, episode, contract, units, hours, value_cents, parity_cents, s_cust FROM transactions"):
        got = dict(db.execute("SELECT kind, amount_cents FROM postings WHERE txn = ?", (txn,)).fetchall())
        net = dict(db.execute("SELECT account, SUM(cents) FROM legs WHERE txn = ? GROUP BY account", (txn,)))
        if contract == "labor_value":  # billed ŵ_r·h floored at 0, less s_cust of the spread
            spread = max(value - parity, 0)
            assert got.get("labor", 0) + got.get("spread", 0) == max(value, 0)
            assert got.get("rebate", 0) == split_cents(spread, s_cust)[0]
            paid = max(value, 0) - got.get("rebate", 0)
        else:  # per clean unit, no rebate
            assert got.get("units", 0) == to_cents(0.27 * units) and "rebate" not in got
            paid = got.get("units", 0)
        assert net.get("customer", 0) == -paid
        assert net.get("energy_supplier", 0) == to_cents(0.10 * hours)
        assert net.get("robot_capital", 0) == to_cents(1.7 * hours)
        assert net.get("platform", 0) == paid - to_cents(0.10 * hours) - to_cents(1.7 * hours)


def test_sums_per_site_and_from_an_episode_on(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for i in range(30):
            ledger.append("bistro", i, books(10 + i, i % 3, 0.2, (i % 7) / 7))
        ledger.append("default", 0, books(s_cust=0.0))
        everything, bistro, late = ledger.sums(), ledger.sums("bistro"), ledger.sums("bistro", 20)
    assert (everything.episodes, bistro.episodes, late.episodes) == (31, 30, 10)
    assert late.cents("labor") == sum(books(10 + i, i % 3, 0.2, (i % 7) / 7).cents("labor") for i in range(20, 30))
    assert bistro.rules == {"measured": 30} and sum(bistro.balances.values()) == 0
    assert bistro.balances["customer"] == -sum(books(10 + i, i % 3, 0.2, (i % 7) / 7).billed_cents
                                              - books(10 + i, i % 3, 0.2, (i % 7) / 7).cents("rebate")
                                              for i in range(30))


def test_booking_is_idempotent_per_site_and_episode(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        assert ledger.append("s", 1, books()) is True
        assert ledger.append("s", 1, books()) is False  # the same episode again: nothing written
        assert ledger.append("t", 1, books()) is True  # another site's episode 1
        with pytest.raises(LedgerError, match="already booked with other figures"):
            ledger.append("s", 1, books(units=21))
        assert ledger.episodes("s") == [1] and ledger.sums().episodes == 2 and ledger.problems() == []


@pytest.mark.parametrize("sql,message", [
    ("INSERT INTO postings VALUES (99, 'labor', 'customer', 'platform', -5)", "CHECK"),
    ("INSERT INTO postings VALUES (99, 'labor', 'customer', 'platform', 0)", "CHECK"),
    ("INSERT INTO postings VALUES (99, 'labor', 'customer', 'platform', 5.5)", "CHECK"),
    ("INSERT INTO postings VALUES (99, 'labor', 'platform', 'customer', 5)", "CHECK"),  # the wrong direction
    ("INSERT INTO postings VALUES (99, 'labor', 'customer', 'customer', 5)", "CHECK"),
    ("INSERT INTO postings VALUES (99, 'tip', 'customer', 'platform', 5)", "CHECK"),
    ("INSERT INTO postings VALUES (1, 'units', 'customer', 'platform', 5)", "closed"),  # into a booked transaction
    ("UPDATE postings SET amount_cents = amount_cents + 1", "append-only"),
    ("DELETE FROM postings", "append-only"),
    ("UPDATE transactions SET s_cust = 0.9", "append-only"),
    ("DELETE FROM transactions", "append-only"),
])
def test_the_database_refuses_what_would_unbalance_the_books(tmp_path, sql, message):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.append("s", 0, books())
    db = raw(path)
    with pytest.raises(sqlite3.DatabaseError, match=message):
        db.execute(sql)
    with open_existing_ledger(path) as ledger:
        assert ledger.problems() == [] and ledger.sums().episodes == 1


def test_postings_need_a_header_that_matches_them(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    db = raw(path)
    db.execute("BEGIN")
    db.execute("INSERT INTO postings VALUES (7, 'energy', 'platform', 'energy_supplier', 2)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):  # a partial transaction cannot commit
        db.execute("COMMIT")
    db.execute("ROLLBACK")
    b = books()
    columns = "(txn, site, episode, contract, hours, units, errors, implied_wage, value_cents, parity_cents, " \
              "price_floored, s_cust, s_cust_rule, s_cust_method, max_share_interval, posting_count, posted_cents)"
    db.execute("BEGIN")
    for p in b.postings:
        db.execute("INSERT INTO postings VALUES (1, ?, ?, ?, ?)", (p.kind, p.payer, p.payee, p.cents))
    total = sum(p.cents for p in b.postings)
    head = (1, "s", 0, "labor_value", b.hours, b.units, b.errors, b.implied_wage, b.value_cents, b.parity_cents, 0,
            0.0, "contract_default", "m", 0.3)
    with pytest.raises(sqlite3.IntegrityError, match="does not match its postings"):
        db.execute(f"INSERT INTO transactions {columns} VALUES ({', '.join('?' * 17)})",
                   head + (len(b.postings), total + 1))
    with pytest.raises(sqlite3.IntegrityError, match="follow the contract"):  # a bill other than ŵ_r·h
        db.execute(f"INSERT INTO transactions {columns} VALUES ({', '.join('?' * 17)})",
                   head[:8] + (b.value_cents + 3,) + head[9:] + (len(b.postings), total))
    db.execute("ROLLBACK")


def test_no_share_is_booked_from_an_interval_wider_than_the_contract_allows(tmp_path):
    wide = PricedShare(0.4, "measured", (0.1, 0.6), "forged", 0.4, 0.30)  # bypassing price_share
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            ledger.append("s", 0, episode_books(20, 1, 0.2, wide, CFG))
        no_interval = PricedShare(0.4, "estimator", None, "forged", 0.4, 0.30)
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            ledger.append("s", 0, episode_books(20, 1, 0.2, no_interval, CFG))
        assert ledger.sums().episodes == 0


def test_an_error_mid_episode_rolls_the_whole_episode_back(tmp_path, monkeypatch):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.append("s", 0, books())

        def fail(*_args):
            raise OSError("disk full")

        monkeypatch.setattr(ledger, "_insert_header", fail)
        with pytest.raises(OSError):
            ledger.append("s", 1, books())
        monkeypatch.undo()
        assert ledger.episodes() == [0] and ledger.problems() == []
        assert ledger.append("s", 1, books())  # the ledger is still usable


CRASH = """
import os, signal, sys
from v2p.config import EconomicsConfig
from v2p.economics.contract import episode_books
from v2p.economics.ledger import Ledger
from v2p.economics.pricing import ShareEvidence, price_share
cfg = EconomicsConfig()
share = price_share(ShareEvidence(0.3, "measured", (0.25, 0.35), "t"), cfg.contract)
ledger = Ledger({path!r})
{setup}
for i in range(100000):
    ledger.append("s", i, episode_books(20 + i % 5, 1, 0.2, share, cfg))
    if i == 20:
        print("ready", flush=True)
"""


def test_killed_writer_leaves_only_whole_episodes(tmp_path):
    path = tmp_path / "ledger.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", CRASH.format(path=str(path), setup="")], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with open_existing_ledger(path) as ledger:
        episodes = ledger.episodes()
        assert episodes == list(range(len(episodes))) and len(episodes) > 20
        assert ledger.problems() == []


def test_a_crash_between_the_postings_and_the_header_leaves_no_partial_transaction(tmp_path):
    """The writer dies (SIGKILL) inside episode 5's transaction, its postings written, its header not."""
    path = tmp_path / "ledger.sqlite"
    setup = textwrap.dedent("""
        insert_header = ledger._insert_header
        def dying(txn, site, episode, books):
            if episode == 5:
                os.kill(os.getpid(), signal.SIGKILL)
            insert_header(txn, site, episode, books)
        ledger._insert_header = dying
    """)
    proc = subprocess.run([sys.executable, "-c", CRASH.format(path=str(path), setup=setup)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    db = raw(path)
    orphans = "SELECT COUNT(*) FROM postings WHERE txn NOT IN (SELECT txn FROM transactions)"
    assert db.execute(orphans).fetchone() == (0,)
    with open_existing_ledger(path) as ledger:
        assert ledger.episodes() == [0, 1, 2, 3, 4] and ledger.problems() == []


def test_tampering_is_found_by_reading_the_books_back(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        for i in range(3):
            ledger.append("s", i, books())
    db = raw(path)
    db.execute("DROP TRIGGER postings_no_update")
    db.execute("UPDATE postings SET amount_cents = amount_cents + 1 WHERE kind = 'rebate' AND txn = 2")
    with open_existing_ledger(path) as ledger:
        problems = ledger.problems()
    assert any("header does not match" in p for p in problems) and any("rebate" in p for p in problems)


def test_missing_corrupt_or_old_ledger_is_a_clear_error(tmp_path):
    with pytest.raises(LedgerError, match="no ledger"):
        open_existing_ledger(tmp_path / "nope.sqlite")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerError, match="bad.sqlite"):
        Ledger(bad)
    old = tmp_path / "old.sqlite"
    sqlite3.connect(old).execute("CREATE TABLE allocations (episode INTEGER)")
    with pytest.raises(LedgerError, match="older V2P"):
        Ledger(old)


def test_posting_kinds_name_their_payer_and_payee():
    assert set(ACCOUNTS) == {"customer", "platform", "energy_supplier", "robot_capital"}
    assert all(payer != payee and {payer, payee} <= set(ACCOUNTS) for payer, payee in POSTING_KINDS.values())
