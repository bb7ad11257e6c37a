"""Property tests of the economics core (DESIGN.md's model)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2p.config import EconomicsConfig, SLAConfig
from v2p.economics import (
    DualAscent,
    ShareEvidence,
    attribution_shares,
    economic_report,
    errors_per_hour_at,
    implied_wage,
    profit_per_hour,
    sla_target,
    spread_allocation,
    wage_parity,
)
from v2p.economics.money import to_cents
from v2p.economics.reward import combine, reward_parts, reward_weights

CFG = EconomicsConfig()
mps = st.floats(0, 400, allow_nan=False)
errs = st.floats(0, 0.99, allow_nan=False)  # per attempt; at 1 no clean unit is left to count errors per hour from
shares = st.floats(0, 1, allow_nan=False)
hours = st.floats(0.01, 50, allow_nan=False)


@given(st.floats(-500, 500, allow_nan=False), st.floats(-500, 500, allow_nan=False))
def test_shares_in_unit_interval_and_sum_to_one(d_cust, d_total):
    s_cust, s_plat = attribution_shares(d_cust, d_total)
    assert 0.0 <= s_cust <= 1.0 and 0.0 <= s_plat <= 1.0
    assert s_cust + s_plat == pytest.approx(1.0, abs=1e-15)
    if d_total > 0 and 0 <= d_cust <= d_total:
        assert s_cust == pytest.approx(d_cust / d_total)


def wage(mp, err):
    return implied_wage(mp, errors_per_hour=errors_per_hour_at(mp, err), cfg=CFG)


def measured(s_cust):
    """A share measured precisely enough to price (its interval well inside the contract's limit)."""
    return ShareEvidence(s_cust, "measured", (s_cust - 0.01, s_cust + 0.01), "test")


@settings(max_examples=10_000, deadline=None)
@given(mps, errs, hours, shares)
def test_rebate_plus_captured_is_positive_spread_to_the_cent(mp, err, h, s_cust):
    a = spread_allocation(wage(mp, err), h, s_cust, CFG)
    assert a.rebate_cents + a.captured_spread_cents == max(a.spread_value_cents, 0)
    # value and parity are each rounded once, so the bill (parity + spread) is the value exactly ...
    assert a.value_cents == to_cents(wage(mp, err) * h) and a.parity_cents == to_cents(CFG.human_wage * h)
    assert a.spread_value_cents == a.value_cents - a.parity_cents
    # ... and the spread is within a cent of (ŵ − w_h)·h
    assert abs(a.spread_value_cents - to_cents((wage(mp, err) - CFG.human_wage) * h)) <= 1
    assert a.rebate_cents >= 0 and a.captured_spread_cents >= 0


@given(st.integers(0, 5000), st.integers(0, 500), hours)
def test_errors_are_priced_per_error_from_the_counts(units, errors, h):
    """ŵ from counted errors per hour equals ŵ of the same shift given as (MP, errors per attempt)."""
    mp, eph = units / h, errors / h
    counted = implied_wage(mp, errors_per_hour=eph, cfg=CFG)
    assert counted == pytest.approx(CFG.unit_price * units / h - CFG.error_cost * errors / h, abs=1e-9)
    if units > 0:  # the rate form needs a clean unit to count from
        err = errors / (units + errors)
        assert implied_wage(mp, errors_per_hour=errors_per_hour_at(mp, err), cfg=CFG) == pytest.approx(counted,
                                                                                                     abs=1e-9)


@given(mps, errs)
def test_parity_is_implied_over_human_wage(mp, err):
    r = economic_report(mp, err, 1.0, None, CFG).as_dict()
    assert r["wage_parity"] == pytest.approx(r["implied_wage"] / CFG.human_wage)
    assert wage_parity(r["implied_wage"], CFG) == r["wage_parity"]


def test_seed_operating_point():
    """MP 109/h at 2.7% errors per attempt: 3.0247 errors/h, ŵ = 32.70 − 3.0247 = $29.675/h (DESIGN.md)."""
    r = economic_report(109, 0.027, 1.0, None, CFG).as_dict()
    assert r["errors_per_hour"] == pytest.approx(0.027 * 109 / 0.973, rel=1e-12)
    assert r["implied_wage"] == pytest.approx(29.675, abs=1e-3)
    assert r["wage_parity"] == pytest.approx(1.649, abs=1e-3)
    assert r["profit"] == pytest.approx(r["implied_wage"] - 0.10 - 1700 / 1000, abs=1e-12)  # ŵ − energy − K/H


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
       st.floats(0, 50), st.floats(0, 80))
