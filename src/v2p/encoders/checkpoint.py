"""Encoder checkpoints: one safetensors file whose header carries JSON metadata (kind, kwargs, versions).

Writes are atomic (temporary file in the same folder, fsync, os.replace), so a crash never leaves a half-written
checkpoint where a policy node would load it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch
import torchvision

import v2p
from v2p.encoders.base import LATENT_DIM, Encoder
from v2p.encoders.registry import ENCODERS, make_encoder
from v2p.errors import V2PError

FORMAT = "v2p-encoder"
FORMAT_VERSION = 1
METADATA_KEY = "v2p_encoder"


class EncoderCheckpointError(V2PError):
    """An encoder checkpoint is missing, corrupt, or does not match the architecture it names."""


def save_encoder(encoder: Encoder, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write `encoder`'s weights and metadata to `path` atomically. `extra` (JSON-able) is stored alongside."""
    path = Path(path)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": encoder.kind,
        "kwargs": encoder.config(),
        "latent_dim": LATENT_DIM,
        "versions": {"v2p": v2p.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
                     "safetensors": safetensors.__version__},
        "extra": extra or {},
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in encoder.state_dict().items()}
    blob = safetensors.torch.save(tensors, metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
    return path


def read_encoder_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint, validated (no weights are read into a model)."""
    return _read(Path(path))[0]


def load_encoder(path: str | Path, map_location: str | torch.device = "cpu") -> Encoder:
    """Rebuild the encoder a checkpoint names and load its weights. Returned in eval mode."""
    path = Path(path)
    meta, tensors = _read(path)
    try:
        encoder = make_encoder(meta["kind"], **meta["kwargs"])
    except V2PError as exc:
        raise EncoderCheckpointError(f"{path}: cannot rebuild the encoder it names: {exc}") from exc
    expected = encoder.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if expected[k].shape != tensors[k].shape)
    if missing or unexpected or wrong:
        raise EncoderCheckpointError(
            f"{path}: weights do not match a '{meta['kind']}' encoder with {meta['kwargs']} "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {wrong[:3]})"
        )
    encoder.load_state_dict(tensors)
    return encoder.to(map_location).eval()


def _read(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    if not path.is_file():
        raise EncoderCheckpointError(f"{path}: encoder checkpoint not found")
    data = path.read_bytes()
    try:
        tensors = safetensors.torch.load(data)
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_len])
    except Exception as exc:  # noqa: BLE001 - truncated/garbled files raise several exception types
        raise EncoderCheckpointError(f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc})") from exc
    raw = (header.get("__metadata__") or {}).get(METADATA_KEY)
    if raw is None:
        raise EncoderCheckpointError(f"{path}: safetensors file has no '{METADATA_KEY}' metadata (not a v2p encoder)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EncoderCheckpointError(f"{path}: encoder metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise EncoderCheckpointError(f"{path}: metadata format is not '{FORMAT}'")
    if meta.get("format_version") != FORMAT_VERSION:
        raise EncoderCheckpointError(
            f"{path}: checkpoint format version {meta.get('format_version')} (this v2p reads {FORMAT_VERSION})"
        )
    if meta.get("kind") not in ENCODERS or not isinstance(meta.get("kwargs"), dict):
        raise EncoderCheckpointError(f"{path}: unknown encoder kind {meta.get('kind')!r} or missing kwargs")
    if meta.get("latent_dim") != LATENT_DIM:
        raise EncoderCheckpointError(f"{path}: latent size {meta.get('latent_dim')} != {LATENT_DIM}")
    return meta, tensors
