"""Replay storage, prioritised sampling and its importance weights, and the kNN novelty signal."""

import numpy as np
import pytest
import torch

from v2p.rl import NoveltyEstimator, PrioritizedReplayBuffer, ReplayBuffer
from v2p.rl.replay import SumTree


def test_ring_buffer_overwrites_oldest_and_add_batch_matches_add():
    a, b = ReplayBuffer(5, 2, 1), ReplayBuffer(5, 2, 1)
    obs = np.arange(14, dtype=np.float32).reshape(7, 2)
    for i in range(7):
        a.add(obs[i], [i], float(i), obs[i] + 1, i == 6)
    b.add_batch(obs, np.arange(7)[:, None], np.arange(7), obs + 1, np.arange(7) == 6)
    assert len(a) == len(b) == 5
    for store in ("obs", "action", "reward", "next_obs", "done"):
        torch.testing.assert_close(getattr(a, store), getattr(b, store))
    assert sorted(a.reward.tolist()) == [2, 3, 4, 5, 6]  # 0 and 1 were overwritten
    batch = a.sample(32)
    assert batch.obs.shape == (32, 2) and batch.weight is None
    # every sampled transition is a stored one, intact
    torch.testing.assert_close(batch.next_obs, batch.obs + 1)


def test_add_batch_rejects_ragged_columns():
    buf = ReplayBuffer(10, 2, 1)
    with pytest.raises(ValueError, match="differ in length"):
        buf.add_batch(np.zeros((3, 2)), np.zeros((2, 1)), np.zeros(3), np.zeros((3, 2)), np.zeros(3))


def test_sum_tree_finds_the_slot_owning_each_mass():
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 0.0, 2.0, 3.0, 4.0]))
    assert tree.total == 10.0 and tree.min == 0.0
    assert tree.find(np.array([0.0, 0.99, 1.0, 2.9, 3.0, 5.99, 6.0, 9.99])).tolist() == [0, 0, 2, 2, 3, 3, 4, 4]


def make_per(priorities, alpha=1.0):
    n = len(priorities)
    buf = PrioritizedReplayBuffer(n, 1, 1, NoveltyEstimator(1, k=1, memory=4), alpha=alpha, seed=0)
    buf.add_batch(np.zeros((n, 1)), np.zeros((n, 1)), np.zeros(n), np.zeros((n, 1)), np.zeros(n))
    buf.tree.update(np.arange(n), np.asarray(priorities, dtype=np.float64))
    return buf


def test_prioritised_sampling_frequencies_follow_priorities():
    priorities = np.array([1.0, 2.0, 4.0, 8.0, 0.5, 0.5, 16.0, 0.0])
    buf = make_per(priorities)
    counts = np.zeros(len(priorities))
    for _ in range(200):
        slots = buf.tree.find((np.arange(256) + buf._rng.random(256)) * buf.tree.total / 256)
        counts += np.bincount(slots, minlength=len(priorities))
    freq = counts / counts.sum()
    expected = priorities / priorities.sum()
    np.testing.assert_allclose(freq, expected, atol=0.005)
    assert counts[-1] == 0  # zero priority is never drawn


def test_importance_weights_are_normalised_inverse_probabilities():
    priorities = np.array([1.0, 2.0, 4.0, 8.0])
    buf = make_per(priorities)
    buf.novelty.observe(np.zeros((1, 1)))
    beta = 0.5
    # sample() re-scores what it drew, so read the weights against the priorities it sampled under
    before = buf.tree.sums[buf.tree.leaves:buf.tree.leaves + 4].copy()
    batch = buf.sample(64, beta=beta)
    prob = before[batch.index] / before.sum()
    w = (4 * prob) ** -beta / (4 * before.min() / before.sum()) ** -beta
    np.testing.assert_allclose(batch.weight.numpy(), w, rtol=1e-5)
    assert batch.weight.max() <= 1.0
    # the rarest transition, when drawn, has weight exactly 1
    assert np.allclose(batch.weight.numpy()[batch.index == 0], 1.0)


def test_novelty_priorities_refresh_after_sampling():
    buf = PrioritizedReplayBuffer(100, 2, 1, NoveltyEstimator(2, k=3, memory=64, seed=0), alpha=1.0, seed=0)
    rng = np.random.default_rng(0)
    same = np.tile([[0.5, 0.5]], (50, 1)) + rng.normal(0, 1e-3, (50, 2))
    buf.add_batch(same, np.zeros((50, 1)), np.zeros(50), same, np.zeros(50))
    first = buf.tree.priority(np.arange(1)).copy()  # scored when nothing had been seen: the top priority
    batch = buf.sample(16)
    # after re-scoring against a memory full of near-copies, the drawn transitions' priorities are small
    assert np.all(buf.tree.priority(batch.index) < first)


def test_often_seen_state_is_less_novel_than_a_new_one():
    rng = np.random.default_rng(0)
    est = NoveltyEstimator(4, k=5, memory=256, seed=0)
    common = np.array([0.2, -0.1, 0.3, 0.0], dtype=np.float32)
    seen = np.concatenate([common + rng.normal(0, 0.01, (400, 4)), rng.normal(0, 1, (100, 4))])
    est.observe(rng.permutation(seen))
    new = np.array([3.0, -3.0, 2.5, 3.0], dtype=np.float32)
    scores = est.score(np.stack([common, new]))
    assert scores.shape == (2,)
    assert scores[0] < 0.1 * scores[1]


def test_novelty_falls_as_a_state_becomes_familiar():
    est = NoveltyEstimator(2, k=3, memory=128, seed=1)
    rng = np.random.default_rng(1)
    est.observe(rng.normal(0, 1, (200, 2)))
    s = np.array([[1.5, -1.5]], dtype=np.float32)
    before = est.score(s)[0]
    est.observe(np.repeat(s, 200, axis=0))
    assert est.score(s)[0] < 0.5 * before


def test_novelty_reservoir_stays_a_uniform_sample():
    est = NoveltyEstimator(1, k=1, memory=500, seed=2)
    est.observe(np.arange(20000, dtype=np.float32)[:, None])
    kept = est.memory[:, 0]
    # a uniform sample of 0..19999: its mean near 10000 and each half of the range about equally represented
    assert abs(kept.mean() - 10000) < 1000
    assert 200 < (kept < 10000).sum() < 300


def test_novelty_with_empty_memory_is_infinite():
    assert np.isinf(NoveltyEstimator(3).score(np.zeros((2, 3)))).all()
