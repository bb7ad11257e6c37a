"""Every line of the investor table is a sum of ledger postings: recomputed here straight from the SQLite file."""

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2p.config import EconomicsConfig, PlatformConfig
from v2p.economics.contract import episode_books
from v2p.economics.ledger import Ledger
from v2p.economics.pricing import ShareEvidence, price_share
from v2p.economics.report import investor_figures
from v2p.experiments.summary import format_summary, summary_figures

CFG = EconomicsConfig(platform=PlatformConfig(robot_hours_per_year=1800, cost_per_robot_year=2500, fleet_size=40))


def raw_sums(path, site, first):
    db = sqlite3.connect(path)
    where = "WHERE t.site = ? AND t.episode >= ?"
    kinds = dict(db.execute(f"SELECT p.kind, SUM(p.amount_cents) FROM postings p JOIN transactions t "
                            f"USING (txn) {where} GROUP BY p.kind", (site, first)))
    hours, value, parity = db.execute(f"SELECT SUM(hours), SUM(value_cents), SUM(parity_cents) FROM transactions t "
                                      f"{where}", (site, first)).fetchone()
    kinds = {k: kinds.get(k, 0) for k in ("labor", "spread", "units", "rebate", "energy", "capital")}
    return kinds, hours, value, parity


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 40), st.floats(0.05, 3), st.floats(0, 1),
                          st.booleans()), min_size=1, max_size=15), st.integers(0, 14))
def test_the_investor_table_is_the_ledgers_sums(tmp_path_factory, episodes, first):
    path = tmp_path_factory.mktemp("books") / "ledger.sqlite"
    with Ledger(path) as ledger:
        for i, (units, errors, hours, s_cust, narrow) in enumerate(episodes):
            ci = (s_cust - 0.1, s_cust + 0.1) if narrow else (s_cust - 0.3, s_cust + 0.3)
            share = price_share(ShareEvidence(s_cust, "measured", ci, "t"), CFG.contract)
            ledger.append("bistro", i, episode_books(units, errors, hours, share, CFG))
            ledger.append("other", i, episode_books(units + 1, errors, hours, share, CFG))  # never in bistro's table
        if first >= len(episodes):
            return
        f = investor_figures(ledger, CFG, "bistro", first).as_dict()
    k, hours, value, parity = raw_sums(path, "bistro", first)
    revenue = k["labor"] + k["spread"] + k["units"] - k["rebate"]
    costs = k["energy"] + k["capital"]
    cents = {
        "billed": k["labor"] + k["spread"] + k["units"], "rebate": k["rebate"], "platform_revenue": revenue,
        "captured_spread": k["spread"] - k["rebate"], "energy_cost": k["energy"], "capital_cost": k["capital"],
        "gross_profit": revenue - costs, "work_value": value, "labor_parity": parity, "customer_gain": value - revenue,
    }
    for key, expected in cents.items():
        assert round(f[key] * 100) == expected, key
    assert f["hours"] == pytest.approx(hours)
    H, N = 1800, 40
    per_hour = {"platform_revenue_per_robot_hour": revenue, "cost_per_robot_hour": costs,
                "gross_profit_per_robot_hour": revenue - costs, "customer_net_cost_per_hour": revenue,
                "human_cost_per_hour": parity, "customer_gain_per_hour": value - revenue}
    for key, total in per_hour.items():
        assert f[key] == pytest.approx(total / 100 / hours, abs=1e-9), key
    assert f["platform_revenue_per_robot_year"] == pytest.approx(revenue / 100 / hours * H, abs=1e-6)
    assert f["cost_per_robot_year"] == pytest.approx(costs / 100 / hours * H, abs=1e-6)
    assert f["fleet_revenue"] == pytest.approx(revenue / 100 / hours * H * N, abs=1e-4)
    assert f["fleet_gross_profit"] == pytest.approx((revenue - costs) / 100 / hours * H * N, abs=1e-4)
    assert f["gross_margin"] == (None if revenue <= 0 else pytest.approx((revenue - costs) / revenue))
    assert f["balances"]["platform"] == pytest.approx((revenue - costs) / 100)
    assert f["balances"]["customer"] == pytest.approx(-revenue / 100)


def test_the_summary_table_prints_the_books(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        share = price_share(ShareEvidence(0.3, "measured", (0.25, 0.35), "pair"), CFG.contract)
        for i in range(4):
            ledger.append("bistro", 2000 + i, episode_books(30 + i, 1, 0.3, share, CFG))
        books = investor_figures(ledger, CFG, "bistro", 2000)
    figures = summary_figures(books, [], {"fixed_action": {"implied_wage": 25.0}}, CFG)
    text = format_summary(books, figures, CFG)
    assert figures["fixed_action_ratio"] == pytest.approx(books.implied_wage / 25.0)
    assert figures["optimality_ratio"] is None  # no oracle judged these shifts
    for needle in ("Platform revenue", "Captured spread", "Gross margin", "Customer gain",
                   "rebate   platform → customer",
                   "capital  platform → robot_capital", "Fleet (40 robots", "sum over the accounts", "$0.00"):
        assert needle in text, needle
