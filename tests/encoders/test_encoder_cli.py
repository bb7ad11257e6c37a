"""`v2p train-encoder` end to end on a cached frame dataset (the simulator renders the cache in real use)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from encoder_fixtures import synthetic_dataset

from v2p.cli import main
from v2p.encoders import R3D18Encoder, StreamingVideoEncoder, load_encoder, read_encoder_metadata
from v2p.encoders.dataset import FrameDataset


def cached_frames(tmp_path: Path, episodes: int = 5) -> Path:
    data = synthetic_dataset(episodes=episodes, frames_per_episode=20)
    meta = {"site": "default", "episodes": episodes, "seed": 0, "frame_size": 32, "cycles_per_episode": 2}
    path = tmp_path / "frames.npz"
    FrameDataset(data.frames, data.episode, data.targets, meta).save(path)
    return path


@pytest.mark.parametrize(
    ("name", "kind"),
    [("streaming", StreamingVideoEncoder), pytest.param("r3d18", R3D18Encoder, marks=pytest.mark.slow)],
)
def test_train_encoder_cli_writes_checkpoint_and_reports_r2(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                            name: str, kind: type) -> None:
    frames, out = cached_frames(tmp_path), tmp_path / "enc.safetensors"
    rc = main(["train-encoder", "--encoder", name, "--episodes", "5", "--frames", str(frames), "--out", str(out),
               "--steps", "2", "--batch", "2", "--clip-len", "4", "--frame-size", "32", "--json"])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["encoder"] == name and report["held_out_episodes"] == 1 and report["frames"] == 100
    assert set(report["metrics"]) == {"dish_dirt", "dish_held", "arm_phase", "speed", "care"}
    assert all("r2" in m for m in report["metrics"].values())
    enc = load_encoder(out)
    assert isinstance(enc, kind) and enc.clip_len == 4
    assert read_encoder_metadata(out)["extra"]["training"]["metrics"] == report["metrics"]
    assert torch.isfinite(enc(torch.zeros(1, 4, 32, 32, 3, dtype=torch.uint8))).all()


def test_train_encoder_cli_rejects_a_cache_made_for_other_arguments(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    frames = cached_frames(tmp_path)
    rc = main(["train-encoder", "--episodes", "6", "--frames", str(frames), "--out", str(tmp_path / "x"),
               "--frame-size", "32"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "frames.npz: frame cache was made with {'episodes': 5}" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--episodes", "1"], "--episodes must be >= 2"),
        (["--weights", "k400.pth"], "--weights applies to --encoder r3d18 only"),
        (["--encoder", "r3d18", "--weights", "/nonexistent/k400.pth"], "k400.pth: R3D-18 weights file not found"),
    ],
)
def test_train_encoder_cli_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str],
                                         message: str) -> None:
    assert main(["train-encoder", "--out", str(tmp_path / "e.safetensors"), *argv]) == 2
    assert message in capsys.readouterr().err
