import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from v2p.config import EconomicsConfig
from v2p.economics.ledger import Ledger, LedgerEntry, LedgerError, open_existing_ledger
from v2p.economics.spread import spread_allocation

CFG = EconomicsConfig()


def _entry(episode, site="customer_bistro", wage=29.0, s_cust=0.4):
    return LedgerEntry(episode, site, 0.2, 20, 21, 1, spread_allocation(wage, 0.2, s_cust, CFG), "counterfactual")


def test_totals_reconcile_to_the_cent(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for i in range(50):
            ledger.append(_entry(i, wage=10 + i * 0.737, s_cust=(i % 7) / 7))
        ledger.append(_entry(0, site="default", s_cust=0.0))
        totals = {t.site: t for t in ledger.totals()}
    bistro = totals["customer_bistro"]
    assert bistro.episodes == 50 and bistro.reconciles
    expected = sum(max(spread_allocation(10 + i * 0.737, 0.2, 0, CFG).spread_value_cents, 0) for i in range(50))
    assert bistro.positive_spread_cents == expected


def test_duplicate_episode_is_refused_and_leaves_ledger_unchanged(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.append(_entry(1))
        with pytest.raises(sqlite3.IntegrityError):
            ledger.append(_entry(1))
        assert ledger.episodes() == [1]


def test_killed_writer_leaves_only_whole_episodes(tmp_path):
    path = tmp_path / "ledger.sqlite"
    script = textwrap.dedent(f"""
        import os, sys
        from v2p.config import EconomicsConfig
        from v2p.economics.ledger import Ledger, LedgerEntry
        from v2p.economics.spread import spread_allocation
        ledger = Ledger({str(path)!r})
        for i in range(100000):
            ledger.append(LedgerEntry(i, "s", 0.2, 20, 21, 1, spread_allocation(29.0, 0.2, 0.3, EconomicsConfig()),
                                      "estimator"))
            if i == 20:
                print("ready", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ledger = open_existing_ledger(path)
    episodes = ledger.episodes()
    assert episodes == list(range(len(episodes))) and len(episodes) > 20
    assert all(t.reconciles for t in ledger.totals())


def test_missing_or_corrupt_ledger_is_a_clear_error(tmp_path):
    with pytest.raises(LedgerError, match="no ledger"):
        open_existing_ledger(tmp_path / "nope.sqlite")
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerError, match="bad.sqlite"):
        Ledger(bad)
