"""`v2p demo` end to end on a shrunken budget: every phase through the ROS 2 graph (video by default), the summary's
figures checked against each other and the books, and a second call on the finished run folder reporting the same
figures without new shifts."""

from __future__ import annotations

import json
import sys

import pytest

from v2p.config import EconomicsConfig
from v2p.economics.accounts import CSV_NAME, read_episode_csv
from v2p.experiments.demo import FIRST_EPISODE, PHASES

pytestmark = [pytest.mark.ros, pytest.mark.slow]

V2P = [sys.executable, "-m", "v2p.cli"]
ECON_KEYS = {"mp", "err_rate", "implied_wage", "wage_parity", "profit", "spread", "s_cust", "s_plat"}
NEW_KEYS = {"encoder", "oracle_implied_wage", "optimality_ratio", "optimality_ci", "fixed_action_implied_wage",
            "books_balanced", "contract", "s_cust_ci", "s_cust_rule", "ci_method", "phase_seconds",
            "s_cust_predicted", "s_cust_predicted_interval", "mp_ci", "err_rate_ci", "implied_wage_ci"}


def test_a_shrunken_demo_runs_every_phase_balances_its_books_and_reports_again_unchanged(ros_env, processes, tmp_path):
    run = tmp_path / "run"
    argv = V2P + ["demo", "--scale", "0.1", "--run", str(run), "--cache", str(tmp_path / "cache"), "--json"]
    demo = processes.start(argv, "demo")
    assert demo.wait(timeout=1500) == 0, demo.output()
    figures = json.loads(demo.output().strip().splitlines()[-1])
    assert ECON_KEYS | NEW_KEYS | {"sla_met"} <= set(figures), sorted(NEW_KEYS - set(figures))
    assert figures["encoder"] == "streaming" and figures["site"] == "customer_bistro"
    assert figures["books_balanced"] is True and figures["contract"] == "labor_value"
    assert sum(figures["balances"].values()) == pytest.approx(0.0, abs=1e-9)
    # the SLA verdict is the error rate against e*; the ratio is the policy's wage over the oracle's
    assert figures["sla_met"] == (figures["err_rate"] <= EconomicsConfig().sla.error_target)
    assert figures["optimality_ratio"] == pytest.approx(figures["implied_wage"] / figures["oracle_implied_wage"])
    ci = figures["optimality_ci"]  # None only where resampled oracle shifts earned nothing (a shrunken oracle)
    assert (ci is None or ci[0] <= ci[1]) and "bootstrap" in figures["optimality_method"]
    assert figures["mp_ci"][0] <= figures["mp_ci"][1] and figures["interval_shifts"] == figures["episodes"] >= 2
    # the measured share prices the deploy shifts only when its interval is narrow enough; none is "uncalibrated"
    assert figures["s_cust_rule"] in {"measured", "contract_default"} and figures["ci_method"]
    assert set(figures["s_cust_rules"]) <= {"measured", "contract_default"}
    assert set(figures["customer_phase_rules"]) <= {"estimator", "contract_default"}
    assert set(figures["phase_seconds"]) == set(PHASES) and all(s >= 0 for s in figures["phase_seconds"].values())
    state = json.loads((run / "state.json").read_text())
    assert state["done"] == list(PHASES)
    # the oracle was judged on the deploy shifts' own seeds (demo seed 0 + episode), paired shift by shift
    assert [s[0] for s in state["yardstick"]["oracle_shifts"]] == [s[0] for s in state["yardstick"]["policy_shifts"]]
    rows = read_episode_csv(run / CSV_NAME)
    deploy = sorted(int(r["episode"]) for r in rows if int(r["episode"]) >= FIRST_EPISODE["deploy"])
    assert [s[0] for s in state["yardstick"]["policy_shifts"]] == deploy
    sites = [r["site"] for r in rows]
    assert sites.count("default") >= 2 and sites.count("customer_bistro") >= 4  # platform; customer + deploy
    assert (run / "plots").is_dir() and any((run / "plots").glob("*.png"))

    again = processes.start(argv, "demo_again")  # the finished run: nothing left to do, the same figures
    assert again.wait(timeout=300) == 0, again.output()
    assert json.loads(again.output().strip().splitlines()[-1]) == figures
    assert len(read_episode_csv(run / CSV_NAME)) == len(rows)
