"""The observation layout: one documented list of fields, each tagged with where a robot would get it, and
`PolicyInput`, what the policy acts on (the same live and from bags).

Sources say what a real robot can know: `camera` (visible in its camera frames), `proprioception` (its own
sensors and the commands it sent), `bookkeeping` (its own counts and clock) and `simulator` (ground truth only a
simulator has, e.g. a dish's exact mass: allowed only in the `oracle_state` mode, used for comparison).
`STATE_VIEWS` names the sub-layouts by the sources they keep: `robot_state` (what the robot knows of itself, the
/robot/state topic), `observable_state` (all a robot can sense) and `oracle_state` (everything).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SOURCES = ("camera", "proprioception", "bookkeeping", "simulator")
ROBOT_SOURCES = ("proprioception", "bookkeeping")  # what the robot knows of itself, without its camera
OBSERVABLE_SOURCES = ("camera", *ROBOT_SOURCES)  # all a robot can sense: everything but the simulator's truth
# The views of a state vector by name: the sources each keeps.
STATE_VIEWS = {"robot_state": ROBOT_SOURCES, "observable_state": OBSERVABLE_SOURCES, "oracle_state": SOURCES}


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
        return ObservationLayout(tuple(self.fields[i] for i in self.positions(sources)))

    def positions(self, sources: Iterable[str]) -> tuple[int, ...]:
        """The indices of the fields from these sources, in order (what `select` keeps)."""
        wanted = set(sources)
        unknown = wanted - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown observation sources {sorted(unknown)} (known: {', '.join(SOURCES)})")
        return tuple(i for i, f in enumerate(self.fields) if f.source in wanted)

    def view(self, name: str) -> tuple[int, ...]:
        """The indices of the named view of `STATE_VIEWS`; ValueError names the views."""
        if name not in STATE_VIEWS:
            raise ValueError(f"no state view {name!r} (choose from {', '.join(STATE_VIEWS)})")
        return self.positions(STATE_VIEWS[name])

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
    the newest message of `robot_state` (the robot's own proprioception and bookkeeping, `robot_state_dim`
    values) when given. `sources` says what producing it takes (a "simulator" source: privileged, for comparison
    only); `doc` says what it is."""

    topic: str
    fields: tuple[int, ...] | None = None
    robot_state: str | None = None
    robot_state_dim: int = 0
    sources: tuple[str, ...] = SOURCES
    doc: str = ""

    def __post_init__(self) -> None:
        if (self.robot_state is None) != (self.robot_state_dim == 0) or self.robot_state_dim < 0:
            raise ValueError("a policy input with a robot_state topic needs its robot_state_dim > 0, and only then")
        if self.fields is not None and (not self.fields or min(self.fields) < 0):
            raise ValueError(f"policy input fields must be non-negative indices, got {self.fields}")
        unknown = set(self.sources) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown observation sources {sorted(unknown)} (known: {', '.join(SOURCES)})")

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.topic,) if self.robot_state is None else (self.topic, self.robot_state)

    @property
    def privileged(self) -> bool:
        """True when it may carry what only a simulator knows."""
        return "simulator" in self.sources

    def dim(self, topic_dim: int) -> int:
        """The observation's size when each message of `topic` has `topic_dim` values."""
        return (topic_dim if self.fields is None else len(self.fields)) + self.robot_state_dim

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
        robot = np.asarray(robot_state, dtype=np.float32).reshape(-1)
        if robot.size != self.robot_state_dim:
            raise ValueError(f"{self.robot_state} has {robot.size} values, expected {self.robot_state_dim}")
        return np.concatenate([x, robot])
