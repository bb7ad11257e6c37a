"""The SAC update's arithmetic: Polyak averaging, the temperature, the twin critics and the squashed log-prob."""

import math

import numpy as np
import pytest
import torch
from torch import distributions as D

from v2p.rl import ReplayBuffer, SACAgent, SACConfig
from v2p.rl.networks import Actor, TwinQ


def make_agent(**kw) -> SACAgent:
    torch.manual_seed(0)
    cfg = SACConfig(net_arch=(32, 32), batch_size=64, device="cpu", **kw)
    return SACAgent(3, 2, np.array([-1.0, -2.0]), np.array([1.0, 2.0]), cfg)


def filled_buffer(n: int = 512, seed: int = 0) -> ReplayBuffer:
    rng = np.random.default_rng(seed)
    buf = ReplayBuffer(1000, 3, 2, seed=seed)
    buf.add_batch(rng.normal(size=(n, 3)), rng.uniform(-1, 1, (n, 2)), rng.normal(size=n), rng.normal(size=(n, 3)),
                  rng.random(n) < 0.1)
    return buf


def test_polyak_update_moves_targets_tau_of_the_way():
    agent = make_agent(tau=0.1)
    # make online and target differ first, so the arithmetic is visible
    with torch.no_grad():
        for p in agent.critic_target.parameters():
            p.add_(1.0)
    before_target = [p.clone() for p in agent.critic_target.parameters()]
    agent.update(filled_buffer().sample(64))
    online_after = list(agent.critic.parameters())
    for old, new_target, online in zip(before_target, agent.critic_target.parameters(), online_after):
        expected = 0.9 * old + 0.1 * online.detach()
        torch.testing.assert_close(new_target, expected, rtol=1e-6, atol=1e-6)


def test_targets_receive_no_gradient_and_actor_loss_leaves_critic_weights_alone():
    agent = make_agent()
    obs = torch.randn(8, 3)
    pi, _ = agent.actor.sample(obs)
    agent.critic(obs, pi, frozen=True).sum().backward()
    assert all(p.grad is None for p in agent.critic.parameters())
    assert all(p.grad is not None for p in agent.actor.parameters())
    assert all(not p.requires_grad for p in agent.critic_target.parameters())


@pytest.mark.parametrize("target_entropy, direction", [(5.0, +1), (-20.0, -1)])
def test_temperature_moves_toward_target_entropy(target_entropy, direction):
    # an entropy target above what the policy has raises α (more exploration); one far below lowers it
    agent = make_agent(target_entropy=target_entropy)
    buf = filled_buffer()
    start = agent.alpha
    for _ in range(20):
        agent.update(buf.sample(64))
    assert (agent.alpha - start) * direction > 0


def test_fixed_temperature_stays_fixed():
    agent = make_agent(ent_coef=0.2)
    agent.update_from(filled_buffer(), 5)
    assert agent.alpha == pytest.approx(0.2)


def test_twin_critics_equal_two_separate_mlps():
    torch.manual_seed(1)
    q = TwinQ(3, 2, (16, 16))
    obs, act = torch.randn(5, 3), torch.randn(5, 2)
    x = torch.cat([obs, act], -1)
    out = q(obs, act)
    assert out.shape == (2, 5)
    for i in range(2):
        h = x
        for j, layer in enumerate(q.layers):
            h = h @ layer.weight[i] + layer.bias[i]
            if j < len(q.layers) - 1:
                h = torch.relu(h)
        torch.testing.assert_close(out[i], h.squeeze(-1))
    torch.testing.assert_close(q(obs, act, frozen=True), out)


def test_squashed_log_prob_matches_tanh_transformed_normal():
    torch.manual_seed(2)
    actor = Actor(3, 2, (16,), torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]))
    obs = torch.randn(64, 3)
    torch.manual_seed(3)
    action, log_prob = actor.sample(obs)
    mean, log_std = actor(obs)
    dist = D.TransformedDistribution(D.Normal(mean, log_std.exp()), [D.TanhTransform()])
    # compare where tanh is not saturated (float32 atanh is inexact near ±1)
    ok = action.abs().max(-1).values < 0.999
    expected = dist.log_prob(action).sum(-1)
    torch.testing.assert_close(log_prob[ok], expected[ok], rtol=1e-3, atol=1e-3)


def test_act_scales_to_env_bounds():
    agent = make_agent()
    a = agent.act(np.random.default_rng(0).normal(size=(100, 3)) * 50)
    assert a.shape == (100, 2)
    assert np.all(np.abs(a[:, 0]) <= 1.0) and np.all(np.abs(a[:, 1]) <= 2.0)
    assert np.abs(a[:, 1]).max() > 1.0  # the second dimension really uses its wider range


def test_update_metrics_are_finite_and_losses_fall_on_a_fixed_batch():
    agent = make_agent(learning_rate=1e-3)
    batch = filled_buffer().sample(64)
    first = {k: float(v) for k, v in agent.update(batch).items()}
    for _ in range(100):
        last = agent.update(batch)
    assert all(math.isfinite(v) for v in first.values())
    assert float(last["critic_loss"]) < first["critic_loss"]


def test_unit_action_inverts_env_scaling():
    agent = make_agent()
    obs = np.random.default_rng(1).normal(size=(10, 3))
    env_units = agent.act(obs)
    with torch.no_grad():
        unit = torch.tanh(agent.actor(torch.as_tensor(obs, dtype=torch.float32))[0]).numpy()
    np.testing.assert_allclose(agent.unit_action(env_units), unit, atol=1e-6)
    np.testing.assert_array_equal(agent.unit_action(np.array([[5.0, -9.0]])), [[1.0, -1.0]])


def test_tiny_adam_moments_are_zeroed_before_they_turn_denormal(monkeypatch):
    agent = make_agent()
    buf = filled_buffer()
    agent.update_from(buf, 1)
    state = agent.optimizer.state[agent.optimizer.param_groups[0]["params"][0]]
    m = state["exp_avg"].view(-1)
    m[:3] = torch.tensor([1e-35, -1e-39, 1e-31])  # tiny, already denormal, not yet denormal
    # but under the 1e-30 line
    m[3] = 2e-30
    kept = m[3:].clone()
    agent._zero_tiny_moments()
    assert m[:3].tolist() == [0.0, 0.0, 0.0]
    torch.testing.assert_close(m[3:], kept)  # everything at or above 1e-30 untouched
    calls = []
    monkeypatch.setattr(agent, "_zero_tiny_moments", lambda: calls.append(agent.updates))
    agent.update_from(buf, 250)
    assert calls == [100, 200]


def test_auto_temperature_can_start_elsewhere():
    assert make_agent(ent_coef="auto_0.1").alpha == pytest.approx(0.1)
    assert make_agent().alpha == pytest.approx(1.0)
    from v2p.errors import V2PError

    with pytest.raises(V2PError, match="ent_coef"):
        SACConfig(ent_coef="auto_-1")
