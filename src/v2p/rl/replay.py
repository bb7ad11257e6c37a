"""Replay storage in preallocated tensors (on the learner's device), sampled uniformly or by novelty priority.

A buffer made with `reward_parts=k` stores k reward parts per transition instead of a reward, and prices them
when a batch is sampled: reward = parts · `reward_weights` (see `v2p.economics.reward`: a learner under a
constraint stores its reward and its constraint cost apart and combines them with the current multiplier).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from v2p.rl.novelty import NoveltyEstimator


class Batch(NamedTuple):
    obs: torch.Tensor  # (B, obs_dim) float32
    action: torch.Tensor  # (B, action_dim) in the unit box [-1, 1]
    reward: torch.Tensor  # (B,)
    next_obs: torch.Tensor
    done: torch.Tensor  # (B,) 1.0 where the episode terminated (not merely truncated): no bootstrap
    weight: torch.Tensor | None = None  # (B,) importance weights; None for uniform sampling
    index: np.ndarray | None = None  # buffer slots the batch came from


class ReplayBuffer:
    """A ring buffer of transitions. `add` stores one, `add_batch` many (the bag learner builds its own)."""

    def __init__(self, capacity: int, obs_dim: int, action_dim: int, device: str | torch.device = "cpu",
                 seed: int | None = None, reward_parts: int = 0):
        self.capacity, self.obs_dim, self.action_dim = capacity, obs_dim, action_dim
        self.reward_parts = int(reward_parts)
        self.device = torch.device(device)
        alloc = dict(dtype=torch.float32, device=self.device)
        self.obs = torch.zeros(capacity, obs_dim, **alloc)
        self.next_obs = torch.zeros(capacity, obs_dim, **alloc)
        self.action = torch.zeros(capacity, action_dim, **alloc)
        self.reward = torch.zeros(capacity, **alloc)
        self.done = torch.zeros(capacity, **alloc)
        self.parts = torch.zeros(capacity, self.reward_parts, **alloc) if self.reward_parts else None
        self.reward_weights: torch.Tensor | None = None  # set_reward_weights, before the first sample
        self.pos = 0
        self.size = 0
        self._gen = torch.Generator(device=self.device)
        self._gen.manual_seed(np.random.SeedSequence(seed).generate_state(1)[0].item())

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward: float | None, next_obs, done: bool, parts=None) -> None:
        self.add_batch(np.asarray(obs)[None], np.asarray(action)[None],
                       None if reward is None else np.asarray([reward]), np.asarray(next_obs)[None],
                       np.asarray([done]), None if parts is None else np.asarray(parts)[None])

    def add_batch(self, obs, action, reward, next_obs, done, parts=None) -> np.ndarray:
        """Store N transitions (arrays with a leading N); returns the slots written. Oldest are overwritten.

        `action` is in the unit box [-1, 1] (SACAgent.unit_action converts env units); `done` marks terminal
        states only, not time limits. A buffer with reward parts takes `parts` (N, k) and no reward."""
        if (parts is None) != (self.parts is None) or (self.parts is not None and reward is not None):
            raise ValueError(f"add_batch: this buffer stores {'reward parts' if self.parts is not None else 'rewards'}"
                             f"; got {'parts' if parts is not None else 'no parts'} and "
                             f"{'a reward' if reward is not None else 'no reward'}")
        if parts is not None:
            reward = np.zeros(len(parts), dtype=np.float32)  # priced at sampling time
        cols = [self._tensor(x, width) for x, width in
                ((obs, self.obs_dim), (action, self.action_dim), (reward, None), (next_obs, self.obs_dim),
                 (done, None))]
        if parts is not None:
            cols.append(self._tensor(parts, self.reward_parts))
        n = len(cols[0])
        if any(len(c) != n for c in cols):
            raise ValueError(f"add_batch: columns differ in length: {[len(c) for c in cols]}")
        kept = min(n, self.capacity)  # only the newest `capacity` survive, in the slots sequential adds would use
        cols = [c[n - kept:] for c in cols]
        slots = (self.pos + n - kept + np.arange(kept)) % self.capacity
        index = torch.from_numpy(slots).to(self.device)
        stores = (self.obs, self.action, self.reward, self.next_obs, self.done, self.parts)
        for store, col in zip(stores, cols):
            store.index_copy_(0, index, col)
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        self._on_added(slots, cols[0])
        return slots

    def set_reward_weights(self, weights) -> None:
        """The weights that price the stored reward parts from now on: reward = parts · weights."""
        w = self._tensor(weights, None)
        if self.parts is None or w.numel() != self.reward_parts or not torch.isfinite(w).all():
            raise ValueError(f"reward weights must be {self.reward_parts} finite numbers for a buffer with reward "
                             f"parts, got {list(np.asarray(weights).reshape(-1))}")
        self.reward_weights = w

    def sample(self, batch_size: int, beta: float = 1.0) -> Batch:
        """A uniform batch (with replacement). `beta` only matters for prioritised buffers."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = torch.randint(0, self.size, (batch_size,), device=self.device, generator=self._gen)
        return self._gather(index)

    def _gather(self, index: torch.Tensor, weight: torch.Tensor | None = None,
                slots: np.ndarray | None = None) -> Batch:
        if self.parts is None:
            reward = self.reward[index]
        elif self.reward_weights is None:
            raise ValueError("this buffer stores reward parts: set_reward_weights before sampling")
        else:
            reward = self.parts[index] @ self.reward_weights
        return Batch(self.obs[index], self.action[index], reward, self.next_obs[index], self.done[index], weight,
                     slots)

    def _tensor(self, x, width: int | None) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        t = t.reshape(-1) if width is None else t.reshape(-1, width)
        return t.to(self.device, non_blocking=True)

    def _on_added(self, slots: np.ndarray, obs: torch.Tensor) -> None:
        """Hook for subclasses that keep per-slot state."""


