"""The video encoder the main job trains for itself: decision frames of the job's sites, the aux heads that read
what a decision needs from them, and a cache keyed by what the result depends on.

One dish cycle is one decision, so the frame that matters is the one at the decision instant: the next dish on
the stack, its type and its soil (render_rgb tints it by its remaining dirt). `collect_decision_frames` renders
exactly those frames (after each reset and after each cycle, at random speed and care, the sites' shifts
interleaved; at each instant `views` dishes in turn, setting aside all but the last, since a frame costs
milliseconds and a cycle a tenth of a second) and labels each with the camera fields of
`v2p.task.dishwashing.STATE` at that instant: `DECISION_TARGETS`, the next dish's type (3 classes), the soil its
tint shows and its stack offset.

`train_task_encoder(sites, seed, out_dir, budget)` returns (checkpoint, metrics): the streaming encoder trained
with those heads on one frame per clip (`TaskEncoderBudget.clip_len`: consecutive decision frames show different
dishes, so a longer clip only blurs the newest one; measured in the README), evaluated on held-out shifts. The
checkpoint is cached under out_dir by a key of the sites' configurations, the budget, the seed and the code that
shapes the result (`code_version`), so a second run with the same inputs loads it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from v2p.config import REPO_ROOT
from v2p.encoders.dataset import AuxTarget, DatasetError, FrameDataset
from v2p.errors import V2PError
from v2p.task.dishwashing import DISH_TYPES, STATE

DECISION_TARGETS = (
    AuxTarget("dish_type", "classes", classes=len(DISH_TYPES)),
    AuxTarget("dish_soil_shown", "regression"),
    AuxTarget("dish_offset_cm", "regression"),
)
METRICS_SUFFIX = ".metrics.json"
CACHE_DIR = REPO_ROOT / "runs" / "cache" / "encoders"  # where runs share their trained encoders


@dataclass(frozen=True)
class TaskEncoderBudget:
    """How much rendering and training the job's encoder gets. The defaults take about a minute on 2 CPU cores."""

    shifts_per_site: int = 6  # each has a decision instant per dish cycle (~16 at the default site)
    views: int = 3  # dishes shown at each decision instant
    steps: int = 300  # gradient steps
    batch: int = 32  # sequences per step
    clip_len: int = 1  # decision frames per clip (see the module docstring)
    frame_size: int = 64
    width: int = 16  # the frame CNN's width (its channels: width, 2·width, 4·width)
    lr: float = 2e-3
    speed_range: tuple[float, float] = (0.4, 1.0)  # the actions that fill the rack between decision frames
    care_range: tuple[float, float] = (0.0, 1.0)
    threads: int = 2

    def __post_init__(self) -> None:
        if min(self.shifts_per_site, self.views, self.steps, self.batch, self.clip_len, self.threads) < 1:
            raise V2PError(f"task encoder budget: shifts, views, steps, batch, clip_len and threads must be >= 1, "
                           f"got {self}")

    def scaled(self, factor: float) -> TaskEncoderBudget:
        """Shifts and steps × factor (at least one shift per site, 20 steps)."""
        return replace(self, shifts_per_site=max(1, round(self.shifts_per_site * factor)),
                       steps=max(20, round(self.steps * factor)))


def _targets(state: np.ndarray) -> dict[str, float | int]:
    onehot = [state[STATE.index(f"dish_is_{kind}")] for kind in DISH_TYPES]
    return {"dish_type": int(np.argmax(onehot)), "dish_soil_shown": float(state[STATE.index("dish_soil_shown")]),
            "dish_offset_cm": float(state[STATE.index("dish_offset_cm")])}


def collect_decision_frames(sites: Sequence[str], shifts_per_site: int, seed: int = 0, frame_size: int = 64,
                            views: int = 1, speed_range: tuple[float, float] = (0.4, 1.0),
                            care_range: tuple[float, float] = (0.0, 1.0),
                            log: Callable[[str], None] | None = None) -> FrameDataset:
    """The frames at every decision instant of `shifts_per_site` shifts per site (sites interleaved, so held-out
    shifts come from every site; `views` dishes per instant), each labelled with `DECISION_TARGETS`; one
    episode per shift."""
    from v2p_sim import Workcell

    if not sites:
        raise DatasetError("collect_decision_frames needs at least one site")
    if shifts_per_site * len(sites) < 2:
        raise DatasetError("need at least 2 shifts in all (one is held out)")
    rng = np.random.default_rng(seed)
    cells = [Workcell(site, seed=seed, render_size=frame_size) for site in sites]
    frames: list[np.ndarray] = []
    episode: list[int] = []
    rows: dict[str, list[float | int]] = {t.name: [] for t in DECISION_TARGETS}
    try:
        for k in range(shifts_per_site * len(sites)):
            cell = cells[k % len(cells)]
            cell.reset(int(rng.integers(2**31 - 1)))
            while True:
                for view in range(views):
                    if view:
                        cell.set_aside_dish()
                    frames.append(np.asarray(cell.render_rgb(frame_size)))
                    episode.append(k)
                    for name, value in _targets(cell.state_vector()).items():
                        rows[name].append(value)
                if cell.shift_done:
                    break
                cell.run_cycle(float(rng.uniform(*speed_range)), float(rng.uniform(*care_range)))
            if log:
                log(f"shift {k + 1}/{shifts_per_site * len(sites)}: {len(frames)} decision frames so far")
    finally:
        for cell in cells:
            cell.close()
    targets = {t.name: np.asarray(rows[t.name], np.int64 if t.kind == "classes" else np.float32)
               for t in DECISION_TARGETS}
    meta = {"sites": list(sites), "shifts_per_site": shifts_per_site, "seed": seed, "frame_size": frame_size,
            "views": views, "speed_range": list(speed_range), "care_range": list(care_range),
            "frames": "decision instants"}
    return FrameDataset(np.stack(frames), np.asarray(episode, np.int64), targets, meta, DECISION_TARGETS)


