"""The SLA constraint hook: dual ascent on λ per episode, handed to the env or applied to rewards itself."""

import csv

import gymnasium as gym
import numpy as np
import pytest

from v2p.config import EconomicsConfig, SLAConfig
from v2p.errors import V2PError
from v2p.rl import SAC, SLAConstraint


class Shift(gym.Env):
    """A shift of 5 dish cycles: each cycle takes 36 s, `care` < 0.5 breaks the dish. Counts are cumulative."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.units = self.attempts = self.errors = 0
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.attempts += 1
        broke = float(action[1]) < 0.5
        self.errors += broke
        self.units += not broke
        self.t += 1
        info = {"units": self.units, "attempts": self.attempts, "errors": self.errors, "sim_time_s": 36.0 * self.t}
        return np.zeros(1, np.float32), 1.0, False, self.t >= 5, info


class PricedShift(Shift):
    """The same shift, taking λ and e* as V2PDishwashing-v0 does."""

    lam_seen: list

    def __init__(self):
        super().__init__()
        self.lam_seen, self.target_seen = [], []

    def set_lagrange_multiplier(self, lam):
        self.lam_seen.append(lam)

    def set_sla_target(self, target):
        self.target_seen.append(target)


ECON = EconomicsConfig(sla=SLAConfig(error_target=0.1, start_target=0.5, curriculum_episodes=4, dual_step_size=2.0))


def run(env, episodes, tmp_path=None, **kw):
    sla = SLAConstraint(ECON, **kw)
    model = SAC(env, net_arch=(8,), learning_starts=1000, buffer_size=100, seed=0, device="cpu", threads=1,
                log_dir=tmp_path, econ_cfg=ECON)
    model.learn(5 * episodes, callback=sla, progress_bar=False)
    return model, sla


def test_dual_ascent_and_curriculum_are_handed_to_the_env(tmp_path):
    env = PricedShift()
    model, sla = run(env, 6, tmp_path)
    lam, rows = 0.0, model.episode_rows
    for i, row in enumerate(rows):
        target = 0.5 + min(i / 4, 1.0) * (0.1 - 0.5)
        assert row["err_target"] == pytest.approx(target)
        assert row["lambda_dual"] == pytest.approx(lam)
        lam = max(0.0, lam + 2.0 * (row["err_rate"] - target))
        assert row["lambda_next"] == pytest.approx(lam)
    assert sla.lam == pytest.approx(lam)
    # the env got λ and e* before the first episode and after each one
    assert env.lam_seen == pytest.approx([0.0] + [r["lambda_next"] for r in rows])
    assert len(env.target_seen) == 7
    # rewards were left to the env: the stored rewards are the env's
    assert np.allclose(model.replay_buffer.reward[:30].numpy(), 1.0)
    with open(tmp_path / "episodes.csv") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 6 and {"lambda_dual", "err_target", "mp_r", "wage_parity"} <= set(table[0])
    assert float(table[-1]["lambda_dual"]) == pytest.approx(rows[-1]["lambda_dual"], rel=1e-5)


def test_penalty_applied_to_rewards_when_env_does_not_take_lambda():
    env = Shift()
    model, sla = run(env, 3, lam=4.0, shift_hours=0.05)
    rewards = model.replay_buffer.reward[:15].numpy().reshape(3, 5)
    assert rewards.sum() < 15.0 - 1e-3  # the SLA was missed, so some penalty was charged
    for ep, row in enumerate(model.episode_rows):
        hours = 5 * 36 / 3600
        expected = -(hours / 0.05) * row["lambda_dual"] * max(0.0, row["err_rate"] - row["err_target"])
        assert rewards[ep].sum() - 5.0 == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_constraint_needs_error_counts():
    env = gym.make("Pendulum-v1")
    model = SAC(env, net_arch=(8,), buffer_size=10, device="cpu", threads=1)
    with pytest.raises(V2PError, match="lacks"):
        model.learn(3, callback=SLAConstraint(ECON), progress_bar=False)


def test_economics_columns_come_from_the_final_info():
    model, _ = run(PricedShift(), 2)
    row = model.episode_rows[0]
    hours = 5 * 36 / 3600
    assert row["mp_r"] == pytest.approx(row["units"] / hours)
    assert row["err_rate"] == pytest.approx(row["errors"] / row["attempts"])
    wage = ECON.unit_price * row["mp_r"] - ECON.error_cost * row["err_rate"] * row["mp_r"]
    assert row["w_hat_r"] == pytest.approx(wage)
    assert row["wage_parity"] == pytest.approx(wage / ECON.human_wage)
