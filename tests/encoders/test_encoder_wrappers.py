"""LatentObservation: Dict{"state", "image"} env -> 128-D latents from a frozen video encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from v2p.encoders import LATENT_DIM, EncoderInputError, MLPEncoder, StreamingVideoEncoder, save_encoder
from v2p.encoders.wrappers import LatentObservation


class MovingSquareEnv(gym.Env):
    """A camera sees a square move one pixel per step; the observation is Dict{"state", "image"}."""

    def __init__(self, size: int = 32, frames_per_step: int = 1) -> None:
        self.size = size
        self.frames_per_step = frames_per_step  # > 1: the frames in between come back in info["frames"]
        self.observation_space = gym.spaces.Dict({
            "state": gym.spaces.Box(-np.inf, np.inf, (2,), np.float32),
            "image": gym.spaces.Box(0, 255, (size, size, 3), np.uint8),
        })
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.pos = 0

    def _obs(self) -> dict[str, np.ndarray]:
        img = np.zeros((self.size, self.size, 3), np.uint8)
        img[4:10, self.pos : self.pos + 6] = 255
        return {"state": np.array([self.pos, 0.0], np.float32), "image": img}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.pos = 0
        return self._obs(), {}

    def step(self, action: np.ndarray):
        between = []
        for _ in range(self.frames_per_step):
            self.pos = (self.pos + 1) % (self.size - 6)
            between.append(self._obs()["image"])
        info = {"frames": np.stack(between[:-1])} if self.frames_per_step > 1 else {}
        return self._obs(), 0.0, False, False, info


@pytest.fixture()
def encoder() -> StreamingVideoEncoder:
    torch.manual_seed(0)
    return StreamingVideoEncoder(clip_len=4, frame_size=32, width=8)


def test_wrapper_outputs_the_latent_of_the_episode_clip(encoder: StreamingVideoEncoder) -> None:
    raw, env = MovingSquareEnv(), LatentObservation(MovingSquareEnv(), encoder)
    assert env.observation_space.shape == (LATENT_DIM,) and env.observation_space.dtype == np.float32
    obs, _ = env.reset(seed=0)
    images = [raw.reset(seed=0)[0]["image"]]
    for _ in range(5):
        obs, *_ = env.step(np.zeros(1, np.float32))
        images.append(raw.step(np.zeros(1, np.float32))[0]["image"])
    assert obs.shape == (LATENT_DIM,) and obs.dtype == np.float32
    clip = torch.from_numpy(np.stack(images[-4:]))[None]
    with torch.no_grad():
        expected = encoder(clip)[0].numpy()
    assert np.abs(obs - expected).max() < 1e-5
    assert not any(p.requires_grad for p in encoder.parameters())  # frozen


def test_wrapper_pushes_the_frames_rendered_during_a_step(encoder: StreamingVideoEncoder) -> None:
    env = LatentObservation(MovingSquareEnv(frames_per_step=6), encoder)
    env.reset(seed=0)
    obs, _, _, _, info = env.step(np.zeros(1, np.float32))
    assert len(info["frames"]) == 5
    # The latent is that of the stream's last 4 frames: 3 from info["frames"], then the observation's image.
    clip = MovingSquareEnv(frames_per_step=6)
    clip.reset(seed=0)
    last_obs, _, _, _, last_info = clip.step(np.zeros(1, np.float32))
    frames = np.concatenate([last_info["frames"][-3:], last_obs["image"][None]])
    with torch.no_grad():
        expected = encoder(torch.from_numpy(frames)[None])[0].numpy()
    assert np.abs(obs - expected).max() < 1e-5


def test_step_clip_span_encodes_each_step_on_its_own(encoder: StreamingVideoEncoder) -> None:
    env = LatentObservation(MovingSquareEnv(), encoder, clip_span="step")
    raw = MovingSquareEnv()
    env.reset(seed=0)
    raw.reset(seed=0)
    for _ in range(3):
        obs, *_ = env.step(np.zeros(1, np.float32))
        image = raw.step(np.zeros(1, np.float32))[0]["image"]
    still = torch.from_numpy(image)[None, None].repeat(1, 4, 1, 1, 1)  # the decision frame held still
    with torch.no_grad():
        assert np.abs(obs - encoder(still)[0].numpy()).max() < 1e-5


def test_wrapper_on_the_dishwashing_env(encoder: StreamingVideoEncoder) -> None:
    v2p_sim = pytest.importorskip("v2p_sim")
    base = gym.make(v2p_sim.ENV_ID, image_obs=True, image_size=32)
    env = LatentObservation(base, encoder, clip_span="step")
    obs, _ = env.reset(seed=1)
    obs2, reward, terminated, truncated, info = env.step(np.array([0.5, 0.5], np.float32))
    assert obs.shape == obs2.shape == (LATENT_DIM,) and np.isfinite(obs2).all()
    assert np.abs(obs - obs2).max() > 1e-4  # a new dish, a filled rack slot: the scene changed
    assert info["attempts"] == 1
    env.close()


def test_wrapper_reset_starts_a_fresh_clip(encoder: StreamingVideoEncoder) -> None:
    env = LatentObservation(MovingSquareEnv(), encoder)
    first, _ = env.reset(seed=0)
    for _ in range(3):
        env.step(np.zeros(1, np.float32))
    again, _ = env.reset(seed=0)
    assert np.abs(first - again).max() < 1e-6


def test_wrapper_loads_a_checkpoint_path(tmp_path: Path, encoder: StreamingVideoEncoder) -> None:
    path = save_encoder(encoder, tmp_path / "enc.safetensors")
    env = LatentObservation(MovingSquareEnv(), path)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (LATENT_DIM,)


def test_wrapper_rejects_mismatched_image_size_and_non_video_encoders() -> None:
    enc64 = StreamingVideoEncoder(clip_len=4, frame_size=64, width=8)
    with pytest.raises(EncoderInputError, match="image_size=64"):
        LatentObservation(MovingSquareEnv(size=32), enc64)
    with pytest.raises(EncoderInputError, match="needs a video encoder"):
        LatentObservation(MovingSquareEnv(), MLPEncoder(2))
    with pytest.raises(EncoderInputError, match="Dict observation space with key 'image'"):
        LatentObservation(gym.make("Pendulum-v1"), StreamingVideoEncoder(clip_len=4, frame_size=32, width=8))
    with pytest.raises(EncoderInputError, match="clip_span"):
        LatentObservation(MovingSquareEnv(), StreamingVideoEncoder(clip_len=4, frame_size=32, width=8),
                          clip_span="shift")  # type: ignore[arg-type]


def test_wrapper_composes_the_latent_and_the_state_as_the_policy_input_does(encoder: StreamingVideoEncoder) -> None:
    from v2p.task.observation import PolicyInput

    robot = PolicyInput("/encoder/latent", robot_state="/robot/state", robot_state_dim=2)
    latent_only = LatentObservation(MovingSquareEnv(), encoder)
    latent_only.reset(seed=0)
    for _ in range(2):
        base, *_ = latent_only.step(np.zeros(1, np.float32))
    env = LatentObservation(MovingSquareEnv(), encoder, policy_input=robot)  # the same encoder, run again
    assert env.observation_space.shape == (LATENT_DIM + 2,)
    env.reset(seed=0)
    for _ in range(2):
        obs, *_ = env.step(np.zeros(1, np.float32))
    np.testing.assert_allclose(obs, robot.compose(base, np.array([2.0, 0.0], np.float32)), atol=1e-6)
    with pytest.raises(EncoderInputError, match="robot-state values"):
        LatentObservation(MovingSquareEnv(), encoder, policy_input=replace_dim(robot, 3))


def replace_dim(policy_input: Any, dim: int) -> Any:
    from dataclasses import replace

    return replace(policy_input, robot_state_dim=dim)
