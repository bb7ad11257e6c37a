"""The SLA constraint hook: dual ascent on λ per episode and the going rate, handed to the env; rewards stored in
parts are priced with the newest weights."""

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch

from v2p.config import EconomicsConfig, SLAConfig
from v2p.economics.reward import reward_parts, reward_weights
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
    """The same shift, taking λ, e* and the going rate as V2PDishwashing-v0 does, and reporting its reward in parts."""

    lam_seen: list

    def __init__(self):
        super().__init__()
        self.lam_seen, self.target_seen, self.rate_seen = [], [], []

    def set_lagrange_multiplier(self, lam):
        self.lam_seen.append(lam)

    def set_sla_target(self, target):
        self.target_seen.append(target)

    def set_going_rate(self, rate):
        self.rate_seen.append(rate)

    def step(self, action):
        obs, _, term, trunc, info = super().step(action)
        broke = info["errors"] > getattr(self, "_errors", 0)
        self._errors = 0 if trunc else info["errors"]
        parts = reward_parts(int(not broke), int(broke), 36 / 3600, 5 * 36 / 3600, ECON)
        weights = reward_weights(self.rate_seen[-1], self.lam_seen[-1], self.target_seen[-1])
        return obs, float(np.dot(parts, weights)), term, trunc, info | {"reward_parts": parts,
                                                                         "reward_weights": weights}


ECON = EconomicsConfig(sla=SLAConfig(error_target=0.1, start_target=0.5, curriculum_episodes=4, dual_step_size=2.0))


def run(env, episodes, tmp_path=None, **kw):
    sla = SLAConstraint(ECON, **kw)
    model = SAC(env, net_arch=(8,), learning_starts=1000, buffer_size=100, seed=0, device="cpu", threads=1,
                log_dir=tmp_path, econ_cfg=ECON, reward_parts=3)
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
    assert len(env.target_seen) == len(env.rate_seen) == 7
    assert all(rate >= ECON.human_wage for rate in env.rate_seen)  # ρ: the recent wage, never below w_h
    with open(tmp_path / "episodes.csv") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 6 and {"lambda_dual", "err_target", "mp_r", "wage_parity"} <= set(table[0])
    assert float(table[-1]["lambda_dual"]) == pytest.approx(rows[-1]["lambda_dual"], rel=1e-5)


def test_stored_rewards_are_priced_with_the_newest_lambda_not_the_one_they_were_recorded_under():
    env = PricedShift()
    model, sla = run(env, 6)
    assert len(set(env.lam_seen)) > 2  # λ moved while the data was recorded
    buffer = model.replay_buffer
    batch = buffer.sample(64)
    newest = reward_weights(env.rate_seen[-2], env.lam_seen[-2], env.target_seen[-2])  # the last step's weights
    assert batch.reward.numpy() == pytest.approx((buffer.parts.numpy() @ np.asarray(newest, np.float32))[
        _slots(buffer, batch)], rel=1e-5, abs=1e-6)
    old = reward_weights(env.rate_seen[0], env.lam_seen[0], env.target_seen[0])
    assert not np.allclose(buffer.parts.numpy()[:30] @ np.asarray(old, np.float32),
                           buffer.parts.numpy()[:30] @ np.asarray(newest, np.float32))


def _slots(buffer, batch):
    """The slots a uniform batch came from (found by its observations and actions: the buffer keeps no index)."""
    rows = torch.cat([buffer.obs, buffer.action, buffer.parts], 1)[:buffer.size]
    wanted = torch.cat([batch.obs, batch.action], 1)
    return [int(torch.nonzero((rows[:, :wanted.shape[1]] == w).all(1))[0]) for w in wanted]


def test_an_env_that_does_not_price_the_sla_is_refused():
    model = SAC(Shift(), net_arch=(8,), buffer_size=10, device="cpu", threads=1)
    with pytest.raises(V2PError, match="set_lagrange_multiplier"):
        model.learn(3, callback=SLAConstraint(ECON), progress_bar=False)


def test_constraint_needs_error_counts():
    class Uncounted(PricedShift):
        def step(self, action):
            obs, reward, term, trunc, info = super().step(action)
            return obs, reward, term, trunc, {k: v for k, v in info.items() if k != "errors"}

    with pytest.raises(V2PError, match="lacks"):
        run(Uncounted(), 1)


def test_economics_columns_come_from_the_final_info():
    model, _ = run(PricedShift(), 2)
    row = model.episode_rows[0]
    hours = 5 * 36 / 3600
    assert row["mp_r"] == pytest.approx(row["units"] / hours)
    assert row["err_rate"] == pytest.approx(row["errors"] / row["attempts"])
    wage = ECON.unit_price * row["mp_r"] - ECON.error_cost * row["errors"] / hours
    assert row["w_hat_r"] == pytest.approx(wage)
    assert row["wage_parity"] == pytest.approx(wage / ECON.human_wage)
