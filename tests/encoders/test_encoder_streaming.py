"""The streaming encoder's per-frame path reproduces the full-clip latent (the point of its design)."""

from __future__ import annotations

import pytest
import torch
from encoder_fixtures import random_clip

from v2p.encoders import R3D18Encoder, StreamingVideoEncoder


@pytest.fixture(scope="module")
def enc() -> StreamingVideoEncoder:
    torch.manual_seed(1)
    return StreamingVideoEncoder(clip_len=8, frame_size=64).eval()


def padded(frames: torch.Tensor, clip_len: int) -> torch.Tensor:
    """[B, k, H, W, 3] with k <= clip_len -> the clip push() sees: first frame repeated at the front."""
    k = frames.shape[1]
    return torch.cat([frames[:, :1].repeat(1, clip_len - k, 1, 1, 1), frames], dim=1)


def test_streaming_equals_full_clip_for_a_full_window(enc: StreamingVideoEncoder) -> None:
    clip = random_clip(2, 8, 64, seed=5)
    enc.reset()
    for t in range(8):
        z_stream = enc.push(clip[:, t])
    with torch.no_grad():
        z_clip = enc(clip)
    assert (z_stream - z_clip).abs().max() < 1e-5


def test_streaming_equals_full_clip_after_the_ring_wraps(enc: StreamingVideoEncoder) -> None:
    frames = random_clip(1, 21, 64, seed=6)[0]  # 21 frames: the ring buffer wraps twice and a bit
    enc.reset()
    for t in range(21):
        z_stream = enc.push(frames[t].numpy())  # numpy [H, W, 3] frames, as a camera delivers them
        start = max(0, t - 7)
        with torch.no_grad():
            z_clip = enc(padded(frames[start : t + 1].unsqueeze(0), 8))
        assert (z_stream - z_clip).abs().max() < 1e-5, f"frame {t}"


def test_streaming_depends_on_frame_order(enc: StreamingVideoEncoder) -> None:
    clip = random_clip(1, 8, 64, seed=7)
    with torch.no_grad():
        z = enc(clip)
        z_rev = enc(clip.flip(1))
    assert (z - z_rev).abs().max() > 1e-4


def test_reset_starts_a_new_clip(enc: StreamingVideoEncoder) -> None:
    a, b = random_clip(1, 8, 64, seed=8), random_clip(1, 8, 64, seed=9)
    enc.reset()
    for t in range(8):
        enc.push(a[:, t])
    enc.reset()
    z = enc.push(b[:, 0])
    with torch.no_grad():
        assert (z - enc(b[:, :1].repeat(1, 8, 1, 1, 1))).abs().max() < 1e-5


def test_encode_sequence_matches_each_window(enc: StreamingVideoEncoder) -> None:
    seq = random_clip(2, 11, 64, seed=10)
    with torch.no_grad():
        z = enc.encode_sequence(seq)
        assert z.shape == (2, 4, 128)
        for j in range(4):
            assert (z[:, j] - enc(seq[:, j : j + 8])).abs().max() < 1e-5


def test_r3d18_sliding_window_push_matches_its_clip() -> None:
    torch.manual_seed(2)
    r3d = R3D18Encoder(clip_len=4, frame_size=32).eval()
    frames = random_clip(1, 6, 32, seed=11)
    r3d.reset()
    for t in range(6):
        z = r3d.push(frames[:, t])
    with torch.no_grad():
        assert (z - r3d(frames[:, 2:6])).abs().max() < 1e-5


def test_r3d18_encode_sequence_matches_each_window() -> None:
    torch.manual_seed(3)
    r3d = R3D18Encoder(clip_len=4, frame_size=32).eval()
    seq = random_clip(1, 6, 32, seed=12)
    with torch.no_grad():
        z = r3d.encode_sequence(seq)
        assert z.shape == (1, 3, 128)
        for j in range(3):
            assert (z[:, j] - r3d(seq[:, j : j + 4])).abs().max() < 1e-5
