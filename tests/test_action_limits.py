import numpy as np
import pytest

from v2p.action_limits import ActionLimiter


def test_clamps_into_the_envelope():
    lim = ActionLimiter(np.array([0.0, 0.5]), np.array([0.6, 1.0]))
    np.testing.assert_allclose(lim.limit(np.array([0.9, 0.2]), 0.0), [0.6, 0.5])


def test_slew_limit_bounds_the_change_per_second():
    lim = ActionLimiter(np.zeros(2), np.ones(2), max_delta_per_s=0.5)
    lim.limit(np.array([0.0, 1.0]), 0.0)
    np.testing.assert_allclose(lim.limit(np.array([1.0, 0.0]), 0.2), [0.1, 0.9], atol=1e-6)
    np.testing.assert_allclose(lim.limit(np.array([1.0, 0.0]), 2.2), [1.0, 0.0], atol=1e-6)


def test_rate_limit_drops_actions_sent_too_soon():
    lim = ActionLimiter(np.zeros(2), np.ones(2), max_rate_hz=5.0)
    assert lim.limit(np.array([0.5, 0.5]), 0.0) is not None
    assert lim.limit(np.array([0.5, 0.5]), 0.1) is None
    assert lim.limit(np.array([0.5, 0.5]), 0.25) is not None


@pytest.mark.parametrize("low,high,kw", [([0.5, 0], [0.4, 1], {}), ([-0.1, 0], [1, 1], {}), ([0, 0], [1, 1.2], {}),
                                         ([0, 0], [1, 1], {"max_rate_hz": -1}),
                                         ([0, 0], [1, 1], {"max_delta_per_s": float("nan")})])
def test_bad_limits_are_named(low, high, kw):
    with pytest.raises(ValueError, match="action_min|max_rate_hz|max_delta_per_s"):
        ActionLimiter(np.array(low), np.array(high), **kw)
