"""The data-value estimator (v2p.economics.data_value): a Student-t predictive that recovers a known relation with
the right coverage, widens far from its data, and scores at or below the constant predictor on shuffled labels."""

import numpy as np
import pytest

from v2p.economics.data_value import DataValueEstimator, heldout_report

NAMES = ("novelty", "amount")


def relation(n: int, seed: int, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.uniform(0, 2, n), rng.uniform(10, 50, n)])
    return x, 3.0 + 12.0 * x[:, 0] + 0.1 * x[:, 1] + rng.normal(0, noise, n)


def test_recovers_a_known_relation_with_the_right_coverage():
    x, y = relation(60, 0)
    est = DataValueEstimator(NAMES).fit(x, y)
    p = est.predict([1.0, 30.0])
    assert p.mean == pytest.approx(3.0 + 12.0 + 3.0, abs=0.8)
    assert 0.7 < p.scale < 1.5  # the noise is learned: about its true 1.0
    fresh_x, fresh_y = relation(2000, 1)
    covered = np.mean([est.predict(a).interval(0.90)[0] <= b <= est.predict(a).interval(0.90)[1]
                       for a, b in zip(fresh_x[:400], fresh_y[:400])])
    assert 0.84 <= covered <= 0.96
    report = heldout_report(x, y, DataValueEstimator, NAMES)
    assert report.heldout_r2 > 0.9 and report.mae < report.mae_constant and 0.8 <= report.coverage90 <= 1.0


def test_widens_far_from_its_data_and_with_little_of_it():
    x, y = relation(30, 2)
    est = DataValueEstimator(NAMES).fit(x, y)
    near, far = est.predict([1.0, 30.0]), est.predict([8.0, 200.0])
    assert far.scale > 3 * near.scale
    few = DataValueEstimator(NAMES).fit(x[:5], y[:5]).predict([1.0, 30.0])
    assert few.dof < near.dof and few.interval()[1] - few.interval()[0] > near.interval()[1] - near.interval()[0]


def test_shuffled_labels_give_no_held_out_skill():
    x, y = relation(30, 3)
    r2 = [heldout_report(x, np.random.default_rng(s).permutation(y), DataValueEstimator, NAMES).heldout_r2
          for s in range(5)]
    assert max(r2) <= 0.0


def test_rejects_bad_rows_and_round_trips():
    est = DataValueEstimator(NAMES)
    with pytest.raises(ValueError, match="2 finite numbers"):
        est.predict([1.0])
    with pytest.raises(ValueError):
        est.update([1.0, float("nan")], 1.0)
    x, y = relation(8, 4)
    est.fit(x, y)
    again = DataValueEstimator.from_dict(est.to_dict())
    assert again.predict([0.5, 20.0]) == est.predict([0.5, 20.0])
    with pytest.raises(ValueError, match="not a saved"):
        DataValueEstimator.from_dict({"feature_names": ["a"]})
    before = est.predict([0.5, 20.0]).scale
    est.update([0.5, 20.0], float(est.predict([0.5, 20.0]).mean))
    assert est.samples == 9 and est.predict([0.5, 20.0]).scale < before
