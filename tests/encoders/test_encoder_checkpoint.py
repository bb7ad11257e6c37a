"""safetensors checkpoints: exact round trip, atomic write, clear errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import safetensors.torch
import torch
from encoder_fixtures import random_clip
from torchvision.models.video import r3d_18

from v2p.encoders import (
    EncoderCheckpointError,
    EncoderWeightsError,
    MLPEncoder,
    R3D18Encoder,
    StreamingVideoEncoder,
    load_encoder,
    read_encoder_metadata,
    save_encoder,
)
from v2p.errors import V2PError


def test_streaming_round_trip_gives_identical_latents(tmp_path: Path) -> None:
    torch.manual_seed(3)
    enc = StreamingVideoEncoder(clip_len=4, frame_size=32, width=16).eval()
    path = save_encoder(enc, tmp_path / "enc.safetensors", extra={"note": "round trip"})
    back = load_encoder(path)
    assert isinstance(back, StreamingVideoEncoder) and not back.training
    assert (back.clip_len, back.frame_size, back.width) == (4, 32, 16)
    clip = random_clip(2, 4, 32, seed=4)
    with torch.no_grad():
        assert torch.equal(enc(clip), back(clip))
    meta = read_encoder_metadata(path)
    assert meta["kind"] == "streaming" and meta["extra"] == {"note": "round trip"}
    assert {"torch", "torchvision", "safetensors", "v2p"} <= set(meta["versions"])
    assert [p.name for p in tmp_path.iterdir()] == ["enc.safetensors"]  # no temporary file left behind


def test_r3d18_and_mlp_round_trip(tmp_path: Path) -> None:
    r3d = R3D18Encoder(clip_len=4, frame_size=32).eval()
    back = load_encoder(save_encoder(r3d, tmp_path / "r3d.safetensors"))
    clip = random_clip(1, 4, 32)
    with torch.no_grad():
        assert torch.equal(r3d(clip), back(clip))
    mlp = MLPEncoder(state_dim=9).eval()
    back_mlp = load_encoder(save_encoder(mlp, tmp_path / "sub" / "mlp.safetensors"))
    state = torch.randn(3, 9)
    with torch.no_grad():
        assert torch.equal(mlp(state), back_mlp(state))


@pytest.fixture()
def saved(tmp_path: Path) -> Path:
    return save_encoder(StreamingVideoEncoder(clip_len=4, frame_size=32, width=8), tmp_path / "enc.safetensors")


def test_truncated_checkpoint_is_a_clear_error(saved: Path) -> None:
    saved.write_bytes(saved.read_bytes()[:1000])
    with pytest.raises(EncoderCheckpointError, match=f"{saved}: not a readable safetensors file"):
        load_encoder(saved)


def test_garbage_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(EncoderCheckpointError, match="junk.safetensors: not a readable"):
        load_encoder(path)


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderCheckpointError, match="nope.safetensors: encoder checkpoint not found"):
        load_encoder(tmp_path / "nope.safetensors")


def test_safetensors_without_encoder_metadata_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "plain.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(EncoderCheckpointError, match="plain.safetensors: .*no 'v2p_encoder' metadata"):
        load_encoder(path)


def test_weights_that_do_not_match_the_named_architecture_are_rejected(saved: Path) -> None:
    tensors = safetensors.torch.load_file(str(saved))
    meta = read_encoder_metadata(saved)
    meta["kwargs"]["width"] = 16  # the header now names a wider CNN than the stored weights
    safetensors.torch.save_file(tensors, str(saved), metadata={"v2p_encoder": json.dumps(meta)})
    with pytest.raises(EncoderCheckpointError, match=f"{saved}: weights do not match a 'streaming' encoder"):
        load_encoder(saved)


def test_unknown_kind_in_metadata_is_rejected(saved: Path) -> None:
    tensors = safetensors.torch.load_file(str(saved))
    meta = read_encoder_metadata(saved)
    meta["kind"] = "transformer"
    safetensors.torch.save_file(tensors, str(saved), metadata={"v2p_encoder": json.dumps(meta)})
    with pytest.raises(EncoderCheckpointError, match="unknown encoder kind 'transformer'"):
        load_encoder(saved)


def test_checkpoint_errors_are_v2p_errors() -> None:
    assert issubclass(EncoderCheckpointError, V2PError) and issubclass(EncoderWeightsError, V2PError)


def test_r3d18_loads_a_local_kinetics_state_dict(tmp_path: Path) -> None:
    torch.manual_seed(4)
    kinetics = r3d_18(weights=None)  # stands in for a Kinetics-400 file: same keys and shapes, 400-way head
    path = tmp_path / "r3d_18_kinetics.pth"
    torch.save(kinetics.state_dict(), path)
    enc = R3D18Encoder(clip_len=4, frame_size=32, weights_path=path)
    assert torch.equal(enc.net.stem[0].weight, kinetics.stem[0].weight)
    assert torch.equal(enc.net.layer4[1].conv2[0].weight, kinetics.layer4[1].conv2[0].weight)
    assert enc.net.fc.out_features == 128  # the classifier was replaced by the latent projection


def test_r3d18_missing_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderWeightsError, match="absent.pth: R3D-18 weights file not found"):
        R3D18Encoder(weights_path=tmp_path / "absent.pth")


class _Payload:
    """An arbitrary pickled object: weights_only loading must refuse it."""


def test_r3d18_weights_file_with_arbitrary_objects_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"stem.0.weight": _Payload()}, path)
    with pytest.raises(EncoderWeightsError, match="evil.pth: not a readable torch state_dict"):
        R3D18Encoder(weights_path=path)


def test_r3d18_weights_for_another_model_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save(MLPEncoder(4).state_dict(), path)
    with pytest.raises(EncoderWeightsError, match="other.pth: not a torchvision r3d_18 state_dict"):
        R3D18Encoder(weights_path=path)
