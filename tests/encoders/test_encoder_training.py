"""Auxiliary heads, temporal consistency, R², and the frame dataset file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from v2p.encoders import StreamingVideoEncoder
from v2p.encoders.dataset import DatasetError, FrameDataset
from v2p.encoders.training import (
    AuxHeads,
    LatentPredictor,
    TrainConfig,
    encode_episodes,
    evaluate,
    r2_score,
    split_episodes,
    temporal_consistency_loss,
    train_encoder,
    window_frames,
)


def tiny_encoder() -> StreamingVideoEncoder:
    torch.manual_seed(0)
    return StreamingVideoEncoder(clip_len=4, frame_size=32, feature_dim=32, width=8)


def test_aux_heads_learn_synthetic_targets(synthetic: FrameDataset) -> None:
    enc = tiny_encoder()
    before = evaluate(enc, AuxHeads(), synthetic, split_episodes(10, 0.2)[1])
    cfg = TrainConfig(steps=120, batch_sequences=4, windows_per_sequence=6, lr=3e-3)
    result = train_encoder(enc, synthetic, cfg)
    m = result.metrics
    assert result.val_episodes == [8, 9] and result.train_episodes == list(range(8))
    # Held-out episodes: the green square's row (held) and quadrant (phase) are plain to see.
    assert m["dish_held"]["accuracy"] > 0.95 and m["dish_held"]["r2"] > 0.8
    assert m["arm_phase"]["accuracy"] > 0.9 and m["arm_phase"]["r2"] > 0.7
    assert before["dish_held"]["r2"] < 0.3  # untrained heads do not get there by luck
    assert set(m) == {"dish_dirt", "dish_held", "arm_phase", "speed", "care"}
    assert all(math.isfinite(v["r2"]) for v in m.values())
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_r2_score() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(np.full(4, y.mean()), y) == pytest.approx(0.0)
    assert r2_score(-y, y) < 0
    assert math.isnan(r2_score(y, np.ones(4)))  # constant target: undefined, never a made-up number


def test_temporal_consistency_loss_stops_gradient_at_the_target() -> None:
    torch.manual_seed(0)
    pred = LatentPredictor()
    z = torch.randn(3, 5, 128, requires_grad=True)
    loss = temporal_consistency_loss(pred, z)
    assert 0.0 <= loss.item() <= 2.0
    loss.backward()
    assert z.grad is not None
    assert torch.all(z.grad[:, -1] == 0)  # the last window is only ever a (detached) target
    assert torch.any(z.grad[:, 0] != 0)


def test_temporal_consistency_is_zero_when_the_next_latent_is_predicted() -> None:
    pred = LatentPredictor()
    with torch.no_grad():  # make the predictor the identity map through a linear path
        pred.net[0].weight.copy_(torch.eye(128))
        pred.net[0].bias.fill_(10.0)  # GELU is ~identity for large inputs
        pred.net[2].weight.copy_(torch.eye(128))
        pred.net[2].bias.fill_(-10.0)
    z = torch.randn(1, 1, 128).repeat(2, 4, 1)  # constant latents: z_{t+1} == z_t
    assert temporal_consistency_loss(pred, z).item() < 1e-4


def test_dataset_round_trip(tmp_path: Path, synthetic: FrameDataset) -> None:
    path = tmp_path / "frames.npz"
    FrameDataset(synthetic.frames, synthetic.episode, synthetic.targets, {"site": "synthetic"}).save(path)
    back = FrameDataset.load(path)
    assert np.array_equal(back.frames, synthetic.frames) and back.meta == {"site": "synthetic"}
    assert back.episode_ranges() == synthetic.episode_ranges()
    for k, v in synthetic.targets.items():
        assert np.array_equal(back.targets[k], v) and back.targets[k].dtype == v.dtype


def test_corrupt_or_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DatasetError, match="bad.npz: not a readable frame dataset"):
        FrameDataset.load(bad)
    with pytest.raises(DatasetError, match="none.npz: frame dataset not found"):
        FrameDataset.load(tmp_path / "none.npz")


def test_dataset_rejects_inconsistent_arrays(synthetic: FrameDataset) -> None:
    with pytest.raises(DatasetError, match="uint8"):
        FrameDataset(synthetic.frames.astype(np.float32), synthetic.episode, synthetic.targets)
    short = {k: v[:-1] for k, v in synthetic.targets.items()}
    with pytest.raises(DatasetError, match="targets"):
        FrameDataset(synthetic.frames, synthetic.episode, short)


def test_split_keeps_whole_episodes_out() -> None:
    assert split_episodes(10, 0.2) == (list(range(8)), [8, 9])
    assert split_episodes(2, 0.2) == ([0], [1])
    with pytest.raises(DatasetError):
        split_episodes(1, 0.2)


def test_training_windows_are_the_clips_push_sees(synthetic: FrameDataset) -> None:
    enc = tiny_encoder().eval()
    s, e = synthetic.episode_ranges()[2]
    z_train = encode_episodes(enc, synthetic, [2], chunk=16)  # several chunks, padded at the episode start
    assert z_train.shape == (e - s, 128)
    enc.reset()
    z_push = torch.cat([enc.push(synthetic.frames[i]) for i in range(s, e)])
    assert (z_train - z_push).abs().max() < 1e-5


def test_window_frames_pad_with_the_first_frame(synthetic: FrameDataset) -> None:
    s, e = synthetic.episode_ranges()[1]
    w = window_frames(synthetic, (s, e), first=0, last=2, clip_len=4)
    assert w.shape == (6, 32, 32, 3)
    assert all(np.array_equal(w[i], synthetic.frames[s]) for i in range(4))
    assert np.array_equal(w[4], synthetic.frames[s + 1]) and np.array_equal(w[5], synthetic.frames[s + 2])


def test_aux_loss_weights_scale_each_target() -> None:
    torch.manual_seed(0)
    heads = AuxHeads()
    z = torch.randn(6, 128)
    y = {"dish_dirt": torch.rand(6), "dish_held": torch.randint(0, 2, (6,)), "arm_phase": torch.randint(0, 4, (6,)),
         "speed": torch.rand(6), "care": torch.rand(6)}
    full, parts = heads.loss(z, y)
    assert full.item() == pytest.approx(sum(parts.values()), rel=1e-5)
    weighted, _ = heads.loss(z, y, {"speed": 0.0, "care": 0.5})
    assert weighted.item() == pytest.approx(full.item() - parts["speed"] - 0.5 * parts["care"], rel=1e-5)
