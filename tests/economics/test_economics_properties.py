"""Property tests of the economics core (DESIGN.md's model)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2p.config import EconomicsConfig, SLAConfig
from v2p.economics import (
    DualAscent,
    ShiftTally,
    attribution_shares,
    economic_report,
    implied_wage,
    shift_reward_increment,
    sla_target,
    spread_allocation,
    wage_parity,
)
from v2p.economics.money import to_cents

CFG = EconomicsConfig()
mps = st.floats(0, 400, allow_nan=False)
errs = st.floats(0, 1, allow_nan=False)
shares = st.floats(0, 1, allow_nan=False)
hours = st.floats(0.01, 50, allow_nan=False)


@given(st.floats(-500, 500, allow_nan=False), st.floats(-500, 500, allow_nan=False))
def test_shares_in_unit_interval_and_sum_to_one(d_cust, d_total):
    s_cust, s_plat = attribution_shares(d_cust, d_total)
    assert 0.0 <= s_cust <= 1.0 and 0.0 <= s_plat <= 1.0
    assert s_cust + s_plat == pytest.approx(1.0, abs=1e-15)
    if d_total > 0 and 0 <= d_cust <= d_total:
        assert s_cust == pytest.approx(d_cust / d_total)


@settings(max_examples=10_000, deadline=None)
@given(mps, errs, hours, shares)
def test_rebate_plus_captured_is_positive_spread_to_the_cent(mp, err, h, s_cust):
    a = spread_allocation(implied_wage(mp, err, CFG), h, s_cust, CFG)
    assert a.rebate_cents + a.captured_spread_cents == max(a.spread_value_cents, 0)
    assert a.spread_value_cents == to_cents((implied_wage(mp, err, CFG) - CFG.human_wage) * h)
    assert a.rebate_cents >= 0 and a.captured_spread_cents >= 0


@given(mps, errs)
def test_parity_is_implied_over_human_wage(mp, err):
    r = economic_report(mp, err, 1.0, 0.0, CFG)
    assert r.wage_parity == pytest.approx(r.implied_wage / CFG.human_wage)
    assert wage_parity(r.implied_wage, CFG) == r.wage_parity


def test_seed_operating_point():
    r = economic_report(109, 0.027, 1.0, 0.0, CFG)
    assert r.implied_wage == pytest.approx(29.757, abs=1e-3)
    assert r.wage_parity == pytest.approx(1.653, abs=1e-3)


@given(st.lists(errs, min_size=1, max_size=60))
def test_lambda_never_negative(err_sequence):
    dual = DualAscent(SLAConfig())
    for err in err_sequence:
        assert dual.update(err) >= 0.0


def test_lambda_rises_while_violated_and_decays_to_zero_when_met():
    dual = DualAscent(SLAConfig(error_target=0.06, dual_step_size=5.0))
    previous = dual.lam
    for _ in range(20):
        dual.update(0.15)
        assert dual.lam > previous
        previous = dual.lam
    for _ in range(200):
        dual.update(0.01)
        assert dual.lam <= previous
        previous = dual.lam
    assert dual.lam == 0.0


@given(st.floats(0.07, 0.5), st.floats(0.01, 0.06), st.integers(1, 500))
def test_curriculum_moves_linearly_and_reaches_final_target(start, final, episodes):
    sla = SLAConfig(error_target=final, start_target=start, curriculum_episodes=episodes)
    assert sla_target(0, sla) == pytest.approx(start)
    assert sla_target(episodes, sla) == pytest.approx(final)
    assert sla_target(episodes * 3, sla) == pytest.approx(final)
    mid = sla_target(episodes // 2, sla)
    assert min(start, final) - 1e-12 <= mid <= max(start, final) + 1e-12


@given(st.lists(st.sampled_from(["unit", "error"]), min_size=1, max_size=40), st.floats(0.002, 0.02),
       st.floats(0, 50))
def test_shift_rewards_telescope_to_the_episode_lagrangian(outcomes, cycle_hours, lam):
    shift_hours = len(outcomes) * cycle_hours
    tally, total = ShiftTally(), 0.0
    for outcome in outcomes:
        after = ShiftTally(tally.units + (outcome == "unit"), tally.attempts + 1,
                           tally.errors + (outcome == "error"), tally.hours + cycle_hours)
        total += shift_reward_increment(tally, after, CFG, 0.06, lam, shift_hours)
        tally = after
    mp = tally.units / tally.hours
    err = tally.errors / tally.attempts
    profit = implied_wage(mp, err, CFG) - CFG.energy_cost_per_hour
    assert total == pytest.approx(profit - lam * max(0.0, err - 0.06), rel=1e-9, abs=1e-9)


def test_unit_economics_match_the_design_formulas():
    r = economic_report(109, 0.027, 2.0, 0.25, CFG)
    captured_per_hour = r.allocation.captured_spread / 2.0
    assert r.unit.revenue_per_robot_year == pytest.approx(captured_per_hour * 1000)
    assert r.unit.gross_margin == pytest.approx((r.unit.revenue_per_robot_year - 1700) / r.unit.revenue_per_robot_year)
    assert r.unit.fleet_gross_profit == pytest.approx((r.unit.revenue_per_robot_year - 1700) * 1000)
    assert r.customer.net_cost_per_hour == pytest.approx(18.0 - r.allocation.rebate / 2.0)
    assert r.customer.savings == pytest.approx(r.allocation.rebate / 2.0 / 18.0)


def test_below_parity_gives_no_rebate_and_no_margin():
    r = economic_report(20, 0.05, 1.0, 0.5, CFG)
    assert r.allocation.spread_value < 0
    assert r.allocation.rebate_cents == 0 and r.allocation.captured_spread_cents == 0
    assert r.unit.gross_margin is None
    assert math.isclose(r.customer.net_cost_per_hour, 18.0)
