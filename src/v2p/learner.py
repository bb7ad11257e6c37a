"""The learner without ROS: recorded bags -> SAC transitions -> gradient steps -> an atomic checkpoint.

`learner_node` (watching a recording folder) and `v2p learn` (offline, over bag folders) are both thin over
`BagLearner`. A bag is read in log-time order and cut into control steps at each observation message
(`/encoder/latent` by default): step k is (latent k, the first valid action after it, the events until latent
k+1). Its reward is the increment of the shift's Lagrangian dollars over the step (`shift_reward_increment`, with
the λ and e* in force during that episode), so the rewards of a whole shift sum to (hours/shift_hours)·r, the figure
the economics monitor reports for the episode. λ and e* come from replaying the recording's events through
`EconomicsMonitor`, the very code econ_monitor_node runs on them during the recording. The step that an
`episode_end` event closes is terminal.

Alignment needs log times that follow publication order across topics (latent k is published before the action
answering it, the events of a cycle before the next state): the recorder must stamp each message with its
publication (DDS source) time, not with the moment its callback happened to run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.sla import ShiftTally, shift_reward_increment
from v2p.errors import V2PError
from v2p.task import topics
from v2p.task.dishwashing import ACTION, DISHWASHING, EVENTS
from v2p.task.errors import MessageError
from v2p.task.events import SimEvent

if TYPE_CHECKING:
    from v2p.rl import SACConfig



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
    reward: np.ndarray  # (N,)
    next_obs: np.ndarray  # (N, obs_dim)
    done: np.ndarray  # (N,) 1.0 where an episode_end closed the step
    episodes: int = 0  # episodes that ended inside the bag
    skipped: dict[str, int] = field(default_factory=dict)  # messages ignored, by reason

    def __len__(self) -> int:
        return len(self.reward)

    @classmethod
    def empty(cls, obs_dim: int) -> Transitions:
        z = np.zeros((0, obs_dim), dtype=np.float32)
        return cls(z, np.zeros((0, ACTION.dim), np.float32), np.zeros(0, np.float32), z.copy(),
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
    lam: float  # λ and e* the economics monitor holds this shift to
    target: float
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

    def __init__(self, cfg: EconomicsConfig, obs_topic: str = topics.LATENT) -> None:
        self.cfg, self.obs_topic = cfg, obs_topic
        # the recording's events through the monitor's own code: its dual ascent gives each shift's λ and e*
        self.replay = EconomicsMonitor(cfg)
        self.episode: _Episode | None = None
        self.now_s = 0.0
        self.obs_dim: int | None = None
        self.rows: list[tuple[np.ndarray, tuple[float, ...], float, np.ndarray, float]] = []
        self.episodes = 0
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
        elif rec.topic == self.obs_topic:
            self.on_observation(np.asarray(rec.values, dtype=np.float32))

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
            dual = self.replay.dual
            self.episode = _Episode(event.episode, event.sim_time_s, event.episode_hours, dual.lam, dual.target)
            return
        ep = self.episode
        if ep is None or event.episode != ep.number:
            self.skip("event outside an episode")
            return
        if event.kind == "episode_end":
            final = replace(ep.tally, hours=event.episode_hours or _hours(ep, event.sim_time_s))
            self.close(final)
            self.episodes += 1
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
            reward = shift_reward_increment(step.tally, after, self.cfg, ep.target, ep.lam, shift_hours)
            next_obs = step.obs if last else steps[k + 1].obs  # unused when done (no bootstrap)
            self.rows.append((step.obs, step.action, reward, next_obs, 1.0 if last else 0.0))

    def feed_all(self, records: Iterable[Record]) -> None:
        for rec in records:
            self.feed(rec)

    def take(self) -> Transitions:
        """The transitions produced since the last take (with the episodes closed and messages skipped)."""
        dim = self.obs_dim or 0
        if not self.rows:
            out = Transitions.empty(dim)
        else:
            obs, action, reward, next_obs, done = zip(*self.rows)
            out = Transitions(np.stack(obs), np.asarray(action, np.float32), np.asarray(reward, np.float32),
                              np.stack(next_obs), np.asarray(done, np.float32))
        out.episodes, out.skipped = self.episodes, dict(self.skipped)
        self.rows, self.episodes, self.skipped = [], 0, {}
        return out

    def finish(self) -> Transitions:
        """Close the open episode (no more records will come) and take."""
        self.close(final=None)
        return self.take()


def align_transitions(records: Iterable[Record], cfg: EconomicsConfig, obs_topic: str = topics.LATENT) -> Transitions:
    """Transitions from records in log-time order (ties keep their recorded order)."""
    stream = TransitionStream(cfg, obs_topic)
    stream.feed_all(records)
    return stream.finish()


def _values(topic: str, msg: object) -> tuple[float, ...]:
    if topic == topics.CLOCK:
        clock = msg.clock  # type: ignore[attr-defined]
        return (clock.sec + clock.nanosec * 1e-9,)
    data = msg.data  # type: ignore[attr-defined]
    if isinstance(data, (int, float)):
        return (float(data),)
    return tuple(float(v) for v in np.asarray(data, dtype=np.float64).reshape(-1))


def bag_records(bag: Path | str, obs_topic: str = topics.LATENT) -> list[Record]:
    """The messages of one bag that the learner reads, in log-time order. BagError names a bad bag."""
    from v2p.bags import read_bag

    wanted = (obs_topic, topics.ACTION, topics.SIM_EVENTS, topics.CLOCK)
    return [Record(m.timestamp_ns, m.topic, _values(m.topic, m.data)) for m in read_bag(bag, topics=wanted)]


def transitions_from_bag(bag: Path | str, cfg: EconomicsConfig, obs_topic: str = topics.LATENT) -> Transitions:
    return align_transitions(bag_records(bag, obs_topic), cfg, obs_topic)


@dataclass
class LearnReport:
    """What one pass over bags did; `v2p learn --json` prints it."""

    checkpoint: str | None
    bags_used: list[str]
    bags_failed: dict[str, str]  # bag -> why it was skipped
    transitions: int  # in the replay buffer (all bags trained on so far)
    new_transitions: int
    episodes: int
    updates: int  # total gradient steps of the checkpoint
    metrics: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


VERSION_PREFIX = "update_"
LATEST = "latest"


def checkpoint_versions(root: Path | str) -> list[Path]:
    """The checkpoint versions under `root`, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted((d for d in root.iterdir() if d.is_dir() and d.name.startswith(VERSION_PREFIX)
                   and not d.is_symlink()), reverse=True)


