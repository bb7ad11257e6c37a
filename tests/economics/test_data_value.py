import numpy as np
import pytest

from v2p.economics import DataValueEstimator


def test_recovers_a_known_linear_relation_from_noisy_samples():
    rng = np.random.default_rng(0)
    est = DataValueEstimator(n_features=1, min_samples=8)
    novelty = rng.uniform(0, 2, size=400)
    delta = 3.0 + 12.0 * novelty + rng.normal(0, 1.0, size=400)
    for x, y in zip(novelty, delta):
        est.update(x, y)
    cal = est.calibration()
    assert cal.r2 > 0.9
    assert est.weights == pytest.approx([3.0, 12.0], abs=0.5)
    mean, std = est.predict(1.0)
    assert mean == pytest.approx(15.0, abs=0.5) and 0.5 < std < 2.0
    assert 0.8 < cal.coverage_90 < 0.97  # the predictive interval is honest
    assert cal.mean_abs_error == pytest.approx(0.8, abs=0.2)  # E|N(0,1)| ≈ 0.8


def test_says_uncalibrated_before_min_samples():
    est = DataValueEstimator(n_features=2, min_samples=5)
    for i in range(4):
        est.update([i, 1.0], float(i))
        assert not est.calibration().calibrated
        assert "uncalibrated" in est.calibration().status
    est.update([5, 1.0], 5.0)
    assert est.calibration().calibrated


def test_rejects_bad_features():
    est = DataValueEstimator(n_features=2)
    with pytest.raises(ValueError, match="2 finite numbers"):
        est.predict([1.0])
    with pytest.raises(ValueError):
        est.update([1.0, float("nan")], 1.0)


def test_round_trip_keeps_predictions_and_calibration():
    est = DataValueEstimator(n_features=1, min_samples=3)
    for x, y in [(0.1, 1.0), (0.5, 3.1), (0.9, 4.8), (1.3, 7.2)]:
        est.update(x, y)
    again = DataValueEstimator.from_dict(est.to_dict())
    assert again.predict(0.7) == est.predict(0.7)
    assert again.calibration() == est.calibration()
    with pytest.raises(ValueError, match="not a saved"):
        DataValueEstimator.from_dict({"n_features": 1})
