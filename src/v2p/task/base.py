"""The seam a task plugs into: what the generic environment, learners and economics need of a task.

A task is a small object holding its vocabulary (action, events, observation, SAC preset) and a factory for its
simulated workcell. `v2p.task.env.TaskEnv` (gymnasium), `v2p.rl.SAC` and `v2p.economics.EconomicsMonitor` are
built from a task; dishwashing (`v2p.task.dishwashing.DISHWASHING`) is the first, and `docs/architecture.md`
lists the steps to add the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from v2p.rl.config import SACConfig
from v2p.task.action import ActionSpec
from v2p.task.events import EventVocabulary
from v2p.task.observation import ObservationLayout


@dataclass(frozen=True)
class WorkEvent:
    """One attempt's outcome as a cell reports it: the unit or the first error, at a time in the shift."""

    kind: str  # "unit" or one of the task's error kinds
    sim_time_s: float  # since the start of the shift
    dish_index: int  # the item's position in its shift (0, 1, ...)
    dish_type: str  # one of the task's item types

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class CycleResult:
    """What one action did: its events (one per item attempted) and the simulated seconds it took."""

    events: list[WorkEvent]
    duration_s: float


@runtime_checkable
class Cell(Protocol):
    """A simulated workcell: one `run_cycle` per action, shifts of `shift_hours`, counts of its shift so far."""

    shift_hours: float
    units: int
    attempts: int

    @property
    def sim_time_s(self) -> float: ...

    @property
    def shift_done(self) -> bool: ...

    @property
    def errors(self) -> int: ...

    @property
    def errors_by_type(self) -> dict[str, int]: ...

    def reset(self, seed: int | None = None) -> None: ...

    def run_cycle(self, *action: float, tick: Callable[[float], None] | None = None,
                  tick_period_s: float = 0.1) -> CycleResult: ...

    def state_vector(self) -> np.ndarray: ...

    def render_rgb(self, size: int | None = None) -> np.ndarray: ...

    def close(self) -> None: ...


@runtime_checkable
class Task(Protocol):
    """A kind of paid work: its vocabulary and its simulator."""

    name: str
    action: ActionSpec
    events: EventVocabulary
    observation: ObservationLayout  # what `Cell.state_vector` returns
    sac: SACConfig  # the learner's preset for this task (change with dataclasses.replace)

    def make_cell(self, site: Any, seed: int, render_size: int = 64) -> Cell: ...
