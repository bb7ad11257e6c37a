"""A run's books (ledger + episodes.csv + summary.json): `books_balanced` and `v2p ledger`."""

import csv
import json
from dataclasses import replace

from v2p.cli import main
from v2p.config import ContractConfig, EconomicsConfig
from v2p.economics.accounts import (
    CSV_NAME,
    LEDGER_NAME,
    SUMMARY_NAME,
    EpisodeAccounts,
    books_balanced,
    read_episode_csv,
)
from v2p.economics.ledger import open_existing_ledger
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.pricing import PLATFORM_SITE, ShareEvidence, price_share
from v2p.economics.report import MONEY_KEYS, investor_figures
from v2p.task.events import SimEvent

CFG = EconomicsConfig()


def _episodes(site, n, evidence, cfg=CFG, first=0):
    monitor = EconomicsMonitor(cfg, price_share(evidence, cfg.contract))
    out = []
    for ep in range(first, first + n):
        t = 0.0
        monitor.on_event(SimEvent(ep, "episode_start", t))
        for i in range(12):
            t += 27.0 + ep % 50
            monitor.on_event(SimEvent(ep, "unit" if (i + ep) % 9 else "broken", t, i, "plate"))
        out.append(monitor.on_event(SimEvent(ep, "episode_end", t, episode_hours=t / 3600)))
    return out


def _run(tmp_path, cfg=CFG):
    accounts = EpisodeAccounts(tmp_path, cfg)
    for ep in _episodes("default", 5, PLATFORM_SITE, cfg):
        accounts.record("default", ep)
    narrow = ShareEvidence(0.37, "measured", (0.30, 0.44), "pair over 4 seeds")
    for ep in _episodes("customer_bistro", 7, narrow, cfg, first=1000):
        accounts.record("customer_bistro", ep)
    accounts.close()


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_the_books_balance_and_the_ledger_command_prints_every_account(tmp_path, capsys):
    _run(tmp_path)
    check = books_balanced(tmp_path)
    assert check.books_balanced, check.problems
    assert check.episodes == {"customer_bistro": 7, "default": 5} and check.csv_episodes == 12
    assert all(sum(b.values()) == 0 for b in check.balances.values())
    rows = read_episode_csv(tmp_path / CSV_NAME)
    assert {r["s_cust_rule"] for r in rows if r["site"] == "default"} == {"platform_site"}
    assert {r["s_cust_rule"] for r in rows if r["site"] == "customer_bistro"} == {"measured"}
    assert all(float(r["rebate"]) == 0 for r in rows if r["site"] == "default")
    assert main(["ledger", "--run", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["books_balanced"] is True
    bistro = out["customer_position"]["customer_bistro"]
    rebate = sum(round(float(r["rebate"]) * 100) for r in rows if r["site"] == "customer_bistro")
    assert bistro["gain_cents"] == rebate > 0  # above parity, a value-priced customer gains exactly its rebate
    assert bistro["net_paid_cents"] == -out["balances_cents"]["customer_bistro"]["customer"]
    assert main(["ledger", "--run", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    for word in ("customer", "platform", "energy_supplier", "robot_capital", "a human", "books balanced"):
        assert word in text


def test_a_tampered_csv_unbalances_the_books(tmp_path, capsys):
    _run(tmp_path)
    rows = read_episode_csv(tmp_path / CSV_NAME)
    rows[7]["rebate"] = f"{float(rows[7]['rebate']) + 0.01:.2f}"  # one cent more rebate than the ledger holds
    _write_csv(tmp_path / CSV_NAME, rows)
    check = books_balanced(tmp_path)
    assert not check.books_balanced and any("rebate" in p for p in check.problems)
    assert main(["ledger", "--run", str(tmp_path)]) == 1
    assert "NOT balanced" in capsys.readouterr().out


def test_a_csv_behind_the_ledger_is_caught_up_by_recording_again(tmp_path):
    """A crash after the ledger's commit and before the CSV row: the books say so; recording the episode again
    (a restarted node) books nothing twice and appends the missing row."""
    _run(tmp_path)
    rows = read_episode_csv(tmp_path / CSV_NAME)
    _write_csv(tmp_path / CSV_NAME, rows[:-1])
    check = books_balanced(tmp_path)
    assert not check.books_balanced and any("lacks 1 episode" in p for p in check.problems)
    last = _episodes("customer_bistro", 7, ShareEvidence(0.37, "measured", (0.30, 0.44), "pair over 4 seeds"),
                     first=1000)[-1]
    accounts = EpisodeAccounts(tmp_path, CFG)
    assert accounts.record("customer_bistro", last) is False  # already booked
    assert accounts.record("customer_bistro", last) is False
    accounts.close()
    assert books_balanced(tmp_path).books_balanced
    assert len(read_episode_csv(tmp_path / CSV_NAME)) == len(rows)


def test_the_summary_must_equal_the_ledgers_sums_to_the_cent(tmp_path):
    _run(tmp_path)
    with open_existing_ledger(tmp_path / LEDGER_NAME) as ledger:
        summary = investor_figures(ledger, CFG, "customer_bistro", 1000).as_dict()
    (tmp_path / SUMMARY_NAME).write_text(json.dumps(summary))
    check = books_balanced(tmp_path)
    assert check.books_balanced and check.summary_checked, check.problems
    for key in ("rebate", "platform_revenue_per_robot_year", "fleet_gross_profit"):
        forged = dict(summary, **{key: summary[key] + 0.01})
        (tmp_path / SUMMARY_NAME).write_text(json.dumps(forged))
        problems = books_balanced(tmp_path).problems
        assert len(problems) == 1 and key in problems[0]
    assert set(MONEY_KEYS) <= set(summary)


def test_the_per_unit_contract_books_balance(tmp_path):
    cfg = replace(CFG, contract=ContractConfig(kind="per_clean_unit", price_per_unit=0.25))
    _run(tmp_path, cfg)
    assert books_balanced(tmp_path).books_balanced
    rows = [r for r in read_episode_csv(tmp_path / CSV_NAME) if r["site"] == "customer_bistro"]
    assert all(r["contract"] == "per_clean_unit" and float(r["rebate"]) == 0 for r in rows)
    assert all(round(float(r["billed"]) * 100) == round(0.25 * int(r["units"]) * 100) for r in rows)


def test_ledger_command_names_a_missing_run(tmp_path, capsys):
    assert main(["ledger", "--run", str(tmp_path / "nope")]) == 2
    assert "no ledger" in capsys.readouterr().err
