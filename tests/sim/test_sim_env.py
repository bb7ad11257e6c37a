"""V2PDishwashing-v0: registration, the gymnasium checker, the reward's telescoping to the shift's $/h."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import v2p_sim
from v2p.config import load_economics_config
from v2p.economics.reward import reward_weights
from v2p.task.dishwashing import STATE

from sim_helpers import SHORT_SHIFT_H


def test_registered_and_check_env_passes() -> None:
    env = gym.make(v2p_sim.ENV_ID, shift_hours=0.01)
    try:
        assert isinstance(env.unwrapped, v2p_sim.DishwashingEnv)
        check_env(env.unwrapped, skip_render_check=False)
    finally:
        env.close()


def test_image_observations_and_render() -> None:
    env = gym.make(v2p_sim.ENV_ID, image_obs=True, image_size=32, render_mode="rgb_array", shift_hours=0.01)
    try:
        check_env(env.unwrapped)
        obs, _ = env.reset(seed=1)
        assert obs["image"].shape == (32, 32, 3) and obs["image"].dtype == np.uint8
        assert obs["state"].shape == (STATE.dim,)
        assert env.render().shape == (32, 32, 3)
    finally:
        env.close()


def test_rewards_sum_to_the_shifts_wage_against_the_going_rate() -> None:
    cfg = load_economics_config()
    env = v2p_sim.DishwashingEnv(shift_hours=SHORT_SHIFT_H, lagrange_multiplier=40.0, sla_target=0.05)
    env.set_going_rate(25.0)
    try:
        obs, info = env.reset(seed=3)
        assert info["attempts"] == 0 and info["events"] == []
        total, done, steps, parts = 0.0, False, 0, np.zeros(3)
        while not done:
            obs, reward, done, truncated, info = env.step(np.array([1.0, 0.2], dtype=np.float32))
            assert not truncated and len(info["events"]) == 1
            assert info["reward_weights"] == reward_weights(25.0, 40.0, 0.05)
            assert reward == pytest.approx(np.dot(info["reward_parts"], info["reward_weights"]), rel=1e-12)
            total += reward
            parts += info["reward_parts"]
            steps += 1
        assert info["sim_time_s"] >= SHORT_SHIFT_H * 3600 and info["attempts"] == steps
        assert info["units"] + info["errors"] == info["attempts"]
        assert sum(info["errors_by_type"].values()) == info["errors"]
        hours = info["sim_time_s"] / 3600
        value = cfg.unit_price * info["units"] - cfg.error_cost * info["errors"]
        assert parts[0] == pytest.approx(value / SHORT_SHIFT_H, rel=1e-9)
        assert parts[1] == pytest.approx(hours / SHORT_SHIFT_H, rel=1e-9)
        assert 0 < parts[2] <= parts[1]  # this careless action fails dishes: their cycles carry the SLA's charge
        assert total == pytest.approx(parts[0] - (25.0 - 40.0 * 0.05) * parts[1] - 40.0 * parts[2], rel=1e-9)
    finally:
        env.close()


def test_constraint_knobs_and_bad_input() -> None:
    env = v2p_sim.DishwashingEnv(shift_hours=SHORT_SHIFT_H)
    try:
        env.reset(seed=0)
        env.unwrapped.set_lagrange_multiplier(12.5)
        env.unwrapped.set_sla_target(0.04)
        assert (env.lam, env.sla_target) == (12.5, 0.04)
        with pytest.raises(ValueError):
            env.set_lagrange_multiplier(-1.0)
        with pytest.raises(ValueError):
            env.set_sla_target(1.5)
        with pytest.raises(ValueError, match="action"):
            env.step(np.array([np.nan, 0.5]))
        with pytest.raises(ValueError, match="action"):
            env.step(np.array([1.2, 0.5]))
    finally:
        env.close()


def test_same_reset_seed_same_episode() -> None:
    def rollout() -> list:
        env = v2p_sim.DishwashingEnv(site="customer_bistro", shift_hours=0.01)
        try:
            obs, _ = env.reset(seed=9)
            out = [obs.tolist()]
            done = False
            while not done:
                obs, reward, done, _, info = env.step(np.array([0.8, 0.5], dtype=np.float32))
                out.append((obs.tolist(), reward, info["events"]))
            return out
        finally:
            env.close()

    assert rollout() == rollout()


def test_state_views_keep_the_fields_of_their_sources() -> None:
    full = gym.make(v2p_sim.ENV_ID, shift_hours=0.01)
    observable = gym.make(v2p_sim.ENV_ID, shift_hours=0.01, observation="observable_state")
    robot = gym.make(v2p_sim.ENV_ID, shift_hours=0.01, observation="robot_state", image_obs=True, image_size=32)
    try:
        check_env(observable.unwrapped)
        for env in (full, observable, robot):
            env.reset(seed=2)
        for _ in range(2):
            state, *_ = full.step(np.array([0.6, 0.9], np.float32))
            seen, *_ = observable.step(np.array([0.6, 0.9], np.float32))
            mine, *_ = robot.step(np.array([0.6, 0.9], np.float32))
            np.testing.assert_array_equal(seen, state[list(STATE.view("observable_state"))])
            np.testing.assert_array_equal(mine["state"], state[list(STATE.view("robot_state"))])
        assert observable.observation_space.shape == (STATE.dim - 3,)  # mass, wet friction and dirt left out
    finally:
        for env in (full, observable, robot):
            env.close()
    with pytest.raises(ValueError, match="observable_state"):
        gym.make(v2p_sim.ENV_ID, observation="pixels")
