"""`v2p demo` end to end on a shrunken budget: every phase through the ROS 2 graph, the summary's JSON keys, the
books balanced, and a second call on the finished run folder reporting the same figures without new shifts."""

from __future__ import annotations

import json
import sys

import pytest

from v2p.economics.accounts import CSV_NAME, read_episode_csv

pytestmark = [pytest.mark.ros, pytest.mark.slow]

V2P = [sys.executable, "-m", "v2p.cli"]
ECON_KEYS = {"mp", "err_rate", "implied_wage", "wage_parity", "profit", "spread", "s_cust", "s_plat"}


def test_a_shrunken_demo_runs_every_phase_balances_its_books_and_reports_again_unchanged(ros_env, processes, tmp_path):
    run = tmp_path / "run"
    argv = V2P + ["demo", "--scale", "0.1", "--run", str(run), "--json"]
    demo = processes.start(argv, "demo")
    assert demo.wait(timeout=900) == 0, demo.output()
    figures = json.loads(demo.output().strip().splitlines()[-1])
    assert ECON_KEYS | {"sla_met", "best_feasible_implied_wage", "optimality_ratio"} <= set(figures), figures
    assert figures["books_balanced"] is True and figures["site"] == "customer_bistro"
    assert set(figures["s_cust_rules"]) <= {"measured", "contract_default"}  # the measured share, if precise enough
    assert sum(figures["balances"].values()) == pytest.approx(0.0, abs=1e-9)
    state = json.loads((run / "state.json").read_text())
    assert state["done"] == ["frontier", "platform", "customer", "learn", "attribute", "deploy"]
    rows = read_episode_csv(run / CSV_NAME)
    sites = [r["site"] for r in rows]
    assert sites.count("default") >= 3 and sites.count("customer_bistro") >= 3  # platform; customer + deploy
    assert (run / "plots").is_dir() and any((run / "plots").glob("*.png"))

    again = processes.start(argv, "demo_again")  # the finished run: nothing left to do, the same figures
    assert again.wait(timeout=300) == 0, again.output()
    assert json.loads(again.output().strip().splitlines()[-1]) == figures
    assert len(read_episode_csv(run / CSV_NAME)) == len(rows)
