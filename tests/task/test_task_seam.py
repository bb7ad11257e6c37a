"""The seam for a second task is real: the gym environment, the SAC learner and the economics monitor are built from
a minimal task defined here (not dishwashing) and run a few steps."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.monitor import EconomicsMonitor
from v2p.rl.config import SACConfig
from v2p.task import ActionSpec, Cell, CycleResult, EventVocabulary, SimEvent, Task, WorkEvent
from v2p.task.env import TaskEnv
from v2p.task.observation import ObservationField, ObservationLayout

BRICKS = EventVocabulary(error_kinds=("misaligned", "cracked"), item_types=("brick", "block"))
LAYOUT = ObservationLayout((
    ObservationField("item_is_block", 0.0, 1.0, "camera", "next item is a block (0/1)"),
    ObservationField("shift_progress", 0.0, 2.0, "bookkeeping", "sim time / shift length"),
))


@dataclass
class Wall:
    """A toy bricklaying cell: laying takes 60 s / (0.5 + pace) and misaligns a block above pace 0.8."""

    site: str
    seed: int
    shift_hours: float = 0.05
    units: int = 0
    attempts: int = 0
    errors_by_type: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BRICKS.error_kinds, 0))
    sim_time_s: float = 0.0

    def reset(self, seed: int | None = None) -> None:
        self.seed = self.seed if seed is None else seed
        self.units = self.attempts = 0
        self.errors_by_type = dict.fromkeys(BRICKS.error_kinds, 0)
        self.sim_time_s = 0.0

    @property
    def shift_done(self) -> bool:
        return self.sim_time_s >= self.shift_hours * 3600

    @property
    def errors(self) -> int:
        return sum(self.errors_by_type.values())

    def _item(self) -> str:
        return BRICKS.item_types[(self.seed + self.attempts) % 2]

    def run_cycle(self, pace: float, tick=None, tick_period_s: float = 0.1) -> CycleResult:
        item = self._item()
        duration = 60.0 / (0.5 + pace)
        self.sim_time_s += duration
        self.attempts += 1
        kind = "misaligned" if item == "block" and pace > 0.8 else "unit"
        if kind == "unit":
            self.units += 1
        else:
            self.errors_by_type[kind] += 1
        return CycleResult([WorkEvent(kind, self.sim_time_s, self.attempts - 1, item)], duration)

    def state_vector(self) -> np.ndarray:
        return LAYOUT.vector({"item_is_block": self._item() == "block",
                              "shift_progress": self.sim_time_s / (self.shift_hours * 3600)})

    def render_rgb(self, size: int | None = None) -> np.ndarray:
        return np.zeros((size or 8, size or 8, 3), np.uint8)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Bricklaying:
    name: str = "bricklaying"
    action: ActionSpec = ActionSpec(fields=("pace",), low=(0.0,), high=(1.0,), safe=(0.3,))
    events: EventVocabulary = BRICKS
    observation: ObservationLayout = LAYOUT
    sac: SACConfig = SACConfig(net_arch=(16,), learning_starts=4, batch_size=8, buffer_size=100, gamma=0.0,
                               critics=3, critic_aggregate="mean", reward_parts=3, seed=0, device="cpu", threads=1)

    def make_cell(self, site="yard", seed: int = 0, render_size: int = 64) -> Cell:
        return Wall(site, seed)


def test_a_second_task_runs_through_the_env_the_learner_and_the_monitor():
    from v2p.rl import SAC

    task = Bricklaying()
    assert isinstance(task, Task) and isinstance(task.make_cell(), Cell)
    cfg = EconomicsConfig()
    env = TaskEnv(task, site="yard", econ_config=cfg)
    assert env.action_space.shape == (1,) and env.observation_space.shape == (LAYOUT.dim,)
    model = SAC(env, config=task.sac)
    model.learn(20, progress_bar=False)
    assert model.stored_transitions == 20 and model.agent.updates > 0
    action, _ = model.predict(env.reset(seed=1)[0])
    assert action.shape == (1,) and 0.0 <= float(action[0]) <= 1.0

    monitor = EconomicsMonitor(cfg, vocabulary=task.events)
    cell = task.make_cell(seed=3)
    events = [SimEvent(0, "episode_start", 0.0, episode_hours=cell.shift_hours)]
    while not cell.shift_done:
        for e in cell.run_cycle(0.9).events:
            events.append(SimEvent(0, e.kind, e.sim_time_s, e.dish_index, e.dish_type))
    events.append(SimEvent(0, "episode_end", cell.sim_time_s, episode_hours=cell.sim_time_s / 3600))
    results = [monitor.on_event(SimEvent.from_array(e.to_array(task.events), task.events)) for e in events]
    episode = results[-1]
    assert episode is not None and (episode.units, episode.errors) == (cell.units, cell.errors)
    assert cell.errors > 0  # pace 0.9 misaligns every block: the task's own error kind was priced
    assert monitor.history[-1].err_rate == cell.errors / cell.attempts


def test_the_second_tasks_vocabulary_is_its_own():
    task = Bricklaying()
    assert task.events.kinds == ("unit", "misaligned", "cracked", "episode_start", "episode_end")
    assert replace(task.sac, gamma=0.5).gamma == 0.5 and task.sac.gamma == 0.0
    encoded = SimEvent(2, "cracked", 5.0, 1, "block").to_array(task.events)
    assert SimEvent.from_array(encoded, task.events).kind == "cracked"
