"""`v2p train`: SAC on V2PDishwashing-v0 under the SLA, one process. Real PyBullet shifts, kept short."""

import csv
import json

import pytest

from v2p.cli import main

pytest.importorskip("v2p_sim")


@pytest.mark.slow  # two real shifts of PyBullet: 10-30 s on the shared 2-core machine
def test_train_writes_csv_checkpoint_and_json(capsys, tmp_path):
    out = tmp_path / "run"
    rc = main(["train", "--site", "default", "--episodes", "1", "--out", str(out), "--threads", "1", "--json",
               "--set", "learning_starts=4", "--set", "batch_size=8", "--set", "net_arch=32,32",
               "--set", "gradient_steps=1"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert {"mp", "err_rate", "lambda", "implied_wage", "wage_parity", "episodes", "run_dir"} <= set(result)
    assert result["episodes"] == 1 and result["run_dir"] == str(out)
    with open(out / "episodes.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1
    row = rows[0]
    # the final figures are the shift's, recomputed from its counts
    assert result["mp"] == pytest.approx(float(row["units"]) / float(row["hours"]), rel=1e-4)
    assert result["err_rate"] == pytest.approx(float(row["errors"]) / float(row["attempts"]), rel=1e-4)
    assert float(row["lambda_dual"]) == 0.0
    assert result["lambda"] == pytest.approx(max(0.0, 5.0 * (result["err_rate"] - 0.06)), rel=1e-4, abs=1e-6)
    assert int(row["updates"]) > 0
    meta = json.loads((out / "checkpoint" / "metadata.json").read_text())
    assert meta["spaces"]["action"]["shape"] == [2] and meta["extra"]["sla"]["lambda"] == result["lambda"]


def test_train_video_encoder_needs_a_checkpoint(capsys, tmp_path):
    assert main(["train", "--episodes", "1", "--encoder", "video", "--out", str(tmp_path)]) == 2
    assert "--encoder-checkpoint" in capsys.readouterr().err


@pytest.mark.slow
def test_train_with_video_encoder_latents(capsys, tmp_path):
    from v2p.encoders import make_encoder, save_encoder

    ckpt = save_encoder(make_encoder("video", clip_len=2, frame_size=16, width=8), tmp_path / "enc.safetensors")
    rc = main(["train", "--episodes", "1", "--encoder", "video", "--encoder-checkpoint", str(ckpt),
               "--out", str(tmp_path / "run"), "--threads", "1", "--json", "--set", "learning_starts=4",
               "--set", "batch_size=8", "--set", "net_arch=32,32"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    meta = json.loads((tmp_path / "run" / "checkpoint" / "metadata.json").read_text())
    assert meta["spaces"]["obs"]["shape"] == [128] and result["encoder"] == "video"