def test_a_shifts_reward_parts_sum_to_its_wage_against_the_going_rate(outcomes, cycle_hours, lam, rate):
    shift_hours = len(outcomes) * cycle_hours
    parts = [reward_parts(int(o == "unit"), int(o == "error"), cycle_hours, shift_hours, CFG) for o in outcomes]
    total = sum(combine(p, reward_weights(rate, lam, 0.06)) for p in parts)
    units, errors = outcomes.count("unit"), outcomes.count("error")
    wage = implied_wage(units / shift_hours, errors_per_hour=errors / shift_hours, cfg=CFG)
    err = errors / len(outcomes)  # equal cycle times: the time-weighted error rate is the per-attempt one
    assert total == pytest.approx(wage - rate - lam * (err - 0.06), rel=1e-9, abs=1e-9)


def test_unit_economics_match_the_design_formulas():
    """Value pricing with a data rebate over one robot-year at the seed's point, s_cust 25%."""
    h = CFG.platform.robot_hours_per_year
    r = economic_report(109, 0.027, h, measured(0.25), CFG).as_dict()
    w, s = r["implied_wage"], r["implied_wage"] - 18.0
    cents = 0.01 / h  # one cent over the year, per hour
    assert r["billed"] == pytest.approx(w * h, abs=0.01)  # billed ŵ_r per robot-hour
    assert r["rebate"] == pytest.approx(0.25 * s * h, abs=0.01)
    assert r["platform_revenue_per_robot_hour"] == pytest.approx(18.0 + 0.75 * s, abs=2 * cents)  # parity + captured
    assert r["captured_spread"] == pytest.approx(0.75 * s * h, abs=0.02)
    assert r["platform_revenue_per_robot_year"] == pytest.approx(r["platform_revenue_per_robot_hour"] * h)
    revenue = r["platform_revenue_per_robot_year"]
    assert r["cost_per_robot_year"] == pytest.approx(1700 + 0.10 * h)
    assert r["gross_margin"] == pytest.approx((revenue - 1700 - 0.10 * h) / revenue)
    assert r["fleet_revenue"] == pytest.approx(revenue * 1000) and r["fleet_cost"] == pytest.approx((1700 + 100) * 1000)
    assert r["fleet_gross_profit"] == pytest.approx((revenue - 1700 - 0.10 * h) * 1000)
    assert r["customer_net_cost_per_hour"] == pytest.approx(w - 0.25 * s, abs=2 * cents)
    assert r["customer_gain"] == pytest.approx(r["rebate"], abs=1e-9)  # its gain over a human at w_h is its rebate


def test_below_parity_bills_the_value_with_no_rebate():
    r = economic_report(70, 0.05, 1.0, measured(0.5), CFG).as_dict()
    w = 0.3 * 70 - 1.0 * 0.05 * 70 / 0.95
    assert 0 < w < 18 and r["spread_value"] < 0
    assert r["rebate"] == 0 and r["captured_spread"] == 0 and "spread" not in r["postings"]
    assert r["billed"] == pytest.approx(w, abs=0.005) and r["customer_gain"] == pytest.approx(0.0, abs=1e-9)
    assert r["gross_margin"] == pytest.approx((r["billed"] - 1.8) / r["billed"])
    assert r["price_floored_episodes"] == 0


def test_a_negative_value_is_billed_at_zero_and_says_so():
    r = economic_report(20, 0.5, 1.0, measured(0.5), CFG).as_dict()
    assert r["implied_wage"] == pytest.approx(0.3 * 20 - 20.0) and r["price_floored_episodes"] == 1
    assert r["billed"] == 0 and r["postings"] == {"energy": 0.10, "capital": 1.70}
    assert r["gross_margin"] is None and r["gross_profit"] == pytest.approx(-1.80)
    assert math.isclose(r["customer_gain"], r["work_value"])  # the customer bears the negative value
