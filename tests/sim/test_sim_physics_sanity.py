"""Physics sanity over a coarse grid and several seeds: speed buys attempts, carelessness at speed buys errors.

Every point runs the same seeds (the same dishes), so the comparisons are between actions, not between draws.
"""

from __future__ import annotations

import pytest

from v2p_sim import run_fixed_action

SEEDS = 2
SHIFT_H = 0.04


def _point(speed: float, care: float, site: str = "default") -> dict:
    return run_fixed_action(site, speed, care, episodes=SEEDS, seed=21, shift_hours=SHIFT_H)


@pytest.mark.parametrize("care", [0.5, 1.0])
def test_higher_speed_more_attempts_per_hour(care: float) -> None:
    rates = [(p := _point(speed, care))["attempts"] / p["sim_hours"] for speed in (0.0, 0.5, 1.0)]
    assert rates[0] < rates[1] < rates[2]


def test_low_care_at_high_speed_raises_the_error_rate() -> None:
    careless, careful, slow = _point(1.0, 0.0), _point(1.0, 1.0), _point(0.25, 1.0)
    assert careless["err_rate"] > careful["err_rate"] + 0.2
    assert careless["err_rate"] > slow["err_rate"] + 0.2
    # carelessness fails in more than one physical way
    assert sum(1 for v in careless["errors_by_type"].values() if v > 0) >= 2


def test_sites_differ_at_the_same_action() -> None:
    """Heavy bowls and slippery glasses: at a fast, loose grip the bistro drops far more than the default site."""
    default, bistro = _point(1.0, 0.25), _point(1.0, 0.25, site="customer_bistro")
    assert bistro["errors_by_type"]["dropped"] > default["errors_by_type"]["dropped"] + 2
