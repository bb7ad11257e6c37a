"""The learn loop: warm-up, update counts, truncation vs termination, β annealing, novelty replay, threads."""

import math

import gymnasium as gym
import numpy as np
import pytest
from rl_helpers import MoveToTarget

from v2p.rl import SAC, SACConfig, config as rl_config
from v2p.errors import V2PError


def small(env, **kw):
    return SAC(env, net_arch=(16, 16), batch_size=16, buffer_size=1000, device="cpu", threads=1, seed=0, **kw)


def test_truncated_episodes_still_bootstrap_and_updates_start_after_warmup():
    model = small(MoveToTarget(), learning_starts=25, train_freq=2, gradient_steps=3)
    model.learn(60, progress_bar=False)
    assert model.episodes == 6
    assert float(model.replay_buffer.done[:60].sum()) == 0.0  # time-limit ends are not terminal
    # updates at steps 26..60 where step % 2 == 0 (18 rounds) x 3 gradient steps
    assert model.agent.updates == 18 * 3
    rows = model.episode_rows
    assert [r["steps"] for r in rows] == [10] * 6 and math.isnan(rows[0]["critic_loss"])
    assert math.isfinite(rows[-1]["critic_loss"])


def test_terminal_transitions_are_stored_as_done():
    class Cliff(MoveToTarget):
        def step(self, action):
            obs, r, _, trunc, info = super().step(action)
            return obs, r, self.t == 3, trunc, info

    model = small(Cliff(), learning_starts=1000)
    model.learn(9, progress_bar=False)
    assert model.replay_buffer.done[:9].tolist() == [0, 0, 1] * 3


def test_beta_anneals_to_one_over_learn():
    model = small(MoveToTarget(), learning_starts=10, replay="novelty", per_beta=0.4)
    buf = model.replay_buffer
    betas = []
    real = buf.sample
    buf.sample = lambda n, beta=1.0: (betas.append(beta), real(n, beta))[1]
    model.learn(100, progress_bar=False)
    assert betas[0] == pytest.approx(0.4 + 0.6 * 11 / 100)
    assert betas[-1] == pytest.approx(1.0)
    assert all(b2 >= b1 for b1, b2 in zip(betas, betas[1:]))


def test_novelty_replay_trains_and_logs_novelty():
    model = small(MoveToTarget(), learning_starts=20, replay="novelty")
    model.learn(80, progress_bar=False)
    rows = model.episode_rows
    assert all(r["novelty_raw"] >= 0 for r in rows[1:])
    assert math.isfinite(rows[-1]["critic_loss"])
    # later episodes revisit the same region: the mean novelty of what they stored falls
    assert rows[-1]["novelty_raw"] < rows[1]["novelty_raw"]


def test_threads_never_exceed_free_cores(monkeypatch):
    monkeypatch.setattr(rl_config.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(rl_config.os, "getloadavg", lambda: (1.3, 0.0, 0.0))
    assert rl_config.free_cores() == 1
    assert rl_config.resolve_threads(8) == 1
    monkeypatch.setattr(rl_config.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert rl_config.resolve_threads(8) == 2 and rl_config.resolve_threads(1) == 1
    assert rl_config.resolve_threads(None) == 2


def test_config_rejects_bad_values_and_needs_box_spaces():
    with pytest.raises(V2PError, match="'replay'"):
        SACConfig(replay="random")
    with pytest.raises(V2PError, match="'tau'"):
        SACConfig(tau=0.0)
    env = gym.make("CartPole-v1")
    with pytest.raises(V2PError, match="Box action space"):
        SAC(env)
    assert SACConfig.from_dict(SACConfig(net_arch=(8, 8)).to_dict()) == SACConfig(net_arch=(8, 8))


def test_predict_batch_and_stochastic():
    model = small(gym.make("Pendulum-v1"))
    obs = np.zeros((5, 3), np.float32)
    a, _ = model.predict(obs)
    assert a.shape == (5, 1)
    s1, _ = model.predict(obs, deterministic=False)
    assert not np.allclose(s1, a)


def test_episode_csv_survives_repeated_learn_calls(tmp_path):
    import csv

    model = small(MoveToTarget(), learning_starts=5, log_dir=tmp_path)
    model.learn(20, progress_bar=False)
    model.learn(30, progress_bar=False)
    with open(tmp_path / "episodes.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["episode"]) for r in rows] == [1, 2, 3, 4, 5]
    assert list(rows[0])[:4] == ["episode", "steps", "total_steps", "return"]
    assert float(rows[-1]["return"]) == pytest.approx(model.episode_rows[-1]["return"], rel=1e-5)
