"""Helpers for the encoder tests: a synthetic frame dataset whose pixels encode its targets, random clips."""

from __future__ import annotations

import numpy as np
import torch

from v2p.encoders.dataset import FrameDataset


def synthetic_dataset(episodes: int = 10, frames_per_episode: int = 40, size: int = 32, seed: int = 0) -> FrameDataset:
    """Frames that show their targets: red level of the left half = dish dirt, the green square's quadrant = arm
    phase (top row = dish held), a bar moving `speed` rows per frame, and blue level = care."""
    rng = np.random.default_rng(seed)
    frames, episode = [], []
    rows: dict[str, list[float]] = {k: [] for k in ("dish_dirt", "dish_held", "arm_phase", "speed", "care")}
    q = size // 2
    for ep in range(episodes):
        speed, care = rng.uniform(0.5, 2.0), rng.uniform(0.0, 1.0)
        dirt, phase, bar = rng.uniform(0, 1), int(rng.integers(4)), 0.0
        for _ in range(frames_per_episode):
            if rng.random() < 0.1:
                phase = int(rng.integers(4))
            dirt = float(np.clip(dirt + rng.normal(0, 0.1), 0, 1))
            bar = (bar + speed) % size
            img = np.zeros((size, size, 3), np.uint8)
            img[:, :q, 0] = int(255 * dirt)
            img[:, :, 2] = int(200 * care)
            r, c = divmod(phase, 2)
            img[r * q + 4 : r * q + 12, c * q + 4 : c * q + 12, 1] = 255
            img[int(bar), :, 1] = 128
            frames.append(img)
            episode.append(ep)
            for k, v in (("dish_dirt", dirt), ("dish_held", int(r == 0)), ("arm_phase", phase), ("speed", speed),
                         ("care", care)):
                rows[k].append(v)
    targets = {k: np.asarray(v, np.int64 if k in ("dish_held", "arm_phase") else np.float32) for k, v in rows.items()}
    return FrameDataset(np.stack(frames), np.asarray(episode, np.int64), targets)


def random_clip(batch: int, clip_len: int, size: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (batch, clip_len, size, size, 3), generator=g, dtype=torch.uint8)
