"""The quality SLA as a constraint: the episode's Lagrangian reward, dual ascent on λ, and a linear e* curriculum
(the learner's per-step reward is `v2p.economics.reward`)."""

from __future__ import annotations

from dataclasses import dataclass

from v2p.config import SLAConfig


def lagrangian_reward(profit: float, err: float, error_target: float, lam: float) -> float:
    """r = profit − λ·max(0, err − e*)  ($/h)."""
    return profit - lam * max(0.0, err - error_target)


def sla_target(episode: int, sla: SLAConfig) -> float:
    """e* at `episode`: linear from start_target to error_target over curriculum_episodes, then constant."""
    if sla.start_target is None or sla.curriculum_episodes <= 0:
        return sla.error_target
    frac = min(max(episode, 0) / sla.curriculum_episodes, 1.0)
    return sla.start_target + frac * (sla.error_target - sla.start_target)


@dataclass
class DualAscent:
    """λ ← max(0, λ + η·(err − e*)) once per episode; e* follows the curriculum."""

    sla: SLAConfig
    lam: float = 0.0
    episode: int = 0

    @property
    def target(self) -> float:
        return sla_target(self.episode, self.sla)

    def update(self, err: float) -> float:
        """Apply one episode's error rate; returns the new λ and advances the curriculum."""
        self.lam = max(0.0, self.lam + self.sla.dual_step_size * (err - self.target))
        self.episode += 1
        return self.lam


@dataclass(frozen=True)
class ShiftTally:
    """Running counts of one shift (episode). Hours are simulated work hours."""

    units: int = 0
    attempts: int = 0
    errors: int = 0
    hours: float = 0.0
