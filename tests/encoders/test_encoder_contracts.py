"""Shape, dtype and input-error contracts shared by every encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from encoder_fixtures import random_clip

from v2p.encoders import (
    LATENT_DIM,
    EncoderInputError,
    MLPEncoder,
    R3D18Encoder,
    StreamingVideoEncoder,
    VideoEncoder,
    make_encoder,
)
from v2p.errors import V2PError

SMALL = {"clip_len": 4, "frame_size": 32}


@pytest.fixture(scope="module")
def r3d() -> R3D18Encoder:
    return R3D18Encoder(**SMALL).eval()


@pytest.fixture(scope="module")
def streaming() -> StreamingVideoEncoder:
    torch.manual_seed(0)
    return StreamingVideoEncoder(**SMALL).eval()


def test_latent_dim_is_128() -> None:
    assert LATENT_DIM == 128


def test_mlp_shape_dtype_and_spec() -> None:
    enc = MLPEncoder(state_dim=11)
    z = enc(torch.randn(5, 11))
    assert z.shape == (5, LATENT_DIM) and z.dtype == torch.float32
    assert enc.kind == "mlp"
    assert enc.input_spec.modality == "state" and enc.input_spec.shape == (11,)


@pytest.mark.parametrize("name", ["r3d", "streaming"])
def test_video_shape_dtype_and_spec(name: str, request: pytest.FixtureRequest) -> None:
    enc: VideoEncoder = request.getfixturevalue(name)
    with torch.no_grad():
        z = enc(random_clip(3, 4, 32))
    assert z.shape == (3, LATENT_DIM) and z.dtype == torch.float32
    assert torch.isfinite(z).all()
    assert enc.input_spec.modality == "video"
    assert enc.input_spec.shape == (4, 32, 32, 3)
    assert {"uint8", "float32"} <= set(enc.input_spec.dtypes)


@pytest.mark.parametrize("name", ["r3d", "streaming"])
def test_uint8_and_unit_float_clips_give_the_same_latent(name: str, request: pytest.FixtureRequest) -> None:
    enc: VideoEncoder = request.getfixturevalue(name)
    clip = random_clip(2, 4, 32, seed=3)
    with torch.no_grad():
        torch.testing.assert_close(enc(clip), enc(clip.float() / 255.0), atol=1e-5, rtol=1e-5)


def test_different_clips_give_different_latents(streaming: StreamingVideoEncoder) -> None:
    with torch.no_grad():
        z = streaming(torch.cat([random_clip(1, 4, 32, seed=1), random_clip(1, 4, 32, seed=2)]))
    assert (z[0] - z[1]).abs().max() > 1e-3


def test_kinds_and_factory_names() -> None:
    assert make_encoder("mlp", state_dim=4).kind == "mlp"
    assert make_encoder("r3d18", **SMALL).kind == "r3d18"
    assert make_encoder("streaming", **SMALL).kind == "streaming"
    video = make_encoder("video", **SMALL)
    assert isinstance(video, StreamingVideoEncoder) and video.clip_len == 4


def test_unknown_encoder_name_lists_choices() -> None:
    with pytest.raises(V2PError, match="unknown encoder 'resnet'.*mlp, r3d18, streaming, video"):
        make_encoder("resnet")


def test_bad_factory_keyword_is_a_v2p_error() -> None:
    with pytest.raises(V2PError, match="bad arguments"):
        make_encoder("streaming", frames=8)


@pytest.mark.parametrize("name", ["r3d", "streaming"])
def test_wrong_frame_size_is_a_clear_error(name: str, request: pytest.FixtureRequest) -> None:
    enc: VideoEncoder = request.getfixturevalue(name)
    with pytest.raises(EncoderInputError, match=r"expects 32x32 frames.*got 48x48"):
        enc(random_clip(1, 4, 48))


@pytest.mark.parametrize("name", ["r3d", "streaming"])
def test_wrong_channel_count_is_a_clear_error(name: str, request: pytest.FixtureRequest) -> None:
    enc: VideoEncoder = request.getfixturevalue(name)
    with pytest.raises(EncoderInputError, match="expects 3 RGB channels.*got 4 channels"):
        enc(torch.zeros(1, 4, 32, 32, 4, dtype=torch.uint8))
    with pytest.raises(EncoderInputError, match="channels-first"):
        enc(torch.zeros(1, 4, 3, 32, 32, dtype=torch.uint8))


def test_wrong_clip_length_rank_and_dtype_are_clear_errors(streaming: StreamingVideoEncoder) -> None:
    with pytest.raises(EncoderInputError, match="clips of 4 frames.*got 6 frames"):
        streaming(random_clip(1, 6, 32))
    with pytest.raises(EncoderInputError, match="5-D clip"):
        streaming(torch.zeros(4, 32, 32, 3))
    with pytest.raises(EncoderInputError, match="uint8 or float"):
        streaming(torch.zeros(1, 4, 32, 32, 3, dtype=torch.int32))
    with pytest.raises(EncoderInputError, match="torch.Tensor"):
        streaming(np.zeros((1, 4, 32, 32, 3), np.uint8))


def test_input_errors_are_v2p_errors() -> None:
    assert issubclass(EncoderInputError, V2PError)


def test_mlp_wrong_state_dim_is_a_clear_error() -> None:
    with pytest.raises(EncoderInputError, match=r"state \[B, 7\], got \(2, 5\)"):
        MLPEncoder(7)(torch.zeros(2, 5))


def test_push_rejects_bad_frames_and_batch_changes(streaming: StreamingVideoEncoder) -> None:
    streaming.reset()
    with pytest.raises(EncoderInputError, match="32x32"):
        streaming.push(np.zeros((64, 64, 3), np.uint8))
    streaming.push(np.zeros((2, 32, 32, 3), np.uint8))
    with pytest.raises(EncoderInputError, match="call reset"):
        streaming.push(np.zeros((3, 32, 32, 3), np.uint8))
    streaming.reset()
    assert streaming.push(np.zeros((32, 32, 3), np.uint8)).shape == (1, LATENT_DIM)
