"""Data sets for measuring the counterfactual pair without a ROS graph: shifts recorded like the demo's.

The demo's phases record what SAC does while it learns: exploration first, then its current policy with noise.
`record_like_demo` records the same mix: its first `explore` part of the shifts with uniform actions, the rest
with a noisy fixed operating point (`NoisyFixed`), into two folders under one data-set folder (shift k seeded
seed + k throughout, so two data sets from the same seed are the same shifts, action for action). `record_many`
records several data sets through an executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v2p.experiments.executor import Executor, LocalExecutor
from v2p.experiments.recording import record_shifts, uniform_behaviour
from v2p.task.dishwashing import ACTION


class NoisyFixed:
    """(speed, care) = a fixed operating point plus Gaussian noise of `sd`, clipped to the action's bounds."""

    def __init__(self, action: Sequence[float] = (0.5, 0.8), sd: float = 0.15) -> None:
        self.action = np.asarray(ACTION.parse(action), dtype=np.float64)
        self.sd = float(sd)

    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
        a = np.clip(self.action + rng.normal(0.0, self.sd, self.action.size), ACTION.low_array, ACTION.high_array)
        return float(a[0]), float(a[1])


@dataclass(frozen=True)
class DataSet:
    """`shifts` shifts at `site` from `seed`, the first `explore` fraction with uniform actions."""

    folder: str
    site: str
    shifts: int
    seed: int
    explore: float = 0.4

    def __post_init__(self) -> None:
        if self.shifts < 1 or not 0.0 <= self.explore <= 1.0:
            raise ValueError(f"a data set needs shifts >= 1 and explore in [0, 1], got {self.shifts}, {self.explore}")

    @property
    def parts(self) -> list[tuple[str, int, int]]:
        """(sub-folder, shifts, first shift) of its uniform and its noisy part (a part with no shift left out)."""
        n = round(self.shifts * self.explore)
        return [(name, count, first) for name, count, first in (("explore", n, 0), ("noisy", self.shifts - n, n))
                if count > 0]


def _record(job: tuple[DataSet, str, int, int]) -> str:
    data, part, shifts, first = job
    behaviour = uniform_behaviour if part == "explore" else NoisyFixed()
    return str(record_shifts(Path(data.folder) / part, data.site, shifts, data.seed + first, behaviour,
                             first_episode=first))


def record_like_demo(data: DataSet) -> Path:
    """Record one data set (see the module docstring); returns its folder."""
    return record_many([data])[0]


def record_many(datasets: Sequence[DataSet], executor: Executor | None = None) -> list[Path]:
    """Record every data set (each part a job of `executor`); returns their folders."""
    jobs = [(d, part, n, first) for d in datasets for part, n, first in d.parts]
    (executor or LocalExecutor(1)).map(_record, jobs)
    return [Path(d.folder) for d in datasets]
