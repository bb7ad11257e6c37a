"""Sim shifts written straight to a bag read back into the transitions the learner trains on."""

from __future__ import annotations

import numpy as np
import pytest

from v2p.bags import bag_info
from v2p.config import load_economics_config
from v2p.experiments.recording import record_shifts
from v2p.learning import transitions_from_bag
from v2p.task import topics
from v2p.task.dishwashing import POLICY_INPUTS

CFG = load_economics_config()


def test_recorded_shifts_become_one_transition_per_dish_cycle_with_the_behaviours_actions(tmp_path):
    taken = []

    def fixed(state, rng):
        taken.append(state.copy())
        return 0.5, 0.9

    bag = record_shifts(tmp_path / "rec", "default", episodes=2, seed=3, behaviour=fixed, shift_hours=0.03)
    counts = {t.name: t.message_count for t in bag_info(bag).topics}
    tr = transitions_from_bag(bag, CFG, POLICY_INPUTS["oracle_state"])
    assert tr.episodes == 2 and len(tr) == len(taken) >= 2
    np.testing.assert_allclose(tr.obs, np.stack(taken), rtol=0, atol=0)
    np.testing.assert_allclose(tr.action, np.tile([0.5, 0.9], (len(tr), 1)), atol=1e-6)
    assert tr.done.sum() == 2 and tr.done[-1] == 1.0
    assert counts[topics.SIM_STATE] == counts["/policy/action"] == len(taken)


def test_the_same_seed_records_the_same_shifts_and_bad_arguments_are_refused(tmp_path):
    a = transitions_from_bag(record_shifts(tmp_path / "a", "default", 1, seed=5, shift_hours=0.02), CFG, POLICY_INPUTS["oracle_state"])
    b = transitions_from_bag(record_shifts(tmp_path / "b", "default", 1, seed=5, shift_hours=0.02), CFG, POLICY_INPUTS["oracle_state"])
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.parts, b.parts)
    with pytest.raises(ValueError, match="episodes"):
        record_shifts(tmp_path / "c", "default", 0, seed=0)
    with pytest.raises(ValueError, match="shift_hours"):
        record_shifts(tmp_path / "d", "default", 1, seed=0, shift_hours=0.0)
