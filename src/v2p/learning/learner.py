"""The bag learner: closed bags -> replay buffer -> SAC updates -> checkpoint versions (`BagLearner`), the offline
pass `learn` with its `LearnReport`, and the learning logger they report on.

`learner_node` (watching a recording folder) and `v2p learn` (offline, over bag folders) are both thin over
`BagLearner`. It reports through the standard `logging` logger "v2p.learning" (errors for bags and versions it
skips, info for the rest); the node routes that logger to its rclpy logger, `v2p learn` prints it (`print_log`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.reward import REWARD_PARTS
from v2p.errors import V2PError
from v2p.learning.bag_records import bag_records
from v2p.learning.transitions import LATENT_INPUT, Transitions, TransitionStream
from v2p.task.observation import PolicyInput
from v2p.learning.versions import CheckpointVersions
from v2p.task import topics
from v2p.task.dishwashing import ACTION, DISHWASHING

if TYPE_CHECKING:
    from v2p.rl import SACConfig

LOG = logging.getLogger("v2p.learning")


class _Lines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        return f"{record.levelname.lower()}: {text}" if record.levelno >= logging.WARNING else text


@contextmanager
def print_log(stream: TextIO) -> Iterator[None]:
    """While inside, print the learning logger's records (info and up) on `stream`, one line each: the message, with
    `error: ` (or `warning: `) before it at those levels."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_Lines())
    level = LOG.level
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    try:
        yield
    finally:
        LOG.removeHandler(handler)
        LOG.setLevel(level)


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


@dataclass(frozen=True)
class SyncRound:
    """What `BagLearner.learn_bag` did with one closed bag."""

    read: bool  # the bag was read (False: already trained on, or skipped as bad)
    transitions: int  # transitions it completed
    updates: int  # SAC updates paid for it
    saved: Path | None  # the version written (None when no update was paid)
    metrics: dict[str, float]


