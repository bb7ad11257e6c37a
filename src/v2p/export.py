"""TorchScript export of a policy for a robot's runtime: observation -> encoder -> SAC actor -> [speed, care].

The exported module computes exactly what policy_node publishes with `deterministic:=true`: the actor's mean
action, squashed by tanh and scaled to the action bounds ([0, 1] for speed and care). It is traced
(torch.jit.trace) from the very modules the ROS nodes run, checked on a second batch size, and saved with a JSON
description of its input and output as the extra file `v2p_policy.json`:

    policy = torch.jit.load("policy.pt", _extra_files=(extra := {"v2p_policy.json": ""}))
    action = policy(clip)          # video encoder: uint8 clip [B, T, S, S, 3], RGB, oldest frame first

Without an encoder checkpoint the module takes the actor's own observation (the 128-D latent, or the state
vector a state-trained actor reads). Python, ROS and the v2p package are not needed to run it: libtorch is.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from v2p.errors import V2PError
from v2p.task.dishwashing import ACTION

EXTRA_FILE = "v2p_policy.json"
FORMAT = "v2p-torchscript-policy/1"


class DeterministicPolicy(nn.Module):
    """obs -> latent (through the encoder, when there is one) -> tanh(actor mean) scaled to the action bounds."""

    def __init__(self, actor: nn.Module, encoder: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.actor = actor

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        latent = obs if self.encoder is None else self.encoder(obs)
        mean, _ = self.actor(latent)
        return torch.tanh(mean) * self.actor.action_scale + self.actor.action_bias


def build_policy(checkpoint: str | Path, encoder_checkpoint: str | Path | None = None) -> tuple[DeterministicPolicy, dict[str, Any]]:
    """The eager policy and the description its export carries (input shape and dtype, action bounds, sources)."""
    from v2p.rl import load_actor

    actor, meta = load_actor(checkpoint)  # CheckpointError (a V2PError) names a missing or corrupt file
    obs_shape = [int(s) for s in meta["spaces"]["obs"]["shape"]]
    act_space = meta["spaces"]["action"]
    if int(act_space["shape"][0]) != ACTION.dim:
        raise V2PError(f"{checkpoint}: the actor outputs {act_space['shape'][0]} actions, a V2P policy "
                       f"outputs {ACTION.dim} ({', '.join(ACTION.fields)})")
    encoder = None
    if encoder_checkpoint is not None:
        from v2p.encoders import LATENT_DIM, load_encoder

        encoder = load_encoder(encoder_checkpoint).requires_grad_(False)  # EncoderCheckpointError names the file
        if obs_shape != [LATENT_DIM]:
            raise V2PError(f"{checkpoint}: the actor reads observations of shape {tuple(obs_shape)}, but the "
                           f"{encoder.kind} encoder of {encoder_checkpoint} outputs a {LATENT_DIM}-D latent")
        spec = encoder.input_spec
        # A trace follows the dtype it was traced with: video clips as a camera delivers them (uint8).
        input_shape, input_dtype = list(spec.shape), "uint8" if spec.modality == "video" else "float32"
        input_doc = f"{spec.describe()}"
    else:
        input_shape, input_dtype = obs_shape, "float32"
        input_doc = f"the actor's observation [B, {', '.join(map(str, obs_shape))}] (no encoder exported)"
    info = {
        "format": FORMAT,
        "input": {"shape": ["B", *input_shape], "dtype": input_dtype, "description": input_doc},
        "output": {"shape": ["B", ACTION.dim], "dtype": "float32", "fields": list(ACTION.fields),
                   "low": act_space["low"], "high": act_space["high"],
                   "description": "deterministic action: tanh(actor mean) scaled to [low, high]"},
        "checkpoint": str(checkpoint),
        "encoder_checkpoint": None if encoder_checkpoint is None else str(encoder_checkpoint),
        "encoder": None if encoder is None else encoder.kind,
        "versions": {"torch": torch.__version__},
    }
    return DeterministicPolicy(actor, encoder).eval(), info


def example_input(info: dict[str, Any], batch: int, seed: int = 0) -> torch.Tensor:
    """A batch of observations of the exported input's shape and dtype (camera-like pixels, or normal floats)."""
    generator = torch.Generator().manual_seed(seed)
    shape = [batch, *info["input"]["shape"][1:]]
    if info["input"]["dtype"] == "uint8":
        return torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator)
    return torch.randn(shape, generator=generator)


def export_policy(checkpoint: str | Path, out: str | Path,
                  encoder_checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Trace the policy, check the trace on another batch size, save it atomically to `out`; returns its info."""
    policy, info = build_policy(checkpoint, encoder_checkpoint)
    with torch.no_grad(), _quiet_jit():
        # The encoders' input checks run once, at trace time, on the example's shape (TracerWarnings say so);
        # check_inputs re-runs eager and traced on another batch size, so a trace that does not generalise fails.
        traced = torch.jit.trace(policy, example_input(info, batch=1),
                                 check_inputs=[(example_input(info, batch=3, seed=1),)], check_tolerance=1e-5)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        try:
            torch.jit.save(traced, tmp, _extra_files={EXTRA_FILE: json.dumps(info, indent=2)})
            os.replace(tmp, out)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return info


@contextlib.contextmanager
def _quiet_jit() -> Iterator[None]:
    """Silence TorchScript's deprecation notice (robot runtimes load TorchScript with libtorch) and the tracer's
    notes on the encoders' shape checks."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def load_exported(path: str | Path) -> tuple[torch.jit.ScriptModule, dict[str, Any]]:
    """(module, info) of an exported policy; V2PError for a file that is not one."""
    extra = {EXTRA_FILE: ""}
    try:
        with _quiet_jit():
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except (RuntimeError, ValueError, OSError) as exc:
        raise V2PError(f"{path}: not a TorchScript file ({str(exc).splitlines()[0] if str(exc) else exc})") from None
    try:
        info = json.loads(extra[EXTRA_FILE])
    except json.JSONDecodeError:
        raise V2PError(f"{path}: TorchScript without the {EXTRA_FILE} description of a V2P policy") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise V2PError(f"{path}: {EXTRA_FILE} is not a {FORMAT} description")
    return module.eval(), info
