"""SAC on a gymnasium env, with the API of Stable-Baselines3: SAC(env, **config).learn(...).predict(...)."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from v2p.errors import V2PError
from v2p.rl.agent import METRICS, SACAgent, resolve_device
from v2p.rl.callbacks import Callback, as_callbacks
from v2p.rl.checkpoint import (CheckpointError, check_space, check_tensors, load_checkpoint, read_spec,
                               save_checkpoint, space_to_json)
from v2p.rl.config import SACConfig, resolve_threads
from v2p.rl.episode_log import EpisodeLog, economics_columns, has_shift_info
from v2p.rl.novelty import NoveltyEstimator
from v2p.rl.replay import PrioritizedReplayBuffer, ReplayBuffer


def _check_box(space: Any, what: str) -> None:
    import gymnasium as gym

    if not isinstance(space, gym.spaces.Box):
        raise V2PError(f"SAC needs a Box {what} space, got {space}")
    if what == "action" and not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        raise V2PError(f"SAC needs finite action bounds, got low={space.low} high={space.high}")


class SAC:
    """Soft Actor-Critic. `env` may be None only when both spaces are given (as `SAC.load` does)."""

    def __init__(self, env: Any, *, config: SACConfig | None = None, log_dir: str | Path | None = None,
                 tensorboard: bool = True, econ_cfg: Any = None, observation_space: Any = None,
                 action_space: Any = None, **overrides: Any):
        self.config = dataclasses.replace(config or SACConfig(), **overrides) if overrides else (config or SACConfig())
        self.env = env
        self.observation_space = observation_space if observation_space is not None else env.observation_space
        self.action_space = action_space if action_space is not None else env.action_space
        _check_box(self.observation_space, "observation")
        _check_box(self.action_space, "action")
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.tensorboard = tensorboard  # TensorBoard scalars in log_dir too, when tensorboard is installed
        self.econ_cfg = econ_cfg
        cfg = self.config
        self.threads = resolve_threads(cfg.threads)
        torch.set_num_threads(self.threads)
        if cfg.seed is not None:
            torch.manual_seed(cfg.seed)
        self.device = resolve_device(cfg.device)
        self.obs_dim = int(np.prod(self.observation_space.shape))
        self.action_dim = int(np.prod(self.action_space.shape))
        self.low = np.asarray(self.action_space.low, dtype=np.float32).reshape(-1)
        self.high = np.asarray(self.action_space.high, dtype=np.float32).reshape(-1)
        self.agent = SACAgent(self.obs_dim, self.action_dim, self.low, self.high, cfg, self.device)
        self.novelty: NoveltyEstimator | None = None
        self._buffer: ReplayBuffer | None = None
        self.rng = np.random.default_rng(cfg.seed)
        self.num_timesteps = 0
        self.episodes = 0
        self.log = EpisodeLog(None)
        self._obs: np.ndarray | None = None

    @property
    def replay_buffer(self) -> ReplayBuffer:
        """Allocated at first use (a 1e6-transition buffer is not free)."""
        if self._buffer is None:
            cfg, seed = self.config, self.config.seed
            if cfg.replay == "novelty":
                self.novelty = NoveltyEstimator(self.obs_dim, cfg.novelty_k, cfg.novelty_memory, seed)
                self._buffer = PrioritizedReplayBuffer(cfg.buffer_size, self.obs_dim, self.action_dim, self.novelty,
                                                       cfg.per_alpha, cfg.per_eps, self.device, seed,
                                                       cfg.reward_parts)
            else:
                self._buffer = ReplayBuffer(cfg.buffer_size, self.obs_dim, self.action_dim, self.device, seed,
                                            cfg.reward_parts)
        return self._buffer

    @property
    def stored_transitions(self) -> int:
        """Transitions in the replay buffer; 0 before its first use (asking does not allocate it)."""
        return 0 if self._buffer is None else len(self._buffer)

    # ---- training ----
    def learn(self, total_timesteps: int, callback: Callback | list[Callback] | None = None,
              progress_bar: bool = True) -> SAC:
        """Collect `total_timesteps` env steps, updating as configured. Returns self (SB3 style)."""
        from tqdm import tqdm

        if self.env is None:
            raise V2PError("this SAC has no env to learn from; pass env= to SAC.load")
        cfg, agent, buffer = self.config, self.agent, self.replay_buffer
        callbacks = as_callbacks(callback)
        if self.log.path is None and self.log_dir is not None:
            self.log = EpisodeLog(self.log_dir, tensorboard=self.tensorboard)
        if self._obs is None:
            self._obs, _ = self.env.reset(seed=cfg.seed)
            self.action_space.seed(cfg.seed)
        for c in callbacks:
            c.on_training_start(self)
        start_steps, start_updates, t0 = self.num_timesteps, agent.updates, time.perf_counter()
        ep_return, ep_len, ep_t0 = 0.0, 0, time.perf_counter()
        metrics: dict[str, torch.Tensor] = {}
        bar = tqdm(total=total_timesteps, disable=not progress_bar, unit="step", dynamic_ncols=True, leave=False)
        stop = False
        try:
            while self.num_timesteps - start_steps < total_timesteps and not stop:
                obs = np.asarray(self._obs, dtype=np.float32).reshape(-1)
                if self.num_timesteps < cfg.learning_starts:  # warm-up: uniform actions, as SB3
                    unit = self.rng.uniform(-1.0, 1.0, self.action_dim).astype(np.float32)
                else:
                    unit = agent.act_unit(obs)
                action = (self.low + (unit + 1.0) * 0.5 * (self.high - self.low)).reshape(self.action_space.shape)
                next_obs, reward, terminated, truncated, info = self.env.step(action)
                ep_return += float(reward)
                ep_len += 1
                for c in callbacks:
                    reward = c.reward(float(reward), info)
                # truncation (time limit) is not a terminal state: the target still bootstraps from next_obs
                next_flat = np.asarray(next_obs, dtype=np.float32).reshape(-1)
                if cfg.reward_parts:  # the env reports its reward in parts and the weights that price them now
                    parts, weights = _reward_parts(info, cfg.reward_parts)
                    buffer.add(obs, unit, None, next_flat, terminated, parts)
                    buffer.set_reward_weights(weights)
                else:
                    buffer.add(obs, unit, float(reward), next_flat, terminated)
                self._obs = next_obs
                self.num_timesteps += 1
                bar.update(1)
                if self.num_timesteps > cfg.learning_starts and self.num_timesteps % cfg.train_freq == 0:
                    beta = cfg.per_beta + (1.0 - cfg.per_beta) * min(1.0, (self.num_timesteps - start_steps)
                                                                      / total_timesteps)
                    for _ in range(cfg.gradient_steps):
                        metrics = agent.update(buffer.sample(cfg.batch_size, beta))
                stop = not all(c.on_step(self) for c in callbacks)
                if terminated or truncated:
                    self.episodes += 1
                    row = {"episode": self.episodes, "steps": ep_len, "total_steps": self.num_timesteps,
                           "return": ep_return}
                    if has_shift_info(info):
                        row |= economics_columns(info, self._econ())
                    # one host read per episode (a sync on GPU), never per update
                    row |= {k: float(metrics[k]) if metrics else math.nan for k in METRICS}
                    if isinstance(buffer, PrioritizedReplayBuffer):  # the episode's states, as they were stored
                        slots = (buffer.pos - 1 - np.arange(min(ep_len, buffer.size))) % buffer.capacity
                        fresh = buffer.novelty_at_add[slots]
                        fresh = fresh[np.isfinite(fresh)]
                        row["novelty_raw"] = float(fresh.mean()) if len(fresh) else math.nan
                    row["updates"] = agent.updates
                    row["wall_s"] = time.perf_counter() - ep_t0
                    stop = not all([c.on_episode_end(self, row, info) for c in callbacks]) or stop
                    self.log.write(row)
                    bar.set_postfix({"return": f"{ep_return:.4g}", "ep": self.episodes}, refresh=False)
                    self._obs, _ = self.env.reset()
                    ep_return, ep_len, ep_t0 = 0.0, 0, time.perf_counter()
        finally:
            bar.close()
            self.log.close()
        elapsed = time.perf_counter() - t0
        self.train_seconds = elapsed
        self.updates_per_second = (agent.updates - start_updates) / elapsed if elapsed > 0 else 0.0
        return self

    def _econ(self) -> Any:
        if self.econ_cfg is None:
            from v2p.config import load_economics_config

            self.econ_cfg = load_economics_config()
        return self.econ_cfg

    @property
    def episode_rows(self) -> list[dict[str, Any]]:
        return self.log.rows

    # ---- inference ----
    def predict(self, observation: np.ndarray, state: Any = None, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """(action, None) in env units, for one observation or a batch (leading dimension), as SB3."""
        obs = np.asarray(observation, dtype=np.float32)
        single = obs.shape == tuple(self.observation_space.shape)
        action = self.agent.act(obs.reshape(-1, self.obs_dim), deterministic)
        shape = tuple(self.action_space.shape)
        return (action.reshape(shape) if single else action.reshape(-1, *shape)), None

    # ---- checkpoints ----
    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Checkpoint directory `path` (see checkpoint.py): weights, temperature, optimizer state, metadata."""
        meta = {"config": self.config.to_dict(),
                "spaces": {"obs": space_to_json(self.observation_space), "action": space_to_json(self.action_space)},
                "step": self.num_timesteps, "updates": self.agent.updates, "episodes": self.episodes,
                "extra": extra or {}}
        return save_checkpoint(path, self.agent.tensors(), meta)

    @classmethod
    def load(cls, path: str | Path, env: Any = None, **overrides: Any) -> SAC:
        """A SAC from checkpoint `path`; with `env`, its spaces must match the checkpoint's (CheckpointError).

        `overrides` change run-time settings such as device or threads (not the network layout)."""
        path = Path(path)
        tensors, meta = load_checkpoint(path)
        config, obs_space, act_space = read_spec(path, meta)
        if env is not None:
            check_space(path, "observation", meta["spaces"]["obs"], env.observation_space)
            check_space(path, "action", meta["spaces"]["action"], env.action_space)
            obs_space, act_space = env.observation_space, env.action_space
        model = cls(env, config=config, observation_space=obs_space, action_space=act_space, **overrides)
        expected = {k: v for k, v in model.agent.tensors().items() if not k.startswith("optim.")}
        for prefix in ("actor.", "critic.", "critic_target.", "log_alpha"):
            check_tensors(path, expected, tensors, prefix)
        for k, v in tensors.items():  # optimizer moments must match the parameter they belong to
            if k.startswith("optim.") and not k.endswith(".step"):
                i = int(k.split(".")[1])
                params = model.agent.optimizer.param_groups[0]["params"]
                if i >= len(params) or tuple(params[i].shape) != tuple(v.shape):
                    raise CheckpointError(f"{path / 'model.safetensors'}: optimizer tensor '{k}' has shape "
                                          f"{tuple(v.shape)}, which matches no parameter of the model")
        model.agent.load_tensors(tensors)
        model.agent.updates = int(meta.get("updates", 0))
        model.num_timesteps = int(meta.get("step", 0))
        model.episodes = int(meta.get("episodes", 0))
        model.metadata = meta
        return model


def _reward_parts(info: dict[str, Any], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The step's reward parts and their current weights from the env's info (config reward_parts = k)."""
    try:
        parts = np.asarray(info["reward_parts"], dtype=np.float32).reshape(-1)
        weights = np.asarray(info["reward_weights"], dtype=np.float32).reshape(-1)
    except KeyError as exc:
        raise V2PError(f"SAC config reward_parts={k} needs the env's info to carry {exc} (v2p.task.env.TaskEnv "
                       "does)") from None
    if parts.size != k or weights.size != k:
        raise V2PError(f"the env reports {parts.size} reward parts and {weights.size} weights; the SAC config "
                       f"says reward_parts={k}")
    return parts, weights


def evaluate(model: SAC, env: Any, episodes: int = 10, seed: int | None = None) -> tuple[float, float]:
    """Mean and std of the undiscounted return of `episodes` deterministic episodes."""
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=None if seed is None else seed + i)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns)), float(np.std(returns))
