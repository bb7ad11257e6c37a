"""The observation layout: one documented list of fields, each tagged with where a robot would get it.

Sources say what a real robot can know: `camera` (visible in its camera frames), `proprioception` (its own
sensors and the commands it sent), `bookkeeping` (its own counts and clock) and `simulator` (ground truth only a
simulator has, e.g. a dish's exact mass: allowed only in the `oracle_state` mode, used for comparison).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SOURCES = ("camera", "proprioception", "bookkeeping", "simulator")


@dataclass(frozen=True)
class ObservationField:
    name: str
    low: float
    high: float
    source: str  # one of SOURCES
    doc: str  # what the value is, with its unit

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"observation field {self.name}: source must be one of {SOURCES}, got {self.source!r}")
        if not self.low < self.high:
            raise ValueError(f"observation field {self.name}: low must be below high")


@dataclass(frozen=True)
class ObservationLayout:
    """An ordered list of fields; a vector of this layout has one float32 per field, clipped to its bounds."""

    fields: tuple[ObservationField, ...]

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"observation field names must be distinct, got {names}")

    @property
    def dim(self) -> int:
        return len(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def low(self) -> np.ndarray:
        return np.array([f.low for f in self.fields], dtype=np.float32)

    @property
    def high(self) -> np.ndarray:
        return np.array([f.high for f in self.fields], dtype=np.float32)

    @property
    def doc(self) -> tuple[str, ...]:
        """One line per field: "<index> <doc> [<source>]"."""
        return tuple(f"{i} {f.doc} [{f.source}]" for i, f in enumerate(self.fields))

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no observation field {name!r} (fields: {', '.join(self.names)})") from None

    def select(self, sources: Iterable[str]) -> ObservationLayout:
        """The sub-layout of the fields from these sources, in order."""
        wanted = set(sources)
        unknown = wanted - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown observation sources {sorted(unknown)} (known: {', '.join(SOURCES)})")
        return ObservationLayout(tuple(f for f in self.fields if f.source in wanted))

    def vector(self, values: dict[str, float]) -> np.ndarray:
        """A float32 vector of this layout from {field name: value}, clipped to the bounds; KeyError names a
        missing field."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise KeyError(f"observation is missing fields {missing}")
        v = np.array([float(values[n]) for n in self.names], dtype=np.float32)
        return np.clip(v, self.low, self.high)


@dataclass(frozen=True)
class PolicyInput:
    """Where the policy's observation comes from on the graph, the same live (policy node) and recorded (learner):
    the values of a vector topic (the encoder's latent, or a state), only `fields` of them when given, followed by
    the newest message of `robot_state` (the robot's own proprioception and bookkeeping) when given."""

    topic: str
    fields: tuple[int, ...] | None = None
    robot_state: str | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.topic,) if self.robot_state is None else (self.topic, self.robot_state)

    def compose(self, values: np.ndarray, robot_state: np.ndarray | None) -> np.ndarray:
        """The observation from one message of `topic` and the newest robot state; ValueError names what is off."""
        x = np.asarray(values, dtype=np.float32).reshape(-1)
        if self.fields is not None:
            if x.size <= max(self.fields):
                raise ValueError(f"{self.topic} has {x.size} values; the policy reads fields up to {max(self.fields)}")
            x = x[list(self.fields)]
        if self.robot_state is None:
            return x
        if robot_state is None:
            raise ValueError(f"no {self.robot_state} yet to append to {self.topic}")
        return np.concatenate([x, np.asarray(robot_state, dtype=np.float32).reshape(-1)])
