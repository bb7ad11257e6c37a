"""The SAC learner: `SAC` (SB3-style trainer), `SACAgent` (nets + one fused update, for learners that build
their own batches), replay buffers, kNN novelty, the SLA constraint hook and safetensors checkpoints.

Importing this package imports torch; import it inside CLI handlers.
"""

from v2p.rl.agent import SACAgent
from v2p.rl.callbacks import Callback
from v2p.rl.checkpoint import CheckpointError, load_actor
from v2p.rl.config import SACConfig, free_cores
from v2p.rl.constraint import SLAConstraint
from v2p.rl.novelty import NoveltyEstimator
from v2p.rl.replay import Batch, PrioritizedReplayBuffer, ReplayBuffer
from v2p.rl.sac import SAC, evaluate

__all__ = ["SAC", "SACAgent", "SACConfig", "Callback", "CheckpointError", "load_actor", "SLAConstraint",
           "NoveltyEstimator", "ReplayBuffer", "PrioritizedReplayBuffer", "Batch", "evaluate", "free_cores"]
