"""Recorded messages -> SAC transitions, as pure code (no I/O): `Record`, `Transitions`, `TransitionStream`,
`align_transitions`.

A recording is read in log-time order and cut into control steps at each observation message (the policy input's
topic, `/encoder/latent` by default, with the newest robot state appended when the input takes one): step k is (latent k, the first valid action after it, the events until latent k+1). Its reward is
kept in parts (`v2p.economics.reward.reward_parts`: the step's value, its time, its errors' time, each over the
shift's hours), never combined with the λ of the run that recorded it; `TransitionStream.weights()` gives the
weights that price them now: the going rate ρ, λ and e* after replaying the recording's events through
`EconomicsMonitor`, the very code econ_monitor_node runs on them. The step that an `episode_end` event closes is
terminal.

Alignment needs log times that follow publication order across topics (latent k is published before the action
answering it, the events of a cycle before the next state): the recorder must stamp each message with its
publication (DDS source) time, not with the moment its callback happened to run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.reward import REWARD_PARTS, going_rate, reward_parts, reward_weights
from v2p.economics.sla import ShiftTally
from v2p.task import topics
from v2p.task.dishwashing import ACTION, EVENTS, POLICY_INPUTS
from v2p.task.errors import MessageError
from v2p.task.events import SimEvent
from v2p.task.observation import PolicyInput

LATENT_INPUT = POLICY_INPUTS["latent"]


class Record(NamedTuple):
    """One recorded message reduced to what the learner reads: its topic and its numbers."""

    timestamp_ns: int
    topic: str
    values: tuple[float, ...]


@dataclass
class Transitions:
    """Columns of SAC transitions; actions in env units (speed, care in [0, 1])."""

    obs: np.ndarray  # (N, obs_dim) float32
    action: np.ndarray  # (N, 2)
    parts: np.ndarray  # (N, len(REWARD_PARTS)) the reward in parts, priced by weights at sampling time
    next_obs: np.ndarray  # (N, obs_dim)
    done: np.ndarray  # (N,) 1.0 where an episode_end closed the step
    episodes: int = 0  # episodes that ended inside the bag
    last_episode: int | None = None  # number of the last episode that ended inside it (None: none ended)
    skipped: dict[str, int] = field(default_factory=dict)  # messages ignored, by reason

    def __len__(self) -> int:
        return len(self.parts)

    def reward(self, weights: tuple[float, ...]) -> np.ndarray:
        """The rewards these parts make under `weights` (see `v2p.economics.reward.reward_weights`)."""
        return (self.parts @ np.asarray(weights, dtype=np.float32)).astype(np.float32)

    @classmethod
    def empty(cls, obs_dim: int) -> Transitions:
        z = np.zeros((0, obs_dim), dtype=np.float32)
        return cls(z, np.zeros((0, ACTION.dim), np.float32), np.zeros((0, len(REWARD_PARTS)), np.float32), z.copy(),
                   np.zeros(0, np.float32))


@dataclass
class _Step:
    obs: np.ndarray
    tally: ShiftTally  # the shift's counts when the observation was logged
    action: tuple[float, ...] | None = None


@dataclass
class _Episode:
    number: int
    start_s: float
    shift_hours: float
    tally: ShiftTally = ShiftTally()
    steps: list[_Step] = field(default_factory=list)


def _hours(episode: _Episode, now_s: float) -> float:
    return max(0.0, now_s - episode.start_s) / 3600.0


class TransitionStream:
    """Folds time-ordered records into transitions (see the module docstring), across the splits of a recording.

    `feed` the records of each bag in order; `take` returns the transitions of the episodes closed so far. An
    episode still open at the end of a split waits for the next split's records; `finish` gives up on it and
    keeps its inner steps (those followed by a next observation).
    """

    def __init__(self, cfg: EconomicsConfig, policy_input: PolicyInput = LATENT_INPUT) -> None:
        self.cfg, self.policy_input = cfg, policy_input
        self.robot_state: np.ndarray | None = None  # the newest robot state (when the policy input appends it)
        # the recording's events through the monitor's own code: its dual ascent gives each shift's λ and e*
        self.replay = EconomicsMonitor(cfg)
        self.episode: _Episode | None = None
        self.now_s = 0.0
        self.obs_dim: int | None = None
        self.rows: list[tuple[np.ndarray, tuple[float, ...], float, np.ndarray, float]] = []
        self.episodes = 0
        self.last_episode: int | None = None  # the number of the episode that ended last (sync mode waits on it)
        self.skipped: dict[str, int] = {}

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def feed(self, rec: Record) -> None:
        if rec.topic == topics.CLOCK:
            if rec.values and math.isfinite(rec.values[0]):
                self.now_s = max(self.now_s, rec.values[0])
        elif rec.topic == topics.SIM_EVENTS:
            try:
                event = SimEvent.from_array(rec.values, EVENTS)
            except MessageError:
                self.skip("bad event")
                return
            self.on_event(event)
        elif rec.topic == topics.ACTION:
            try:
                action = ACTION.parse(rec.values)
            except MessageError:
                self.skip("bad action")
                return
            if self.episode is not None and self.episode.steps and self.episode.steps[-1].action is None:
                self.episode.steps[-1].action = action
        elif rec.topic == self.policy_input.robot_state:
            self.robot_state = np.asarray(rec.values, dtype=np.float32)
        elif rec.topic == self.policy_input.topic:
            try:
                obs = self.policy_input.compose(np.asarray(rec.values, dtype=np.float32), self.robot_state)
            except ValueError:
                self.skip("observation without its fields or robot state")
                return
            self.on_observation(obs)

    def on_observation(self, obs: np.ndarray) -> None:
        if obs.ndim != 1 or obs.size == 0 or not np.isfinite(obs).all():
            self.skip("bad observation")
            return
        if self.obs_dim is None:
            self.obs_dim = obs.size
        if obs.size != self.obs_dim:
            self.skip("observation size changed")
            return
        if self.episode is None:
            self.skip("observation outside an episode")
            return
        tally = replace(self.episode.tally, hours=_hours(self.episode, self.now_s))
        steps = self.episode.steps
        if steps and steps[-1].action is None:
            steps[-1] = _Step(obs, tally)  # an unanswered (or re-sent) observation is superseded by this one
        else:
            steps.append(_Step(obs, tally))

    def on_event(self, event: SimEvent) -> None:
        self.now_s = max(self.now_s, event.sim_time_s)
        self.replay.on_event(event)  # an episode_end updates its λ after this shift's λ was taken at the start
        if event.kind == "episode_start":
            self.close(final=None)  # an episode without its end: keep its inner steps only
            self.episode = _Episode(event.episode, event.sim_time_s, event.episode_hours)
            return
        ep = self.episode
        if ep is None or event.episode != ep.number:
            self.skip("event outside an episode")
            return
        if event.kind == "episode_end":
            final = replace(ep.tally, hours=event.episode_hours or _hours(ep, event.sim_time_s))
            self.close(final)
            self.episodes += 1
            self.last_episode = event.episode
            return
        units = ep.tally.units + (event.kind == "unit")
        errors = ep.tally.errors + event.is_error
        ep.tally = ShiftTally(units, units + errors, errors, ep.tally.hours)

    def close(self, final: ShiftTally | None) -> None:
        """Turn the current episode's steps into transitions; `final` is the tally at its episode_end."""
        ep, self.episode = self.episode, None
        if ep is None or not ep.steps:
            return
        shift_hours = ep.shift_hours if ep.shift_hours > 0 else (final.hours if final else 0.0)
        if shift_hours <= 0:
            self.skip("episode without shift hours")
            return
        steps = ep.steps
        for k, step in enumerate(steps):
            last = k == len(steps) - 1
            if last and final is None:
                break  # no next observation and no terminal event: not a transition
            if step.action is None:
                self.skip("step without action")
                continue
            after = final if last else steps[k + 1].tally
            parts = reward_parts(after.units - step.tally.units, after.errors - step.tally.errors,
                                 max(0.0, after.hours - step.tally.hours), shift_hours, self.cfg)
            next_obs = step.obs if last else steps[k + 1].obs  # unused when done (no bootstrap)
            self.rows.append((step.obs, step.action, parts, next_obs, 1.0 if last else 0.0))

    def feed_all(self, records: Iterable[Record]) -> None:
        for rec in records:
            self.feed(rec)

    def take(self) -> Transitions:
        """The transitions produced since the last take (with the episodes closed and messages skipped)."""
        dim = self.obs_dim or 0
        if not self.rows:
            out = Transitions.empty(dim)
        else:
            obs, action, parts, next_obs, done = zip(*self.rows)
            out = Transitions(np.stack(obs), np.asarray(action, np.float32), np.asarray(parts, np.float32),
                              np.stack(next_obs), np.asarray(done, np.float32))
        out.episodes, out.last_episode, out.skipped = self.episodes, self.last_episode, dict(self.skipped)
        self.rows, self.episodes, self.last_episode, self.skipped = [], 0, None, {}
        return out

    def weights(self) -> tuple[float, float, float]:
        """The weights that price the parts now: ρ from the recording's recent wage, λ and e* from its SLA."""
        rolling = self.replay.rolling()
        rate = going_rate(None if rolling is None else rolling["implied_wage"], self.cfg)
        return reward_weights(rate, self.replay.dual.lam, self.replay.dual.target)

    def finish(self) -> Transitions:
        """Close the open episode (no more records will come) and take."""
        self.close(final=None)
        return self.take()


def align_transitions(records: Iterable[Record], cfg: EconomicsConfig,
                      policy_input: PolicyInput = LATENT_INPUT) -> Transitions:
    """Transitions from records in log-time order (ties keep their recorded order)."""
    stream = TransitionStream(cfg, policy_input)
    stream.feed_all(records)
    return stream.finish()
