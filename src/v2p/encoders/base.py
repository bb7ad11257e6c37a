"""The encoder interface: every encoder maps one observation to a LATENT_DIM latent.

Video encoders read clips shaped [B, T, H, W, 3]: RGB, channels last (the layout a camera, PyBullet's renderer
and sensor_msgs/Image "rgb8" all use), either uint8 in [0, 255] or float in [0, 1]. The encoder itself converts to
float and normalises with the Kinetics-400 mean/std, so callers never normalise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import torch
from torch import Tensor, nn

from v2p.errors import V2PError

LATENT_DIM = 128

# Kinetics-400 RGB statistics (torchvision's video models were trained with them); used by every video encoder so
# that a Kinetics-initialised R3D-18 sees the input it expects.
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)

EncoderKind = Literal["mlp", "r3d18", "streaming"]


class EncoderInputError(V2PError, ValueError):
    """An observation does not match what the encoder consumes (shape, frame size, channels, dtype)."""


@dataclass(frozen=True)
class InputSpec:
    """What an encoder consumes, per sample (the batch dimension is not included in `shape`)."""

    modality: Literal["state", "video"]
    shape: tuple[int, ...]  # state: (state_dim,); video: (clip_len, frame_size, frame_size, 3)
    dtypes: tuple[str, ...]  # accepted torch dtypes, by name
    layout: str  # human-readable axis names
    value_range: str  # what the values mean

    def describe(self) -> str:
        return f"{self.modality} [B, {', '.join(map(str, self.shape))}] ({self.layout}; {self.value_range})"


class Encoder(nn.Module):
    """Base class. `forward(obs) -> Tensor[B, LATENT_DIM]`; `kind` names the architecture in checkpoints."""

    kind: ClassVar[EncoderKind]
    input_spec: InputSpec

    def config(self) -> dict[str, object]:
        """Constructor kwargs that rebuild this architecture (stored in checkpoints); each encoder defines it."""
        raise TypeError(f"{type(self).__name__} does not define config(), so it cannot be checkpointed")

    def forward(self, obs: Tensor) -> Tensor:  # pragma: no cover - every subclass overrides
        raise TypeError(f"{type(self).__name__} does not define forward()")


class VideoEncoder(Encoder):
    """A clip encoder that also runs online: `reset()` then `push(frame)` once per camera frame.

    Before `clip_len` frames have been pushed, the clip is padded at the front with copies of the first frame, so
    `push` after k frames returns exactly `forward` of the padded clip. This base implementation keeps the last
    `clip_len` frames and re-encodes the whole clip on every push (what a 3D CNN must do);
    `StreamingVideoEncoder` overrides it to cost one frame's compute.
    """

    def __init__(self, clip_len: int, frame_size: int) -> None:
        super().__init__()
        if clip_len < 1:
            raise EncoderInputError(f"clip_len must be >= 1, got {clip_len}")
        if frame_size < 16:
            raise EncoderInputError(f"frame_size must be >= 16 pixels, got {frame_size}")
        self.clip_len = int(clip_len)
        self.frame_size = int(frame_size)
        self.input_spec = InputSpec(
            modality="video",
            shape=(self.clip_len, self.frame_size, self.frame_size, 3),
            dtypes=("uint8", "float32"),
            layout="T x H x W x C, RGB, channels last",
            value_range="uint8 in [0, 255] or float in [0, 1]; Kinetics mean/std applied inside the encoder",
        )
        self.register_buffer("pixel_mean", torch.tensor(KINETICS_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(KINETICS_STD).view(1, 3, 1, 1), persistent=False)
        self._window: Tensor | None = None  # [B, T, H, W, 3] frames kept by the default push

    # -- input handling -------------------------------------------------------------------------------------
    def check_clip(self, clip: Tensor) -> None:
        """Raise EncoderInputError unless `clip` is [B, clip_len, frame_size, frame_size, 3] uint8/float."""
        t, s = self.clip_len, self.frame_size
        want = f"[B, {t}, {s}, {s}, 3] (T x H x W x RGB, channels last)"
        if not isinstance(clip, Tensor):
            raise EncoderInputError(f"{self.kind} encoder expects a torch.Tensor clip {want}, got {type(clip).__name__}")
        if clip.dim() != 5:
            raise EncoderInputError(f"{self.kind} encoder expects a 5-D clip {want}, got shape {tuple(clip.shape)}")
        self._check_frame_dims(tuple(clip.shape[2:]), want, tuple(clip.shape))
        if clip.shape[1] != t:
            raise EncoderInputError(
                f"{self.kind} encoder expects clips of {t} frames {want}, got {clip.shape[1]} frames"
            )
        self._check_dtype(clip)

    def _check_frame_dims(self, hwc: tuple[int, ...], want: str, full: tuple[int, ...]) -> None:
        s = self.frame_size
        h, w, c = hwc
        if c != 3:
            hint = " (channels-first input? pass channels last)" if h == 3 else ""
            raise EncoderInputError(
                f"{self.kind} encoder expects 3 RGB channels in the last axis {want}, got {c} channels in "
                f"shape {full}{hint}"
            )
        if (h, w) != (s, s):
            raise EncoderInputError(
                f"{self.kind} encoder expects {s}x{s} frames {want}, got {h}x{w} frames in shape {full}; "
                f"render or resize frames to {s}x{s}"
            )

    def _check_dtype(self, x: Tensor) -> None:
        if x.dtype != torch.uint8 and not x.is_floating_point():
            raise EncoderInputError(f"{self.kind} encoder expects uint8 or float pixels, got dtype {x.dtype}")

    def normalise_frames(self, frames: Tensor) -> Tensor:
        """[N, H, W, 3] uint8/float -> [N, 3, H, W] float32, Kinetics-normalised."""
        x = frames.to(device=self.pixel_mean.device)
        x = x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
        x = x.permute(0, 3, 1, 2)
        return (x - self.pixel_mean) / self.pixel_std

    def as_frames(self, frame: np.ndarray | Tensor) -> Tensor:
        """One camera frame [H, W, 3] or a batch [B, H, W, 3] -> Tensor [B, H, W, 3] (validated)."""
        x = torch.as_tensor(frame)
        if x.dim() == 3:
            x = x.unsqueeze(0)
        s = self.frame_size
        want = f"[H, W, 3] or [B, H, W, 3] with H = W = {s} (RGB, channels last)"
        if x.dim() != 4:
            raise EncoderInputError(f"{self.kind} encoder push() expects a frame {want}, got shape {tuple(x.shape)}")
        self._check_frame_dims(tuple(x.shape[1:]), want, tuple(x.shape))
        self._check_dtype(x)
        return x

    # -- online use -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the frames of the previous episode."""
        self._window = None

    @torch.no_grad()
    def push(self, frame: np.ndarray | Tensor) -> Tensor:
        """Add the newest camera frame(s) and return the latent of the last `clip_len` frames, [B, LATENT_DIM]."""
        frames = self.as_frames(frame).to(self.pixel_mean.device)
        if self._window is None:
            self._window = frames.unsqueeze(1).repeat(1, self.clip_len, 1, 1, 1)
        else:
            self._check_batch(frames.shape[0], self._window.shape[0])
            self._window = torch.cat([self._window[:, 1:], frames.unsqueeze(1).to(self._window.dtype)], dim=1)
        return self(self._window)

    def _check_batch(self, got: int, have: int) -> None:
        if got != have:
            raise EncoderInputError(
                f"{self.kind} encoder push() got a batch of {got} frames after {have} since reset(); "
                "call reset() before changing the batch size"
            )

    def encode_sequence(self, frames: Tensor) -> Tensor:
        """Latents of every full window of a frame sequence: [B, L, H, W, 3] -> [B, L - clip_len + 1, LATENT_DIM].

        Window j covers frames j .. j + clip_len - 1 (its latent describes the state at its last frame).
        """
        t = self.clip_len
        if frames.dim() != 5 or frames.shape[1] < t:
            raise EncoderInputError(
                f"{self.kind} encode_sequence() expects [B, L >= {t}, H, W, 3], got shape {tuple(frames.shape)}"
            )
        windows = frames.unfold(1, t, 1)  # [B, W, H, W, 3, T]
        b, n = windows.shape[:2]
        clips = windows.permute(0, 1, 5, 2, 3, 4).reshape(b * n, t, *frames.shape[2:])
        return self(clips).view(b, n, LATENT_DIM)
