"""The SAC learner: `SAC` (SB3-style trainer), `SACAgent` (nets + one fused update, for learners that build
their own batches), replay buffers, kNN novelty, the SLA constraint hook and safetensors checkpoints.

Names are imported on first use, so `from v2p.rl.config import SACConfig` (the task presets do) costs no torch
import; `from v2p.rl import SAC` imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "SAC": "sac", "evaluate": "sac", "SACAgent": "agent", "Callback": "callbacks", "CheckpointError": "checkpoint",
    "load_actor": "checkpoint", "SACConfig": "config", "free_cores": "config", "SLAConstraint": "constraint",
    "NoveltyEstimator": "novelty", "Batch": "replay", "PrioritizedReplayBuffer": "replay", "ReplayBuffer": "replay",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'v2p.rl' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"v2p.rl.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