class BagLearner:
    """SAC over the transitions of recorded bags, checkpointed into versions under one folder.

    Each save writes a new, never rewritten version `root/update_<N>/` (a SAC checkpoint directory that
    `v2p.rl.load_actor` reads) and then repoints the symlink `root/latest` at it, so a reader never sees a
    version being written and a crash mid-save leaves the previous versions intact. Resuming takes the newest
    version that loads. Its metadata lists the bags already trained on (`extra.bags`): a restarted learner
    reloads their transitions into its replay buffer without training on them again.
    """

    def __init__(self, checkpoint: Path | str, econ: EconomicsConfig, *, sac_config: SACConfig | None = None,
                 obs_topic: str = topics.LATENT, resume: bool = True, keep: int = 3,
                 log: Callable[[str], None] = print) -> None:
        self.checkpoint = Path(checkpoint)
        if self.checkpoint.exists() and not self.checkpoint.is_dir():
            raise V2PError(f"{self.checkpoint}: exists and is not a folder of checkpoints")
        if (self.checkpoint / "metadata.json").exists():
            raise V2PError(f"{self.checkpoint}: is a single checkpoint; the learner writes versions into a "
                           "folder of its own")
        self.keep = max(1, keep)
        self.econ = econ
        self.obs_topic = obs_topic
        self.log = log
        self.sac_config = sac_config if sac_config is not None else replace(DISHWASHING.sac, threads=1)
        self.model = None  # built at the first bag (the observation size comes from the data) or on resume
        self.trained: list[str] = []  # bags whose transitions are in the buffer, in order
        self.failed: dict[str, str] = {}
        self.episodes = 0
        self._streams: dict[str, TransitionStream] = {}  # per recording folder: its splits form one stream
        self.saved: Path | None = None
        if resume:
            self._resume()

    def _resume(self) -> None:
        from v2p.rl.sac import SAC

        for version in checkpoint_versions(self.checkpoint):
            try:
                model = SAC.load(version, device=self.sac_config.device, threads=self.sac_config.threads)
                break
            except V2PError as exc:  # e.g. the version a crash interrupted: fall back to the one before
                self.log(f"error: cannot resume from {version}: {exc}")
        else:
            return
        extra = model.metadata.get("extra") or {}
        bags = [str(b) for b in extra.get("bags", [])]
        self.model, self.saved = model, version
        self.episodes = int(model.metadata.get("episodes", 0))
        self.log(f"resumed from {version}: {model.agent.updates} updates over {len(bags)} bag(s)")
        for bag in bags:  # refill the replay buffer; these bags add no new updates
            try:
                tr = self._read(bag)
                if len(tr):
                    self._store(tr, bag)
            except V2PError as exc:
                self.log(f"error: {bag}: trained on before, now unreadable, left out of the replay buffer: {exc}")
                continue
            self.trained.append(bag)

    def _build(self, obs_dim: int) -> None:
        import gymnasium as gym

        from v2p.rl.sac import SAC

        obs_space = gym.spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)
        act_space = gym.spaces.Box(ACTION.low_array, ACTION.high_array, dtype=np.float32)
        self.model = SAC(None, config=self.sac_config, observation_space=obs_space, action_space=act_space)

    def _store(self, tr: Transitions, bag: str) -> None:
        if self.model is None:
            self._build(tr.obs.shape[1])
        if tr.obs.shape[1] != self.model.obs_dim:
            raise V2PError(f"{bag}: observations on {self.obs_topic} have {tr.obs.shape[1]} values, the policy "
                           f"takes {self.model.obs_dim}")
        self.model.replay_buffer.add_batch(tr.obs, ACTION.to_unit(tr.action), tr.reward, tr.next_obs, tr.done)

    def _read(self, bag: Path | str) -> Transitions:
        """The transitions a bag completes, continuing the stream of its recording (the bags of one folder)."""
        path = Path(bag).resolve()
        try:
            records = bag_records(path, self.obs_topic)
        except V2PError:
            raise
        except Exception as exc:  # noqa: BLE001 - a corrupt file fails deep inside the MCAP/CDR readers
            raise V2PError(f"{path}: corrupt bag ({type(exc).__name__}: {exc})") from None
        stream = self._streams.setdefault(str(path.parent), TransitionStream(self.econ, self.obs_topic))
        stream.feed_all(records)
        return stream.take()

    def add_bag(self, bag: Path | str) -> int:
        """Read one closed bag into the replay buffer; returns its transition count. V2PError names a bad bag."""
        name = str(Path(bag).resolve())
        tr = self._read(name)
        self._add(tr, name)
        self.trained.append(name)
        return len(tr)

    def finish(self) -> int:
        """No more bags will come: keep the inner steps of episodes the recordings left open."""
        count = 0
        for folder, stream in self._streams.items():
            tr = stream.finish()
            self._add(tr, folder)
            count += len(tr)
        return count

    def _add(self, tr: Transitions, name: str) -> None:
        if len(tr):
            self._store(tr, name)
        self.episodes += tr.episodes
        if tr.skipped:
            self.log(f"{name}: ignored {', '.join(f'{n} {why}' for why, n in sorted(tr.skipped.items()))}")

    def add_bags(self, bags: Sequence[Path | str]) -> tuple[list[str], int]:
        """Add every bag not trained on yet; bad ones are logged, remembered in `failed` and skipped."""
        used, count = [], 0
        for bag in bags:
            name = str(Path(bag).resolve())
            if name in self.trained or name in self.failed:
                continue
            try:
                count += self.add_bag(name)
            except V2PError as exc:
                self.failed[name] = str(exc)
                self.log(f"error: skipping bag {name}: {exc}")
                continue
            used.append(name)
        return used, count

    @property
    def transitions(self) -> int:
        return 0 if self.model is None or self.model._buffer is None else len(self.model.replay_buffer)

    def updates_due(self, updates_per_transition: float) -> int:
        """Updates still owed so that the checkpoint's updates reach `updates_per_transition` × the transitions in
        the buffer: the replay ratio, which (unlike updates per bag) does not depend on how a recording was split."""
        if self.model is None or updates_per_transition <= 0:
            return 0
        return max(0, round(updates_per_transition * self.transitions) - self.model.agent.updates)

    def train(self, steps: int) -> dict[str, float]:
        """`steps` SAC updates on the replay buffer (none while it is empty)."""
        if self.model is None or self.transitions == 0 or steps <= 0:
            return {}
        return self.model.agent.update_from(self.model.replay_buffer, steps)

    def save(self) -> Path:
        """Write a new checkpoint version, point `latest` at it, prune old versions; returns the version."""
        import os
        import shutil

        if self.model is None:
            raise V2PError("nothing to checkpoint: no bag held a transition")
        self.model.episodes = self.episodes
        self.model.num_timesteps = self.transitions
        version = self.checkpoint / f"{VERSION_PREFIX}{self.model.agent.updates:09d}"
        if version.exists():  # left by a save that crashed, or saved again without new updates
            shutil.rmtree(version)
        self.model.save(version, extra={"bags": self.trained, "obs_topic": self.obs_topic})
        link = self.checkpoint / LATEST
        tmp = self.checkpoint / f".{LATEST}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(version.name)
        os.replace(tmp, link)  # atomic: readers of `latest` see the old or the new version
        for old in checkpoint_versions(self.checkpoint)[self.keep:]:
            if old != version:
                shutil.rmtree(old, ignore_errors=True)
        self.saved = version
        return version

    def report(self, used: list[str], new: int, metrics: dict[str, float], saved: Path | None) -> LearnReport:
        return LearnReport(str(saved) if saved else None, used, dict(self.failed), self.transitions, new,
                           self.episodes, 0 if self.model is None else self.model.agent.updates, metrics)


