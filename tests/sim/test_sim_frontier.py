"""The frontier is economically real at the default site: the 6% SLA is feasible, the fastest and least careful
corner violates it, and the best feasible point out-earns the $18/h human wage."""

from __future__ import annotations

import numpy as np
import pytest

from v2p.config import load_economics_config
from v2p.experiments.frontier import FrontierResult, sweep
from v2p_sim import run_fixed_action

CFG = load_economics_config()


def test_calibrated_points_meet_and_break_the_sla() -> None:
    """Cheap check of the calibration: a calibrated operating point beats the human wage within the SLA; the
    fastest, least careful corner does not meet the SLA."""
    good = run_fixed_action("default", 0.4, 0.8, episodes=1, seed=0, econ_config=CFG)
    corner = run_fixed_action("default", 1.0, 0.0, episodes=1, seed=0, econ_config=CFG)
    assert good["err_rate"] <= CFG.sla.error_target
    assert good["implied_wage"] > CFG.human_wage
    assert corner["err_rate"] > CFG.sla.error_target


def test_best_feasible_picks_the_highest_wage_within_the_sla() -> None:
    axis = np.array([0.0, 1.0])
    s, c = np.meshgrid(axis, axis, indexing="ij")
    result = FrontierResult("t", 1, 0, 0.1, s, c, mp=np.array([[50.0, 40.0], [150.0, 120.0]]),
                            err_rate=np.array([[0.0, 0.0], [0.5, 0.05]]),
                            implied_wage=np.array([[15.0, 12.0], [-30.0, 30.0]]), attempts=np.ones((2, 2)))
    best = result.best_feasible(0.06)
    assert (best.speed, best.care, best.implied_wage) == (1.0, 1.0, 30.0)
    assert result.best_feasible(0.01).implied_wage == 15.0
    assert FrontierResult("t", 1, 0, 0.1, s, c, result.mp, np.full((2, 2), 0.5), result.implied_wage,
                          result.attempts).best_feasible(0.06) is None


@pytest.mark.slow
def test_default_frontier_is_economically_real() -> None:
    result = sweep("default", grid=5, episodes_per_point=2, workers=2, seed=0, econ_config=CFG)
    target = CFG.sla.error_target
    best = result.best_feasible(target)
    assert best is not None and best.implied_wage > CFG.human_wage
    assert result.err_rate[-1, 0] > target  # speed 1, care 0
    assert not result.feasible(target).all()
