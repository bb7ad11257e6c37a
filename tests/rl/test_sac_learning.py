import time

import numpy as np
import pytest

from rl_helpers import MoveToTarget, greedy_return
from v2p.rl import SAC, evaluate


def test_sac_solves_move_to_target_in_seconds():
    env = MoveToTarget()
    model = SAC(env, net_arch=(64, 64), batch_size=64, learning_rate=3e-3, learning_starts=100, seed=0,
                device="cpu", threads=1)
    t0 = time.perf_counter()
    model.learn(1500, progress_bar=False)
    print("train seconds", time.perf_counter() - t0)
    optimal = greedy_return(MoveToTarget(), 20, seed=1000)
    mean, _ = evaluate(model, MoveToTarget(), episodes=20, seed=1000)
    # random play returns about −6.5 here; the optimal controller about −1.5
    rng = np.random.default_rng(0)
    env_r, random_total = MoveToTarget(), 0.0
    for i in range(20):
        env_r.reset(seed=1000 + i)
        for _ in range(10):
            random_total += env_r.step(rng.uniform(-1, 1, 1))[1]
    random_mean = random_total / 20
    print(f"sac {mean:.3f} optimal {optimal:.3f} random {random_mean:.3f}")
    assert mean > optimal - 0.1 * (optimal - random_mean)


@pytest.mark.slow
def test_sac_swings_up_pendulum():
    import gymnasium as gym

    model = SAC(gym.make("Pendulum-v1"), learning_rate=1e-3, seed=0, device="cpu", threads=1)
    model.learn(8000, progress_bar=False)
    mean, _ = evaluate(model, gym.make("Pendulum-v1"), episodes=10, seed=100)
    assert mean > -250
