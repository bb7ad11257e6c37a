"""The statistics of a measured s_cust: Fieller's interval for the ratio, the t interval of ΔMPL_cust, and the
contract's rule that decides which share prices the customer's episodes."""

import math
from dataclasses import replace

import numpy as np
import pytest

from v2p.config import EconomicsConfig
from v2p.experiments.attribution import fieller_interval, report_lines, summarize
from v2p.experiments.pair import SeedMeasurement
from v2p.experiments.stats import t_quantile_95

ECON = EconomicsConfig()


def _seeds(reference: float, without: list[float], with_: list[float]) -> list[SeedMeasurement]:
    return [SeedMeasurement(i, reference, wo, wi) for i, (wo, wi) in enumerate(zip(without, with_))]


def test_fieller_is_the_set_of_ratios_a_paired_t_test_does_not_reject():
    rng = np.random.default_rng(3)
    a, b = rng.normal(10.0, 3.0, 6), rng.normal(40.0, 4.0, 6)
    low, high = fieller_interval(a, b)
    t = t_quantile_95(5)

    def accepted(theta: float) -> bool:
        d = a - theta * b
        return abs(d.mean()) / (d.std(ddof=1) / math.sqrt(d.size)) <= t

    assert low < a.mean() / b.mean() < high
    for theta in np.linspace(low - 0.5, high + 0.5, 401):
        if abs(theta - low) > 1e-6 and abs(theta - high) > 1e-6:
            assert accepted(theta) == (low < theta < high), theta


def test_fieller_widens_with_the_denominators_noise_and_is_unbounded_without_a_significant_total_gain():
    a = np.array([10.0, 12.0, 9.0, 11.0])
    steady, noisy = np.array([40.0, 41.0, 39.0, 40.0]), np.array([30.0, 50.0, 35.0, 45.0])
    w_steady, w_noisy = (np.subtract(*fieller_interval(a, b)[::-1]) for b in (steady, noisy))
    assert w_noisy > w_steady
    assert fieller_interval(a, np.array([5.0, -4.0, 6.0, -5.0])) is None
    with pytest.raises(ValueError, match="paired"):
        fieller_interval([1.0], [2.0])


def test_a_steady_pair_is_priced_at_its_measured_share_with_its_method_named():
    a = summarize("customer_bistro", _seeds(60.0, [80.0, 81.0, 79.5, 80.5], [90.0, 90.5, 89.0, 91.0]), ECON)
    assert a.delta_mpl_cust == pytest.approx(9.875) and a.delta_mpl_total == pytest.approx(30.125)
    assert a.s_cust == pytest.approx(9.875 / 30.125)
    assert a.s_cust_ci[0] < a.s_cust < a.s_cust_ci[1] and a.s_cust_ci[1] - a.s_cust_ci[0] < 0.30
    assert a.s_cust_rule == "measured" and a.priced.share == pytest.approx(a.s_cust)
    assert "Fieller" in a.ci_method and "4 seeds" in a.ci_method
    d = a.as_dict()
    assert {"s_cust", "s_cust_ci", "s_cust_rule", "ci_method", "s_cust_priced"} <= set(d)
    assert any("priced at s_cust" in line and "measured" in line for line in report_lines(a))


def test_a_share_whose_interval_is_wider_than_the_contracts_limit_is_priced_at_the_contracts_default():
    econ = replace(ECON, contract=replace(ECON.contract, default_customer_share=0.05))
    a = summarize("customer_bistro", _seeds(60.0, [70.0, 90.0, 75.0, 88.0], [90.0, 85.0, 95.0, 80.0]), econ)
    assert a.s_cust_ci is not None and a.s_cust_ci[1] - a.s_cust_ci[0] > 0.30
    assert a.s_cust_rule == "contract_default" and a.priced.share == 0.05
    assert "wider than 0.3" in a.priced.method
    assert any("contract's default share" in line for line in report_lines(a))


def test_no_total_gain_leaves_no_interval_and_the_default_share():
    a = summarize("default", _seeds(80.0, [79.0, 82.0, 80.0], [78.0, 83.0, 79.5]), ECON)
    assert a.s_cust == 0.0 and a.s_cust_ci is None and a.s_cust_rule == "contract_default"
    assert a.priced.share == ECON.contract.default_customer_share


def test_no_customer_effect_gives_intervals_containing_zero():
    a = summarize("default", _seeds(60.0, [85.0, 83.0, 86.0, 84.0], [85.5, 82.0, 86.5, 84.0]), ECON)
    assert a.delta_mpl_cust_ci[0] <= 0 <= a.delta_mpl_cust_ci[1]
    assert a.s_cust_ci[0] <= 0 <= a.s_cust_ci[1]


def test_summarize_rejects_a_single_seed():
    with pytest.raises(ValueError, match="two seeds"):
        summarize("default", _seeds(60.0, [80.0], [85.0]), ECON)
