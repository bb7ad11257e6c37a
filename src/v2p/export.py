"""Export of a policy for a robot's runtime: its inputs -> encoder -> SAC actor -> [speed, care], in two formats.

- "torch-export": a `torch.export` ExportedProgram (`.pt2`, `torch.export.load(...).module()`; AOTInductor can
  compile it for a C++ runtime). Its description rides along as the extra file `v2p_policy.json`.
- "onnx": an ONNX model (`.onnx`, for ONNX Runtime's C, C++ and Python APIs), its description in the model's
  metadata under `v2p_policy`. It needs the optional `onnx` extra (requirements-onnx.txt); when onnxruntime is
  installed, the export is run in it and refused unless it gives the eager actions within 1e-5.

Both compute what policy_node publishes with `deterministic:=true` (`actor.act(observation, True)`): the actor's
mean action, squashed by tanh and scaled to the action bounds. The inputs follow the checkpoint: with an encoder
checkpoint, the encoder's input (a uint8 RGB clip [B, T, S, S, 3], oldest frame first, for a video encoder) and,
when the actor was trained on the latent followed by the robot's own state (its metadata's
`extra.policy_input` names a second topic), that state [B, N] as a second input, appended as
`PolicyInput.compose` does. Without an encoder checkpoint, the actor's own observation [B, obs_dim]. Each export
is checked against the eager modules on two batch sizes before it is written (atomically).

TorchScript is no longer written: PyTorch deprecates it for `torch.export`, and ONNX covers runtimes without
Python; one export per kind of runtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from v2p.errors import V2PError
from v2p.task.dishwashing import ACTION

FORMATS = ("torch-export", "onnx")
SUFFIX = {"torch-export": ".pt2", "onnx": ".onnx"}
EXTRA_FILE = "v2p_policy.json"  # the .pt2's extra file
ONNX_KEY = "v2p_policy"  # the ONNX model's metadata key
FORMAT = "v2p-exported-policy/1"
TOLERANCE = 1e-5
ONNX_EXTRA = "pip install -r requirements-onnx.txt (the onnx extra: onnx, onnxscript, onnxruntime)"


class DeterministicPolicy(nn.Module):
    """inputs -> observation (the encoder's latent, then the robot state when there is one) -> actor.act(.., True)."""

    def __init__(self, actor: nn.Module, encoder: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.actor = actor

    def forward(self, obs: torch.Tensor, robot_state: torch.Tensor | None = None) -> torch.Tensor:
        x = obs if self.encoder is None else self.encoder(obs)
        if robot_state is not None:
            x = torch.cat([x, robot_state.to(x.dtype)], dim=-1)
        return self.actor.act(x, True)


def _sha256(path: Path) -> str:
    """The content hash of a checkpoint: a directory's by `v2p.learning.versions.content_hash`, a file's bytes."""
    from v2p.learning.versions import content_hash

    if path.is_dir():
        return content_hash(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_policy(checkpoint: str | Path, encoder_checkpoint: str | Path | None = None
                 ) -> tuple[DeterministicPolicy, dict[str, Any]]:
    """The eager policy and the description its export carries (inputs, output and its bounds, sources)."""
    from v2p.rl import load_actor

    actor, meta = load_actor(checkpoint)  # CheckpointError (a V2PError) names a missing or corrupt file
    obs_dim = int(meta["spaces"]["obs"]["shape"][0])
    act_space = meta["spaces"]["action"]
    if int(act_space["shape"][0]) != ACTION.dim:
        raise V2PError(f"{checkpoint}: the actor outputs {act_space['shape'][0]} actions, a V2P policy "
                       f"outputs {ACTION.dim} ({', '.join(ACTION.fields)})")
    trained_on = [str(t) for t in (meta.get("extra") or {}).get("policy_input") or []]
    encoder = None
    if encoder_checkpoint is not None:
        from v2p.encoders import LATENT_DIM, load_encoder

        encoder = load_encoder(encoder_checkpoint).requires_grad_(False)  # EncoderCheckpointError names the file
        spec = encoder.input_spec
        robot_dim = obs_dim - LATENT_DIM if len(trained_on) == 2 else 0
        if obs_dim != LATENT_DIM + robot_dim or robot_dim < 0:
            raise V2PError(f"{checkpoint}: the actor reads observations of shape ({obs_dim},) from "
                           f"{' + '.join(trained_on) or 'its observation'}, but the {encoder.kind} encoder of "
                           f"{encoder_checkpoint} outputs a {LATENT_DIM}-D latent")
        # An export follows the dtype it was made with: video clips as a camera delivers them (uint8).
        inputs = [{"name": "clip" if spec.modality == "video" else "state", "shape": ["B", *spec.shape],
                   "dtype": "uint8" if spec.modality == "video" else "float32", "description": spec.describe()}]
        if robot_dim:
            inputs.append({"name": "robot_state", "shape": ["B", robot_dim], "dtype": "float32",
                           "description": f"the newest {trained_on[1]} ({robot_dim} values), appended to the "
                                          f"encoder's latent as the actor was trained"})
    else:
        inputs = [{"name": "observation", "shape": ["B", obs_dim], "dtype": "float32",
                   "description": f"the actor's observation ({' + '.join(trained_on) or 'as trained'}; no encoder "
                                  "exported)"}]
    sources = {"checkpoint": {"path": str(Path(checkpoint).resolve()), "sha256": _sha256(Path(checkpoint).resolve())}}
    if encoder_checkpoint is not None:
        enc = Path(encoder_checkpoint).resolve()
        sources["encoder_checkpoint"] = {"path": str(enc), "sha256": _sha256(enc), "kind": encoder.kind}
    info = {
        "format": FORMAT,
        "inputs": inputs,
        "output": {"name": "action", "shape": ["B", ACTION.dim], "dtype": "float32", "fields": list(ACTION.fields),
                   "low": act_space["low"], "high": act_space["high"],
                   "description": "deterministic action: tanh(actor mean) scaled to [low, high]"},
        "sources": sources,
        "policy_input": trained_on,
        "versions": {"torch": torch.__version__},
    }
    return DeterministicPolicy(actor, encoder).eval(), info


def example_inputs(info: dict[str, Any], batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A batch of each input of the description: camera-like pixels, or normal floats."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for spec in info["inputs"]:
        shape = [batch, *spec["shape"][1:]]
        out.append(torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator) if spec["dtype"] == "uint8"
                   else torch.randn(shape, generator=generator))
    return tuple(out)


def _check(name: str, run: Callable[..., Any], policy: DeterministicPolicy, info: dict[str, Any]) -> float:
    """The largest |export - eager| over two batch sizes; V2PError above TOLERANCE."""
    worst = 0.0
    for batch, seed in ((1, 11), (3, 12)):  # batch 1 too: the export is traced with 2
        args = example_inputs(info, batch, seed)
        with torch.no_grad():
            got, want = torch.as_tensor(run(*args)), policy(*args)
        if got.shape != want.shape:
            raise V2PError(f"{name}: the export gives actions of shape {tuple(got.shape)} for a batch of {batch}, "
                           f"eager {tuple(want.shape)}")
        worst = max(worst, float((got.float() - want).abs().max()))
    if worst > TOLERANCE:
        raise V2PError(f"{name}: the export's actions differ from the eager policy's by {worst:.3g} (> {TOLERANCE:g})")
    return worst


def _dynamic_batch(info: dict[str, Any]) -> tuple[dict[int, Any], ...]:
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    return tuple({0: batch} for _ in info["inputs"])


def _atomic(out: Path, write: Callable[[str], None]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)


def export_policy(checkpoint: str | Path, out: str | Path, encoder_checkpoint: str | Path | None = None,
                  fmt: str = "torch-export") -> dict[str, Any]:
    """Export the policy in format `fmt`, check it against the eager policy, save it atomically to `out`; returns
    its description (with the parity found under "check")."""
    if fmt not in FORMATS:
        raise V2PError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    policy, info = build_policy(checkpoint, encoder_checkpoint)
    out = Path(out)
    with torch.no_grad():
        program = torch.export.export(policy, example_inputs(info, 2), dynamic_shapes=_dynamic_batch(info))
    if fmt == "torch-export":
        module = program.module()
        info["check"] = {"against": "eager", "max_abs_diff": _check(str(out), module, policy, info)}
        _atomic(out, lambda tmp: torch.export.save(program, tmp, extra_files={EXTRA_FILE: json.dumps(info)}))
    else:
        _export_onnx(program, policy, info, out)
    return info


def _export_onnx(program: Any, policy: DeterministicPolicy, info: dict[str, Any], out: Path) -> None:
    try:
        import onnx
    except ImportError:
        raise V2PError(f"--format onnx needs the onnx package: {ONNX_EXTRA}") from None
    names = [spec["name"] for spec in info["inputs"]]
    try:
        exported = torch.onnx.export(program, example_inputs(info, 2), input_names=names, output_names=["action"],
                                     dynamo=True, verbose=False)
    except ImportError as exc:
        raise V2PError(f"--format onnx: {exc}; {ONNX_EXTRA}") from None
    model = exported.model_proto
    try:
        import onnxruntime
    except ImportError:
        info["check"] = {"against": "onnxruntime", "skipped": "onnxruntime is not installed"}
    else:
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        run = _session_runner(session, names)
        info["check"] = {"against": "eager", "runtime": f"onnxruntime {onnxruntime.__version__}",
                         "max_abs_diff": _check(str(out), run, policy, info)}
    onnx.helper.set_model_props(model, {ONNX_KEY: json.dumps(info)})
    _atomic(out, lambda tmp: onnx.save(model, tmp))


def _session_runner(session: Any, names: list[str]) -> Callable[..., torch.Tensor]:
    def run(*args: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(["action"], {n: a.numpy() for n, a in zip(names, args)})[0])
    return run


def _described(path: Path, text: str | None) -> dict[str, Any]:
    try:
        info = json.loads(text) if text else None
    except json.JSONDecodeError:
        info = None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise V2PError(f"{path}: no {FORMAT} description (not a policy `v2p export` wrote)")
    return info


def load_exported(path: str | Path) -> tuple[Callable[..., torch.Tensor], dict[str, Any]]:
    """(run, info) of an exported policy: `run(*inputs)` gives the actions. A `.onnx` runs in onnxruntime (the onnx
    extra). V2PError for a file that is not one."""
    path = Path(path)
    if path.suffix == ".onnx":
        try:
            import onnx
            import onnxruntime
        except ImportError:
            raise V2PError(f"{path}: running an ONNX policy needs onnx and onnxruntime: {ONNX_EXTRA}") from None
        try:
            model = onnx.load(str(path))
        except Exception as exc:  # noqa: BLE001 - protobuf's decode errors have no common base
            raise V2PError(f"{path}: not an ONNX model ({type(exc).__name__}: {exc})") from None
        info = _described(path, {p.key: p.value for p in model.metadata_props}.get(ONNX_KEY))
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return _session_runner(session, [spec["name"] for spec in info["inputs"]]), info
    extra = {EXTRA_FILE: ""}
    try:
        program = torch.export.load(str(path), extra_files=extra)
    except Exception as exc:  # noqa: BLE001 - a wrong file fails deep in the zip and pickle readers
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise V2PError(f"{path}: not a torch.export program ({first})") from None
    return program.module(), _described(path, extra[EXTRA_FILE])
