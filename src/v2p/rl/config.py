"""SACConfig: every hyperparameter of the learner in one frozen dataclass (saved verbatim in checkpoints)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from v2p.errors import V2PError

REPLAY_KINDS = ("uniform", "novelty")
CRITIC_AGGREGATES = ("min", "mean")



@dataclass(frozen=True)
class SACConfig:
    """Defaults follow Stable-Baselines3's SAC, so a zoo hyperparameter set means the same thing here."""

    net_arch: tuple[int, ...] = (256, 256)  # hidden widths of the actor and of each critic
    learning_rate: float = 3e-4  # Adam step size for actor, critics and temperature
    buffer_size: int = 1_000_000
    learning_starts: int = 100  # uniform-random actions, and no updates, before this many env steps
    batch_size: int = 256
    tau: float = 0.005  # Polyak rate of the target critics
    gamma: float = 0.99
    train_freq: int = 1  # env steps between rounds of updates
    gradient_steps: int = 1  # updates per round
    ent_coef: str | float = "auto"  # "auto" (learn α from 1), "auto_0.1" (learn α from 0.1), or a fixed α
    critics: int = 2  # critics in the ensemble (2: SAC's clipped double-Q)
    critic_aggregate: str = "min"  # how the actor and the target read the ensemble: "min" (SAC) or "mean"
    reward_parts: int = 0  # 0: the env's reward; k: k reward parts priced at sampling (see replay.py)
    target_entropy: float | None = None  # None: −|A|
    replay: str = "uniform"  # "uniform" or "novelty" (novelty-prioritised, see replay.py)
    per_alpha: float = 0.6  # priority exponent: P(i) ∝ (novelty_i + per_eps)^per_alpha
    per_beta: float = 0.4  # importance-weight exponent at the start; annealed linearly to 1 over learn()
    per_eps: float = 1e-3
    novelty_k: int = 10  # neighbours of the kNN novelty
    novelty_memory: int = 4096  # observations the novelty estimator keeps (uniform reservoir)
    seed: int | None = None
    device: str = "auto"  # "auto" (cuda when available), "cpu", "cuda", "cuda:1", ...
    threads: int | None = None  # torch CPU threads; None: all free cores. Never more than the free cores.
    compile: bool = False  # torch.compile the update; on CUDA also capture it in a CUDA graph

    def __post_init__(self) -> None:
        def need(ok: bool, key: str, problem: str) -> None:
            if not ok:
                raise V2PError(f"SAC config '{key}': {problem}")

        object.__setattr__(self, "net_arch", tuple(int(w) for w in self.net_arch))
        need(all(w > 0 for w in self.net_arch), "net_arch", f"widths must be positive, got {self.net_arch}")
        need(self.learning_rate > 0, "learning_rate", f"must be positive, got {self.learning_rate}")
        need(self.buffer_size >= 1, "buffer_size", f"must be at least 1, got {self.buffer_size}")
        need(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        need(self.learning_starts >= 0, "learning_starts", "must not be negative")
        need(0 < self.tau <= 1, "tau", f"must lie in (0, 1], got {self.tau}")
        need(0 <= self.gamma <= 1, "gamma", f"must lie in [0, 1], got {self.gamma}")
        need(self.train_freq >= 1, "train_freq", f"must be at least 1, got {self.train_freq}")
        need(self.gradient_steps >= 0, "gradient_steps", "must not be negative")
        if isinstance(self.ent_coef, str):
            need(_initial_alpha(self.ent_coef) is not None, "ent_coef",
                 f"must be 'auto', 'auto_<initial α > 0>' or a positive number, got {self.ent_coef!r}")
        else:
            need(float(self.ent_coef) > 0, "ent_coef", f"must be 'auto' or a positive number, got {self.ent_coef}")
        need(self.replay in REPLAY_KINDS, "replay", f"must be one of {REPLAY_KINDS}, got {self.replay!r}")
        need(self.critics >= 1, "critics", f"must be at least 1, got {self.critics}")
        need(self.critic_aggregate in CRITIC_AGGREGATES, "critic_aggregate",
             f"must be one of {CRITIC_AGGREGATES}, got {self.critic_aggregate!r}")
        need(self.reward_parts >= 0, "reward_parts", f"must not be negative, got {self.reward_parts}")
        need(self.per_alpha >= 0, "per_alpha", "must not be negative")
        need(0 <= self.per_beta <= 1, "per_beta", f"must lie in [0, 1], got {self.per_beta}")
        need(self.per_eps > 0, "per_eps", "must be positive")
        need(self.novelty_k >= 1, "novelty_k", "must be at least 1")
        need(self.novelty_memory >= self.novelty_k, "novelty_memory", "must be at least novelty_k")
        need(self.threads is None or self.threads >= 1, "threads", f"must be at least 1, got {self.threads}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["net_arch"] = list(self.net_arch)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SACConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise V2PError(f"SAC config: unknown keys {unknown} (known: {', '.join(sorted(known))})")
        return cls(**data)


def _initial_alpha(ent_coef: str) -> float | None:
    """The starting α of a learned temperature: "auto" -> 1.0 (SB3's default), "auto_0.1" -> 0.1; else None."""
    if ent_coef == "auto":
        return 1.0
    if ent_coef.startswith("auto_"):
        try:
            value = float(ent_coef[5:])
        except ValueError:
            return None
        return value if value > 0 else None
    return None


def free_cores() -> int:
    """CPUs this process may use minus those other processes keep busy (1-minute load average), at least 1."""
    cpus = len(os.sched_getaffinity(0))
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cpus, cpus - int(busy)))


def resolve_threads(requested: int | None) -> int:
    """Threads to give torch: the request, capped at the free cores (oversubscribing stalls every thread)."""
    free = free_cores()
    return free if requested is None else max(1, min(requested, free))
