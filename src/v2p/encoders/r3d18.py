"""R3D-18 (torchvision's 18-layer 3D ResNet) with its classifier replaced by a LATENT_DIM projection."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models.video import r3d_18

from v2p.encoders.base import LATENT_DIM, VideoEncoder
from v2p.errors import V2PError


class EncoderWeightsError(V2PError):
    """A pretrained-weights file is missing or is not a torchvision R3D-18 state_dict."""


class R3D18Encoder(VideoEncoder):
    """Clip [B, T, H, W, 3] RGB (uint8 or float in [0, 1]) -> [B, LATENT_DIM].

    Random weights by default. `weights_path` names a local Kinetics-400 state_dict of torchvision's r3d_18 (for
    example the file torchvision caches as r3d_18-b3b3357e.pth); it is read with `weights_only=True`, so it can
    hold tensors only, and nothing is ever downloaded. Every new frame re-encodes the whole clip (see `push`).
    """

    kind = "r3d18"

    def __init__(self, clip_len: int = 8, frame_size: int = 64, weights_path: str | Path | None = None) -> None:
        super().__init__(clip_len, frame_size)
        self.net = r3d_18(weights=None)  # 400-way Kinetics head, so a Kinetics state_dict loads as-is
        if weights_path is not None:
            self.net.load_state_dict(_read_kinetics_state_dict(Path(weights_path)))
        self.weights_path = str(weights_path) if weights_path is not None else None
        self.net.fc = nn.Linear(self.net.fc.in_features, LATENT_DIM)

    def config(self) -> dict[str, object]:
        # weights_path is provenance only: a checkpoint already holds every weight.
        return {"clip_len": self.clip_len, "frame_size": self.frame_size}

    def forward(self, obs: Tensor) -> Tensor:
        self.check_clip(obs)
        b, t, h, w, _ = obs.shape
        x = self.normalise_frames(obs.reshape(b * t, h, w, 3)).view(b, t, 3, h, w)
        return self.net(x.transpose(1, 2))  # r3d_18 wants [B, C, T, H, W]


def _read_kinetics_state_dict(path: Path) -> dict[str, Tensor]:
    if not path.is_file():
        raise EncoderWeightsError(f"{path}: R3D-18 weights file not found (pass a local Kinetics-400 state_dict)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable or non-tensor pickle is the user's file problem
        raise EncoderWeightsError(f"{path}: not a readable torch state_dict ({type(exc).__name__}: {exc})") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise EncoderWeightsError(f"{path}: expected a dict of tensors (an r3d_18 state_dict)")
    expected = r3d_18(weights=None).state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise EncoderWeightsError(
            f"{path}: not a torchvision r3d_18 state_dict (missing {missing[:3]}{'...' if len(missing) > 3 else ''},"
            f" unexpected {unexpected[:3]}{'...' if len(unexpected) > 3 else ''})"
        )
    bad = [k for k, v in expected.items() if tuple(state[k].shape) != tuple(v.shape)]
    if bad:
        raise EncoderWeightsError(
            f"{path}: tensor shapes differ from r3d_18 for {bad[:3]} (a 400-class Kinetics head is expected)"
        )
    return state