class SumTree:
    """Sum- and min-trees over `capacity` priorities, with batched (vectorised) sampling and updates.

    Leaves live at [size, 2*size) of a flat array (size = capacity rounded up to a power of two); node i holds
    the sum of nodes 2i and 2i+1. Every operation walks all levels for the whole batch at once.
    """

    def __init__(self, capacity: int):
        self.leaves = 1 << max(0, (capacity - 1).bit_length())
        self.depth = self.leaves.bit_length() - 1
        self.sums = np.zeros(2 * self.leaves, dtype=np.float64)
        self.mins = np.full(2 * self.leaves, np.inf, dtype=np.float64)

    @property
    def total(self) -> float:
        return float(self.sums[1])

    @property
    def min(self) -> float:
        return float(self.mins[1])

    def priority(self, slots: np.ndarray) -> np.ndarray:
        return self.sums[self.leaves + slots]

    def update(self, slots: np.ndarray, priorities: np.ndarray) -> None:
        node = self.leaves + np.asarray(slots, dtype=np.int64)
        self.sums[node] = priorities
        self.mins[node] = priorities
        for _ in range(self.depth):
            node = node >> 1  # duplicates just recompute the same parent
            self.sums[node] = self.sums[2 * node] + self.sums[2 * node + 1]
            self.mins[node] = np.minimum(self.mins[2 * node], self.mins[2 * node + 1])

    def find(self, mass: np.ndarray) -> np.ndarray:
        """Slots whose cumulative-priority interval contains each value of `mass` (0 <= mass < total)."""
        node = np.ones(len(mass), dtype=np.int64)
        mass = np.array(mass, dtype=np.float64)
        for _ in range(self.depth):
            left = 2 * node
            left_sum = self.sums[left]
            right = mass >= left_sum
            mass = np.where(right, mass - left_sum, mass)
            node = np.where(right, left + 1, left)
        return node - self.leaves


class PrioritizedReplayBuffer(ReplayBuffer):
    """Novelty-prioritised replay: P(i) ∝ (novelty_i + eps)^alpha, importance weights (N·P(i))^-β / max_j w_j.

    A transition's novelty is its observation's kNN novelty (see novelty.py) scored when it is added and
    re-scored each time it is sampled, so priorities fall as the memory fills with similar states.
    """

    def __init__(self, capacity: int, obs_dim: int, action_dim: int, novelty: NoveltyEstimator,
                 alpha: float = 0.6, eps: float = 1e-3, device: str | torch.device = "cpu", seed: int | None = None,
                 reward_parts: int = 0):
        super().__init__(capacity, obs_dim, action_dim, device, seed, reward_parts)
        self.novelty, self.alpha, self.eps = novelty, alpha, eps
        self.tree = SumTree(capacity)
        self.max_priority = 1.0
        self.novelty_at_add = np.zeros(capacity, dtype=np.float32)  # each slot's novelty when it was stored
        self._rng = np.random.default_rng(seed)

    def priorities_of(self, novelty: np.ndarray) -> np.ndarray:
        # before anything was observed every state is new: give it the highest priority given so far (or 1)
        finite = np.isfinite(novelty)
        p = np.where(finite, (np.where(finite, novelty, 0.0) + self.eps) ** self.alpha, self.max_priority)
        self.max_priority = max(self.max_priority, float(p.max(initial=0.0)))
        return p.astype(np.float64)

    def _on_added(self, slots: np.ndarray, obs: torch.Tensor) -> None:
        obs_np = obs.cpu().numpy()
        score = self.novelty.score(obs_np)
        self.novelty_at_add[slots] = score
        self.tree.update(slots, self.priorities_of(score))
        self.novelty.observe(obs_np)

    def sample(self, batch_size: int, beta: float = 1.0) -> Batch:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        total = self.tree.total
        # stratified: one draw from each of batch_size equal slices of the total mass (lower variance)
        mass = (np.arange(batch_size) + self._rng.random(batch_size)) * (total / batch_size)
        slots = np.minimum(self.tree.find(np.minimum(mass, np.nextafter(total, 0))), self.size - 1)
        prob = self.tree.priority(slots) / total
        # w_i = (N P(i))^-β normalised by the largest possible weight, that of the least likely transition
        max_weight = (self.size * self.tree.min / total) ** -beta
        weight = (self.size * prob) ** -beta / max_weight
        index = torch.from_numpy(slots).to(self.device)
        batch = self._gather(index, torch.as_tensor(weight, dtype=torch.float32).to(self.device), slots)
        self.tree.update(slots, self.priorities_of(self.novelty.score(batch.obs.cpu().numpy())))
        return batch
