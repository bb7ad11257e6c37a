"""A tiny continuous-control task for the SAC tests (1-D reaching) and its optimal controller."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class MoveToTarget(gym.Env):
    """1-D reaching: obs (position, target); action moves the point by up to 0.5; reward −|position − target|."""

    def __init__(self, horizon: int = 10):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.horizon = horizon

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.target = self.np_random.uniform(-1, 1, 2)
        self.t = 0
        return self._obs(), {}

    def _obs(self):
        return np.array([self.x, self.target], dtype=np.float32)

    def step(self, action):
        self.x = float(np.clip(self.x + 0.5 * float(np.asarray(action).reshape(-1)[0]), -1, 1))
        self.t += 1
        return self._obs(), -abs(self.x - self.target), False, self.t >= self.horizon, {}


def greedy_return(env: MoveToTarget, episodes: int, seed: int) -> float:
    """Mean return of the optimal controller (move straight to the target)."""
    total = 0.0
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            obs, r, term, trunc, _ = env.step(np.clip((obs[1] - obs[0]) / 0.5, -1, 1))
            total += r
            done = term or trunc
    return total / episodes
