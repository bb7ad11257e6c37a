"""Choose an encoder by name (the name config files and the CLI use)."""

from __future__ import annotations

from typing import Any

from v2p.encoders.base import Encoder
from v2p.encoders.mlp import MLPEncoder
from v2p.encoders.r3d18 import R3D18Encoder
from v2p.encoders.streaming import StreamingVideoEncoder
from v2p.errors import V2PError

ENCODERS: dict[str, type[Encoder]] = {
    "mlp": MLPEncoder,
    "r3d18": R3D18Encoder,
    "streaming": StreamingVideoEncoder,
}
ALIASES = {"video": "streaming"}  # the default video encoder


def encoder_names() -> list[str]:
    return sorted([*ENCODERS, *ALIASES])


def make_encoder(name: str, **kwargs: Any) -> Encoder:
    """Build an encoder: "mlp" (needs state_dim), "r3d18", "streaming" or its alias "video"."""
    kind = ALIASES.get(name, name)
    if kind not in ENCODERS:
        raise V2PError(f"unknown encoder '{name}' (choose from {', '.join(encoder_names())})")
    try:
        return ENCODERS[kind](**kwargs)
    except TypeError as exc:  # a misspelt or missing keyword is the caller's input error
        raise V2PError(f"encoder '{name}': bad arguments {sorted(kwargs)}: {exc}") from exc