def learn(bag_dirs: Sequence[Path | str], out: Path | str, steps: int, econ: EconomicsConfig, *,
          sac_config: SACConfig | None = None, obs_topic: str = topics.LATENT, resume: bool = True,
          log: Callable[[str], None] = print) -> LearnReport:
    """The offline learner: every closed bag under `bag_dirs`, `steps` updates, a new checkpoint version under
    `out` (resumed from the newest version there)."""
    from v2p.bags import find_bags

    learner = BagLearner(out, econ, sac_config=sac_config, obs_topic=obs_topic, resume=resume, log=log)
    bags: list[Path] = []
    for folder in bag_dirs:
        found = find_bags(folder)
        for bag in found:
            if not (bag / "metadata.yaml").is_file():
                learner.failed[str(bag.resolve())] = "incomplete bag (no metadata.yaml): run `v2p bag repair` on it"
                log(f"error: skipping bag {bag}: incomplete (no metadata.yaml); run `v2p bag repair {bag}`")
        bags += [bag for bag in found if (bag / "metadata.yaml").is_file()]
    used, new = learner.add_bags(bags)
    new += learner.finish()
    if learner.transitions == 0:
        raise V2PError(f"no transitions in the bags under {', '.join(map(str, bag_dirs))} "
                       f"({len(used)} read, {len(learner.failed)} skipped)")
    metrics = learner.train(steps)
    saved = learner.save()
    return learner.report(used, new, metrics, saved)
