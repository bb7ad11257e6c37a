"""Gymnasium wrapper: camera image observations -> the frozen video encoder's 128-D latent.

    env = gym.make("V2PDishwashing-v0", image_obs=True, image_size=64)    # Dict{"state", "image"}
    env = LatentObservation(env, "runs/encoder.safetensors", clip_span="step")   # Box(128,) float32

The encoder was trained on clips at the simulator's 10 Hz tick. What a step's clip holds is `clip_span`:

- "episode": frames accumulate over the episode; `reset()` starts a new clip. Each step pushes the frames the env
  rendered during the step, if it returns them in `info["frames"]` ([N, H, W, 3], oldest first, at the tick rate;
  only the last clip_len - 1 can reach the latent, so only those are encoded), then the observation's image. Use
  it for envs that deliver video at the tick rate.
- "step": each step's frames form a clip of their own. V2PDishwashing-v0 renders one image per step (one dish
  cycle, tens of seconds apart), so its clip is the decision frame held still: exactly the clip the encoder saw at
  the start of every training episode, rather than eight frames a whole cycle apart.

Early in a clip it is padded with its first frame, as in training. The streaming encoder costs one frame's CNN per
pushed frame. Given a `policy_input` that appends a robot state (the "video" input of
`v2p.task.dishwashing.POLICY_INPUTS`), the observation is `policy_input.compose(latent, the Dict's "state")`, the
very composition the policy node and the learner use: make the env with `observation="robot_state"`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, SupportsFloat

import gymnasium as gym
import numpy as np
import torch

from v2p.encoders.base import LATENT_DIM, EncoderInputError, VideoEncoder
from v2p.encoders.checkpoint import load_encoder
from v2p.task.observation import PolicyInput

ClipSpan = Literal["episode", "step"]


class LatentObservation(gym.ObservationWrapper):
    """Replace a Dict observation's camera image with the latent of its clip (see the module doc)."""

    def __init__(
        self,
        env: gym.Env,
        encoder: VideoEncoder | str | Path,
        clip_span: ClipSpan = "episode",
        image_key: str = "image",
        frames_key: str = "frames",
        device: str | torch.device = "cpu",
        policy_input: PolicyInput | None = None,
        state_key: str = "state",
    ) -> None:
        super().__init__(env)
        if clip_span not in ("episode", "step"):
            raise EncoderInputError(f"clip_span must be 'episode' or 'step', got {clip_span!r}")
        if isinstance(encoder, (str, Path)):
            encoder = load_encoder(encoder, map_location=device)
        if not isinstance(encoder, VideoEncoder):
            raise EncoderInputError(f"LatentObservation needs a video encoder, got kind '{encoder.kind}'")
        self.encoder = encoder.to(device).eval().requires_grad_(False)  # frozen: SAC trains on fixed latents
        self.clip_span = clip_span
        self.image_key = image_key
        self.frames_key = frames_key
        space = env.observation_space
        if not isinstance(space, gym.spaces.Dict) or image_key not in space.spaces:
            raise EncoderInputError(
                f"LatentObservation expects a Dict observation space with key '{image_key}' "
                f"(make the env with image_obs=True), got {space}"
            )
        image_shape = tuple(space.spaces[image_key].shape or ())
        want = (encoder.frame_size, encoder.frame_size, 3)
        if image_shape != want:
            raise EncoderInputError(
                f"env images are {image_shape} but the {encoder.kind} encoder expects {want} (H, W, RGB); "
                f"make the env with image_size={encoder.frame_size}"
            )
        self.policy_input, self.state_key = policy_input, state_key
        dim = LATENT_DIM
        if policy_input is not None:
            state = space.spaces.get(state_key)
            shape = tuple(state.shape or ()) if state is not None else ()
            if policy_input.robot_state is None or shape != (policy_input.robot_state_dim,):
                raise EncoderInputError(
                    f"policy_input appends {policy_input.robot_state_dim} robot-state values; the env's "
                    f"'{state_key}' is {shape or 'missing'} (make it with observation='robot_state')")
            dim = policy_input.dim(LATENT_DIM)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(dim,), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        self.encoder.reset()  # a new episode starts a new clip
        obs, info = self.env.reset(seed=seed, options=options)
        return self._latent(obs, info), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self.clip_span == "step":
            self.encoder.reset()
        return self._latent(obs, info), reward, terminated, truncated, info

    def _latent(self, obs: dict[str, Any], info: dict[str, Any]) -> np.ndarray:
        frames = info.get(self.frames_key)
        keep = self.encoder.clip_len - 1  # the observation's own image fills the last slot
        if frames is not None and keep > 0:
            for frame in list(frames)[max(0, len(frames) - keep) :]:
                self.encoder.push(np.ascontiguousarray(frame))
        return self.observation(obs)

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        latent = self.encoder.push(np.ascontiguousarray(observation[self.image_key]))[0].cpu().numpy()
        if self.policy_input is None:
            return latent.astype(np.float32)
        return self.policy_input.compose(latent, observation[self.state_key])
