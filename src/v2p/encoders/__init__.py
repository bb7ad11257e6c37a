"""Observation encoders: state vector or camera video -> a LATENT_DIM latent the policy acts on.

- `MLPEncoder(state_dim)`: [B, state_dim] -> [B, 128].
- `R3D18Encoder(clip_len=8, frame_size=64, weights_path=None)`: clips [B, T, H, W, 3] -> [B, 128].
- `StreamingVideoEncoder(clip_len=8, frame_size=64)`: the same clip call, plus `reset()` / `push(frame)` that
  costs one frame's 2D CNN per new frame. The default video encoder ("video").

Clips are RGB, channels last, uint8 in [0, 255] or float in [0, 1]; encoders normalise internally.
Training (auxiliary heads) lives in `v2p.encoders.training`, the gymnasium wrapper in `v2p.encoders.wrappers`.
"""

from v2p.encoders.base import LATENT_DIM, Encoder, EncoderInputError, InputSpec, VideoEncoder
from v2p.encoders.checkpoint import EncoderCheckpointError, load_encoder, read_encoder_metadata, save_encoder
from v2p.encoders.mlp import MLPEncoder
from v2p.encoders.r3d18 import EncoderWeightsError, R3D18Encoder
from v2p.encoders.registry import encoder_names, make_encoder
from v2p.encoders.streaming import StreamingVideoEncoder

__all__ = [
    "LATENT_DIM",
    "Encoder",
    "EncoderCheckpointError",
    "EncoderInputError",
    "EncoderWeightsError",
    "InputSpec",
    "MLPEncoder",
    "R3D18Encoder",
    "StreamingVideoEncoder",
    "VideoEncoder",
    "encoder_names",
    "load_encoder",
    "make_encoder",
    "read_encoder_metadata",
    "save_encoder",
]
