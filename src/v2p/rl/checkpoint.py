"""Checkpoints: a directory holding `model.safetensors` (tensors only) and `metadata.json`.

Layout and why: the directory keeps the weights and their description side by side and leaves room for more
files. Each file is written atomically (temp file in the same directory, fsync, os.replace, fsync of the
directory); weights first, then metadata, which records the weights' SHA-256, so metadata.json is the commit
record: a reader that races a writer, or a file cut short or corrupted later, fails the hash check with a
CheckpointError instead of loading mixed or broken weights. Loading never unpickles: safetensors and JSON only.

metadata.json: format, config (SACConfig), spaces {obs, action: {shape, low, high}}, step, updates, episodes,
versions {v2p, torch, safetensors}, weights_sha256, extra (caller's JSON, e.g. λ and e* of the SLA).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from v2p.errors import V2PError

FORMAT = "v2p-sac-checkpoint/1"
WEIGHTS = "model.safetensors"
METADATA = "metadata.json"


class CheckpointError(V2PError):
    """A checkpoint is missing, corrupt, truncated, or does not match the model or env it is loaded into."""


# ---- spaces <-> JSON (bounds may be ±inf, which strict JSON lacks: written as the strings "inf"/"-inf") ----

def _bound_to_json(values: np.ndarray) -> Any:
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    enc = [v if math.isfinite(v) else ("inf" if v > 0 else "-inf") for v in flat.tolist()]
    return enc[0] if len(set(map(str, enc))) == 1 else enc  # a uniform bound is stored once


def _bound_from_json(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    def num(v: Any) -> float:
        if v in ("inf", "-inf"):
            return float(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"bad bound {v!r}")
        return float(v)

    if isinstance(value, list):
        arr = np.array([num(v) for v in value], dtype=np.float64)
        return arr.reshape(shape)
    return np.full(shape, num(value), dtype=np.float64)


def space_to_json(space: Any) -> dict[str, Any]:
    return {"shape": list(space.shape), "low": _bound_to_json(space.low), "high": _bound_to_json(space.high)}


def space_from_json(data: dict[str, Any]) -> Any:
    import gymnasium as gym

    shape = tuple(int(s) for s in data["shape"])
    low, high = _bound_from_json(data["low"], shape), _bound_from_json(data["high"], shape)
    return gym.spaces.Box(low.astype(np.float32), high.astype(np.float32), shape=shape, dtype=np.float32)


def check_space(path: Path, what: str, saved: dict[str, Any], space: Any) -> None:
    """CheckpointError unless `space` is a Box with the saved shape and bounds."""
    if not hasattr(space, "shape") or not hasattr(space, "low"):
        raise CheckpointError(f"{path}: the env's {what} space is {space}, the checkpoint needs a Box")
    here = space_to_json(space)
    if here["shape"] != saved["shape"]:
        raise CheckpointError(f"{path}: {what} space shape mismatch: checkpoint {tuple(saved['shape'])}, "
                              f"env {tuple(here['shape'])}")
    shape = tuple(saved["shape"])
    for bound in ("low", "high"):
        a = _bound_from_json(saved[bound], shape).astype(np.float32)
        b = np.asarray(getattr(space, bound), dtype=np.float32).reshape(shape)
        if not np.array_equal(a, b):
            raise CheckpointError(f"{path}: {what} space {bound} bound mismatch: checkpoint {saved[bound]}, "
                                  f"env {here[bound]}")


# ---- atomic file writes ----

def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see either the old file or the whole new one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> Path:
    """Write tensors and metadata (JSON-able) into directory `path`; returns it."""
    from safetensors.torch import save

    import v2p

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    blob = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
    meta = dict(metadata)
    meta["format"] = FORMAT
    meta["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    meta.setdefault("versions", {}).update(_versions(v2p.__version__))
    atomic_write_bytes(path / WEIGHTS, blob)
    atomic_write_bytes(path / METADATA, json.dumps(meta, indent=2, allow_nan=False).encode() + b"\n")
    return path


def _versions(v2p_version: str) -> dict[str, str]:
    import safetensors

    return {"v2p": v2p_version, "torch": torch.__version__, "safetensors": safetensors.__version__}


def read_metadata(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    meta_path = path / METADATA
    if not path.is_dir():
        raise CheckpointError(f"{path}: not a checkpoint directory (expected {WEIGHTS} and {METADATA} in it)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{meta_path}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{meta_path}: corrupt or truncated JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{meta_path}: not a {FORMAT} checkpoint (format: {found!r})")
    for key in ("config", "spaces", "weights_sha256"):
        if key not in meta:
            raise CheckpointError(f"{meta_path}: missing key '{key}'")
    return meta


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, metadata) from directory `path`, after checking the weights against metadata's hash."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    meta = read_metadata(path)
    weights_path = path / WEIGHTS
    try:
        blob = weights_path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{weights_path}: missing") from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != meta["weights_sha256"]:
        raise CheckpointError(f"{weights_path}: corrupt or truncated ({len(blob)} bytes; SHA-256 {digest[:12]}… "
                              f"differs from {meta['weights_sha256'][:12]}… recorded in {METADATA})")
    try:
        tensors = load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{weights_path}: not a readable safetensors file ({exc})") from None
    return tensors, meta


def check_tensors(path: Path, expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor],
                  prefix: str = "") -> None:
    """CheckpointError naming the first missing, unexpected or mis-shaped tensor (under `prefix`)."""
    want = {k: v for k, v in expected.items() if k.startswith(prefix)}
    have = {k: v for k, v in found.items() if k.startswith(prefix)}
    missing = sorted(set(want) - set(have))
    if missing:
        raise CheckpointError(f"{path / WEIGHTS}: missing tensors {missing[:5]}")
    extra = sorted(set(have) - set(want))
    if extra:
        raise CheckpointError(f"{path / WEIGHTS}: unexpected tensors {extra[:5]} (different network layout)")
    for k in sorted(want):
        if tuple(want[k].shape) != tuple(have[k].shape):
            raise CheckpointError(f"{path / WEIGHTS}: tensor '{k}' has shape {tuple(have[k].shape)}, the model "
                                  f"needs {tuple(want[k].shape)}")


def read_spec(path: Path, meta: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(SACConfig, observation space, action space) from a checkpoint's metadata; CheckpointError if malformed."""
    from v2p.rl.config import SACConfig

    try:
        return (SACConfig.from_dict(meta["config"]), space_from_json(meta["spaces"]["obs"]),
                space_from_json(meta["spaces"]["action"]))
    except (KeyError, TypeError, ValueError, V2PError) as exc:
        raise CheckpointError(f"{path / METADATA}: bad config or spaces ({exc})") from None


def load_actor(path: str | Path, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """The actor alone, in eval mode, for inference (the ROS policy node hot-reloads it): (actor, metadata).

    `actor.act(obs_tensor, deterministic=True)` returns actions in the env's units.
    """
    from v2p.rl.networks import Actor

    path = Path(path)
    tensors, meta = load_checkpoint(path)
    config, obs_space, act_space = read_spec(path, meta)
    actor = Actor(int(np.prod(obs_space.shape)), int(np.prod(act_space.shape)), config.net_arch,
                  torch.as_tensor(act_space.low), torch.as_tensor(act_space.high))
    expected = {f"actor.{k}": v for k, v in actor.state_dict().items()}
    check_tensors(path, expected, tensors, prefix="actor.")
    actor.load_state_dict({k[len("actor."):]: v for k, v in tensors.items() if k.startswith("actor.")})
    return actor.to(device).eval().requires_grad_(False), meta