class BagLearner:
    """SAC over the transitions of recorded bags, checkpointed into versions under one folder.

    Each save writes a new version `checkpoint/update_<N>/` (a SAC checkpoint directory that `v2p.rl.load_actor`
    reads) and repoints `checkpoint/latest` at it (`v2p.learning.versions`). Resuming takes the newest version that
    loads. Its metadata lists the bags already trained on (`extra.bags`): a restarted learner reloads their
    transitions into its replay buffer without training on them again.

    Rewards are stored in parts and priced at every round with the weights of the recording read last (its going
    rate, λ and e*, see `v2p.economics.reward`), or with `reward_weights` when given (the attribution pair prices
    both arms alike).
    """

    def __init__(self, checkpoint: Path | str, econ: EconomicsConfig, *, sac_config: SACConfig | None = None,
                 policy_input: PolicyInput = LATENT_INPUT, resume: bool = True, keep: int = 3,
                 reward_weights: tuple[float, ...] | None = None) -> None:
        self.checkpoint = Path(checkpoint)
        self.versions = CheckpointVersions(self.checkpoint)
        self.versions.check_writable()
        self.keep = max(1, keep)
        self.econ = econ
        self.policy_input = policy_input
        self.sac_config = sac_config if sac_config is not None else replace(DISHWASHING.sac, threads=1)
        if self.sac_config.reward_parts != len(REWARD_PARTS):
            raise V2PError(f"the bag learner stores rewards in {len(REWARD_PARTS)} parts {REWARD_PARTS}; its SAC "
                           f"config has reward_parts={self.sac_config.reward_parts}")
        self.fixed_weights = reward_weights
        self._last_stream: TransitionStream | None = None  # the recording read last: its weights price the rounds
        self.model = None  # built at the first bag (the observation size comes from the data) or on resume
        self.trained: list[str] = []  # bags whose transitions are in the buffer, in order
        self.failed: dict[str, str] = {}
        self.episodes = 0
        self.last_episode: int | None = None  # the episode whose end was read last (announced; sync mode waits on it)
        self._streams: dict[str, TransitionStream] = {}  # per recording folder: its splits form one stream
        self.saved: Path | None = None
        if resume:
            self._resume()

    def _resume(self) -> None:
        from v2p.rl.sac import SAC

        for version in self.versions.versions():
            try:
                model = SAC.load(version, device=self.sac_config.device, threads=self.sac_config.threads)
                break
            except V2PError as exc:  # e.g. the version a crash interrupted: fall back to the one before
                LOG.error("cannot resume from %s: %s", version, exc)
        else:
            return
        extra = model.metadata.get("extra") or {}
        bags = [str(b) for b in extra.get("bags", [])]
        self.model, self.saved = model, version
        self.episodes = int(model.metadata.get("episodes", 0))
        last = extra.get("last_episode")
        self.last_episode = last if isinstance(last, int) and not isinstance(last, bool) else None
        LOG.info("resumed from %s: %d updates over %d bag(s)", version, model.agent.updates, len(bags))
        for bag in bags:  # refill the replay buffer; these bags add no new updates
            try:
                tr = self._read(bag)
                if len(tr):
                    self._store(tr, bag)
            except V2PError as exc:
                LOG.error("%s: trained on before, now unreadable, left out of the replay buffer: %s", bag, exc)
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
            raise V2PError(f"{bag}: observations on {self.policy_input.topics} have {tr.obs.shape[1]} values, the policy "
                           f"takes {self.model.obs_dim}")
        self.model.replay_buffer.add_batch(tr.obs, ACTION.to_unit(tr.action), None, tr.next_obs, tr.done, tr.parts)

    def _read(self, bag: Path | str) -> Transitions:
        """The transitions a bag completes, continuing the stream of its recording (the bags of one folder)."""
        path = Path(bag).resolve()
        try:
            records = bag_records(path, self.policy_input)
        except V2PError:
            raise
        except Exception as exc:  # noqa: BLE001 - a corrupt file fails deep inside the MCAP/CDR readers
            raise V2PError(f"{path}: corrupt bag ({type(exc).__name__}: {exc})") from None
        stream = self._streams.setdefault(str(path.parent), TransitionStream(self.econ, self.policy_input))
        stream.feed_all(records)
        self._last_stream = stream
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
        if tr.last_episode is not None:
            self.last_episode = tr.last_episode
        if tr.skipped:
            LOG.info("%s: ignored %s", name, ", ".join(f"{n} {why}" for why, n in sorted(tr.skipped.items())))

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
                LOG.error("skipping bag %s: %s", name, exc)
                continue
            used.append(name)
        return used, count

    @property
    def transitions(self) -> int:
        """Transitions in the replay buffer."""
        return 0 if self.model is None else self.model.stored_transitions

    def updates_due(self, updates_per_transition: float) -> int:
        """Updates still owed so that the checkpoint's updates reach `updates_per_transition` × the transitions in
        the buffer: the replay ratio, which (unlike updates per bag) does not depend on how a recording was split."""
        if self.model is None or updates_per_transition <= 0:
            return 0
        return max(0, round(updates_per_transition * self.transitions) - self.model.agent.updates)

    @property
    def reward_weights(self) -> tuple[float, ...] | None:
        """The weights the next round prices rewards with (None before any bag was read)."""
        if self.fixed_weights is not None:
            return tuple(self.fixed_weights)
        return None if self._last_stream is None else self._last_stream.weights()

    def train(self, steps: int) -> dict[str, float]:
        """`steps` SAC updates on the replay buffer (none while it is empty), rewards priced with the current
        weights."""
        if self.model is None or self.transitions == 0 or steps <= 0:
            return {}
        self.model.replay_buffer.set_reward_weights(self.reward_weights)
        return self.model.agent.update_from(self.model.replay_buffer, steps)

    def save(self) -> Path:
        """Write a new checkpoint version, point `latest` at it, prune old versions; returns the version."""
        if self.model is None:
            raise V2PError("nothing to checkpoint: no bag held a transition")
        model = self.model
        model.episodes = self.episodes
        model.num_timesteps = self.transitions
        extra = {"bags": self.trained, "policy_input": list(self.policy_input.topics),
                 "reward_weights": self.reward_weights, "last_episode": self.last_episode}
        self.saved = self.versions.save(model.agent.updates, lambda version: model.save(version, extra=extra),
                                        self.keep)
        return self.saved

    def learn_bag(self, bag: Path | str, updates_per_transition: float) -> SyncRound:
        """Sync mode's step, deterministic given the seed and the bag order: read one closed bag, pay every update
        the replay ratio then owes (`updates_due`, in one call, never split by wall time) and, when it did, save a
        version. A bad bag is logged and skipped (`failed`), like in `add_bags`."""
        used, new = self.add_bags([bag])
        updates = self.updates_due(updates_per_transition) if used else 0
        metrics = self.train(updates)
        trained = bool(metrics)  # train() does nothing on an empty buffer
        return SyncRound(bool(used), new, updates if trained else 0, self.save() if trained else None, metrics)

    def report(self, used: list[str], new: int, metrics: dict[str, float], saved: Path | None) -> LearnReport:
        return LearnReport(str(saved) if saved else None, used, dict(self.failed), self.transitions, new,
                           self.episodes, 0 if self.model is None else self.model.agent.updates, metrics)


def learn(bag_dirs: Sequence[Path | str], out: Path | str, steps: int, econ: EconomicsConfig, *,
          sac_config: SACConfig | None = None, policy_input: PolicyInput = LATENT_INPUT, resume: bool = True,
          reward_weights: tuple[float, ...] | None = None) -> LearnReport:
    """The offline learner: every closed bag under `bag_dirs`, `steps` updates, a new checkpoint version under
    `out` (resumed from the newest version there)."""
    from v2p.bags import find_bags

    learner = BagLearner(out, econ, sac_config=sac_config, policy_input=policy_input, resume=resume,
                         reward_weights=reward_weights)
    bags: list[Path] = []
    for folder in bag_dirs:
        found = find_bags(folder)
        for bag in found:
            if not (bag / "metadata.yaml").is_file():
                learner.failed[str(bag.resolve())] = "incomplete bag (no metadata.yaml): run `v2p bag repair` on it"
                LOG.error("skipping bag %s: incomplete (no metadata.yaml); run `v2p bag repair %s`", bag, bag)
        bags += [bag for bag in found if (bag / "metadata.yaml").is_file()]
    used, new = learner.add_bags(bags)
    new += learner.finish()
    if learner.transitions == 0:
        raise V2PError(f"no transitions in the bags under {', '.join(map(str, bag_dirs))} "
                       f"({len(used)} read, {len(learner.failed)} skipped)")
    metrics = learner.train(steps)
    saved = learner.save()
    return learner.report(used, new, metrics, saved)
