"""Streaming video encoder: a per-frame 2D CNN, a ring buffer of frame features, and a temporal layer.

A 3D CNN must re-encode all T frames whenever a frame arrives. Here the expensive part (the 2D CNN) runs once per
frame; its feature vector goes into a ring buffer of the last T features, and a small causal temporal convolution
is recomputed over the buffer (T x 128 numbers, negligible). The clip path runs the very same two stages over all
frames, so streaming and clip latents agree to float rounding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from v2p.encoders.base import LATENT_DIM, EncoderInputError, VideoEncoder


class FrameCNN(nn.Module):
    """[N, 3, S, S] normalised frames -> [N, feature_dim]. Four stride-2 stages, then a coarse 4x4 grid."""

    def __init__(self, feature_dim: int, width: int) -> None:
        super().__init__()
        w = width
        self.stages = nn.Sequential(
            nn.Conv2d(3, w, 5, stride=2, padding=2), nn.GroupNorm(8, w), nn.GELU(),
            nn.Conv2d(w, w, 3, padding=1), nn.GroupNorm(8, w), nn.GELU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 2 * w), nn.GELU(),
            nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 2 * w), nn.GELU(),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 4 * w), nn.GELU(),
        )
        # Keep a 4x4 grid rather than a global average: where the gripper and dish are matters (arm phase, held).
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(4 * w * 16, feature_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.pool(self.stages(x)).flatten(1))


class TemporalHead(nn.Module):
    """[B, T, D] frame features (oldest first) -> [B, LATENT_DIM]. Causal dilated convs over time."""

    def __init__(self, clip_len: int, dim: int) -> None:
        super().__init__()
        self.clip_len = clip_len
        self.pos = nn.Parameter(torch.randn(clip_len, dim) * 0.02)  # position within the window
        self.norm = nn.LayerNorm(dim)
        self.conv1 = nn.Conv1d(dim, dim, 3, padding=2)
        self.conv2 = nn.Conv1d(dim, dim, 3, padding=4, dilation=2)
        self.out = nn.Sequential(nn.LayerNorm(2 * dim), nn.Linear(2 * dim, LATENT_DIM))

    def forward(self, feats: Tensor) -> Tensor:
        t = feats.shape[1]
        h = feats + self.pos
        x = self.norm(h).transpose(1, 2)
        x = F.gelu(self.conv1(x)[..., :t])  # trimming the right pad makes each step see only the past
        x = self.conv2(x)[..., :t]
        h = h + x.transpose(1, 2)
        return self.out(torch.cat([h[:, -1], h.mean(dim=1)], dim=1))


class StreamingVideoEncoder(VideoEncoder):
    """Clip [B, T, H, W, 3] RGB (uint8 or float in [0, 1]) -> [B, LATENT_DIM], and `push(frame)` per frame."""

    kind = "streaming"

    def __init__(self, clip_len: int = 8, frame_size: int = 64, feature_dim: int = 128, width: int = 32) -> None:
        super().__init__(clip_len, frame_size)
        if width % 8:
            raise EncoderInputError(f"width must be a multiple of 8 (GroupNorm groups), got {width}")
        self.feature_dim = int(feature_dim)
        self.width = int(width)
        self.frame_cnn = FrameCNN(self.feature_dim, self.width)
        self.temporal = TemporalHead(self.clip_len, self.feature_dim)
        self._ring: Tensor | None = None  # [B, T, D] frame features
        self._oldest = 0  # ring slot holding the oldest feature

    def config(self) -> dict[str, object]:
        return {"clip_len": self.clip_len, "frame_size": self.frame_size, "feature_dim": self.feature_dim,
                "width": self.width}

    def frame_features(self, frames: Tensor) -> Tensor:
        """[N, H, W, 3] frames -> [N, feature_dim]: the per-frame (expensive) stage."""
        return self.frame_cnn(self.normalise_frames(frames))

    def forward(self, obs: Tensor) -> Tensor:
        self.check_clip(obs)
        b, t = obs.shape[:2]
        feats = self.frame_features(obs.reshape(b * t, *obs.shape[2:])).view(b, t, self.feature_dim)
        return self.temporal(feats)

    def encode_sequence(self, frames: Tensor) -> Tensor:
        """Like VideoEncoder.encode_sequence, but each frame goes through the CNN once."""
        t = self.clip_len
        if frames.dim() != 5 or frames.shape[1] < t:
            raise EncoderInputError(
                f"streaming encode_sequence() expects [B, L >= {t}, H, W, 3], got shape {tuple(frames.shape)}"
            )
        self._check_frame_dims(tuple(frames.shape[2:]), f"[B, L, {self.frame_size}, {self.frame_size}, 3]",
                               tuple(frames.shape))
        self._check_dtype(frames)
        b, length = frames.shape[:2]
        feats = self.frame_features(frames.reshape(b * length, *frames.shape[2:])).view(b, length, -1)
        windows = feats.unfold(1, t, 1).transpose(2, 3)  # [B, L - T + 1, T, D]
        n = windows.shape[1]
        return self.temporal(windows.reshape(b * n, t, self.feature_dim)).view(b, n, LATENT_DIM)

    def reset(self) -> None:
        super().reset()
        self._ring = None
        self._oldest = 0

    @torch.no_grad()
    def push(self, frame: np.ndarray | Tensor) -> Tensor:
        """Add the newest frame(s) [H, W, 3] or [B, H, W, 3]; return [B, LATENT_DIM] at one frame's CNN cost."""
        feats = self.frame_features(self.as_frames(frame))
        if self._ring is None:
            # Same padding rule as the clip path: the first frame fills the whole window.
            self._ring = feats.unsqueeze(1).repeat(1, self.clip_len, 1)
            self._oldest = 0
        else:
            self._check_batch(feats.shape[0], self._ring.shape[0])
            self._ring[:, self._oldest] = feats
            self._oldest = (self._oldest + 1) % self.clip_len
        return self.temporal(self._ring.roll(-self._oldest, dims=1))
