"""Novelty of observations: k-nearest-neighbour distance to a uniform sample of everything observed so far.

Choice and why: novelty(s) = mean Euclidean distance from s to its k nearest neighbours in a reservoir of
`memory` observations (Vitter's Algorithm R keeps it a uniform sample of all observations ever seen), in
coordinates standardised by the running mean and std of those observations. It needs no training, is
deterministic given the data, and works the same in state space and in an encoder's latent space. A state seen
often fills the reservoir with copies of itself and its k nearest neighbours sit at distance ~0; a state unlike
anything seen is far from all of them. The economics data-value estimator (novelty -> ΔMPL) reads `score`.
"""

from __future__ import annotations

import numpy as np
import torch


class NoveltyEstimator:
    def __init__(self, obs_dim: int, k: int = 10, memory: int = 4096, seed: int | None = None, chunk: int = 4096):
        if k < 1 or memory < k:
            raise ValueError(f"need 1 <= k <= memory, got k={k} memory={memory}")
        self.obs_dim, self.k, self.memory_size, self.chunk = obs_dim, k, memory, chunk
        self.memory = np.zeros((memory, obs_dim), dtype=np.float32)
        self.count = 0  # observations ever seen
        self._mean = np.zeros(obs_dim, dtype=np.float64)
        self._m2 = np.zeros(obs_dim, dtype=np.float64)
        self._rng = np.random.default_rng(seed)

    @property
    def stored(self) -> int:
        return min(self.count, self.memory_size)

    def observe(self, obs_batch: np.ndarray) -> None:
        """Add observations: update the running mean/std and the reservoir."""
        x = self._as_batch(obs_batch)
        n = len(x)
        if n == 0:
            return
        # Chan et al.'s parallel update of mean and sum of squared deviations
        batch_mean = x.mean(0, dtype=np.float64)
        batch_m2 = ((x - batch_mean) ** 2).sum(0, dtype=np.float64)
        total = self.count + n
        delta = batch_mean - self._mean
        self._mean += delta * n / total
        self._m2 += batch_m2 + delta**2 * self.count * n / total
        # Algorithm R, vectorised: item number t (0-based) takes slot t while the reservoir fills, afterwards
        # slot j ~ U{0..t} if j < memory
        t = np.arange(self.count, total)
        slot = np.where(t < self.memory_size, t, (self._rng.random(n) * (t + 1)).astype(np.int64))
        keep = slot < self.memory_size
        self.memory[slot[keep]] = x[keep]
        self.count = total

    def score(self, obs_batch: np.ndarray) -> np.ndarray:
        """Novelty of each observation, shape (N,), float32; +inf for all while nothing has been observed."""
        x = self._as_batch(obs_batch)
        if self.count == 0:
            return np.full(len(x), np.inf, dtype=np.float32)
        std = np.sqrt(self._m2 / max(self.count - 1, 1)).clip(min=1e-3)
        scale = torch.from_numpy((1.0 / std).astype(np.float32))
        mean = torch.from_numpy(self._mean.astype(np.float32))
        memory = (torch.from_numpy(self.memory[: self.stored]) - mean) * scale
        k = min(self.k, self.stored)
        out = np.empty(len(x), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(x), self.chunk):
                query = (torch.from_numpy(x[start : start + self.chunk]) - mean) * scale
                dist = torch.cdist(query, memory)
                out[start : start + len(query)] = dist.topk(k, dim=1, largest=False).values.mean(1).numpy()
        return out

    def _as_batch(self, obs_batch: np.ndarray) -> np.ndarray:
        x = np.asarray(obs_batch, dtype=np.float32).reshape(-1, self.obs_dim)
        return np.ascontiguousarray(x)