# The modules whose code shapes a trained encoder: a change to any of them is a new code version.
_CODE = ("v2p.encoders.task_encoder", "v2p.encoders.training", "v2p.encoders.streaming", "v2p.encoders.base",
         "v2p.encoders.dataset", "v2p.task.dishwashing", "v2p_sim.scene", "v2p_sim.workcell.cell",
         "v2p_sim.workcell.dishes", "v2p_sim.workcell.gantry", "v2p_sim.workcell.failures", "v2p_sim.workcell.plan")


def code_version() -> str:
    """A digest of the source of the modules in `_CODE`."""
    import importlib

    digest = hashlib.sha256()
    for name in _CODE:
        digest.update(Path(importlib.import_module(name).__file__).read_bytes())
    return digest.hexdigest()[:16]


def cache_key(sites: Sequence[str], seed: int, budget: TaskEncoderBudget) -> str:
    """What the trained encoder depends on: each site's configuration (not just its name), the budget, the seed
    and the code version."""
    from v2p_sim import load_site

    inputs: dict[str, Any] = {"sites": [asdict(load_site(s)) for s in sites], "budget": asdict(budget),
                              "seed": int(seed), "code": code_version()}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:16]


def train_task_encoder(sites: Sequence[str], seed: int, out_dir: Path | str | None = None,
                       budget: TaskEncoderBudget = TaskEncoderBudget(),
                       log: Callable[[str], None] | None = None) -> tuple[Path, dict[str, Any]]:
    """The job's video encoder for `sites`: out_dir/task-encoder-<key>.safetensors (out_dir None: `CACHE_DIR`)
    and its metrics (held-out R² and accuracy per target, frames, seconds, `cached`). A checkpoint of the same key
    is loaded, not retrained."""
    import torch

    from v2p.encoders.checkpoint import load_encoder, save_encoder
    from v2p.encoders.registry import make_encoder
    from v2p.encoders.training import TrainConfig, train_encoder

    out_dir = CACHE_DIR if out_dir is None else Path(out_dir)
    key = cache_key(sites, seed, budget)
    path = out_dir / f"task-encoder-{key}.safetensors"
    metrics_path = path.with_name(path.name + METRICS_SUFFIX)
    if path.is_file() and metrics_path.is_file():
        load_encoder(path)  # EncoderCheckpointError names a damaged cache entry
        return path, json.loads(metrics_path.read_text()) | {"cached": True}
    threads = torch.get_num_threads()
    torch.set_num_threads(budget.threads)
    try:
        t0 = time.perf_counter()
        data = collect_decision_frames(sites, budget.shifts_per_site, seed, budget.frame_size, budget.views,
                                       budget.speed_range, budget.care_range, log)
        render_s = time.perf_counter() - t0
        torch.manual_seed(seed)
        encoder = make_encoder("streaming", clip_len=budget.clip_len, frame_size=budget.frame_size,
                               width=budget.width)
        # consecutive decision frames show independent dishes: no temporal-consistency term to learn
        cfg = TrainConfig(steps=budget.steps, batch_sequences=budget.batch, windows_per_sequence=2, lr=budget.lr,
                          consistency_weight=0.0, aux_weights={}, seed=seed, log_every=max(1, budget.steps // 4))
        t1 = time.perf_counter()
        result = train_encoder(encoder, data, cfg, log=log)
        train_s = time.perf_counter() - t1
    finally:
        torch.set_num_threads(threads)
    ranges = data.episode_ranges()
    metrics = {
        "key": key, "sites": list(sites), "seed": seed, "budget": asdict(budget), "frames": int(len(data.frames)),
        "held_out_shifts": len(result.val_episodes),
        "held_out_frames": int(sum(ranges[i][1] - ranges[i][0] for i in result.val_episodes)),
        "targets": {k: {m: (None if np.isnan(v) else round(float(v), 4)) for m, v in d.items()}
                    for k, d in result.metrics.items()},
        "render_s": round(render_s, 1), "train_s": round(train_s, 1),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_encoder(encoder, path, extra={"task_encoder": metrics})
    tmp = metrics_path.with_name(metrics_path.name + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=1))
    tmp.replace(metrics_path)  # the metrics file commits the cache entry: written last
    return path, metrics | {"cached": False}
