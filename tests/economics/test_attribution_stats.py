import pytest

from v2p.experiments.attribution import SeedMeasurement, counterfactual_attribution, summarize


def test_share_and_interval_from_paired_seeds():
    seeds = [SeedMeasurement(s, 60.0, 80.0 - d, 90.0 + d) for s, d in enumerate([0.5, -0.4, 0.1, -0.2])]
    a = summarize("customer_bistro", seeds)
    assert a.delta_mpl_cust == pytest.approx(10.0) and a.delta_mpl_total == pytest.approx(30.0)
    assert a.s_cust == pytest.approx(1 / 3)
    assert a.s_cust_ci[0] < 1 / 3 < a.s_cust_ci[1]
    assert a.s_cust_ci[0] > 0  # a consistent gain is measurably above 0


def test_no_customer_effect_gives_an_interval_containing_zero():
    seeds = [SeedMeasurement(s, 60.0, 85.0 + d, 85.0 - d) for s, d in enumerate([1.0, -2.0, 0.5])]
    a = summarize("default", seeds)
    assert a.s_cust_ci[0] <= 0 <= a.s_cust_ci[1]


def test_orchestration_trains_the_pair_from_the_same_seed():
    calls = []

    def train(bags, seed):
        calls.append((tuple(bags), seed))
        return ("policy", len(bags), seed)

    def evaluate(policy, seed):
        return 50.0 if policy is None else 70.0 + 10.0 * (policy[1] - 1)

    a = counterfactual_attribution("s", ["p"], ["c"], [0, 1], train, evaluate)
    assert calls == [(("p",), 0), (("p", "c"), 0), (("p",), 1), (("p", "c"), 1)]
    assert a.s_cust == pytest.approx(10 / 30)
    with pytest.raises(ValueError, match="two seeds"):
        counterfactual_attribution("s", ["p"], ["c"], [0], train, evaluate)
