"""Frame datasets for encoder training: frames rendered in the simulator, with its state at each frame.

`collect_frames` drives `v2p_sim.Workcell` through cycles at random speed/care (a seeded RNG, so a dataset is
reproducible from its arguments); inside the simulator's tick callback it renders one RGB frame and records
`aux_state()`, so every frame is paired with the state it shows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from v2p.errors import V2PError

TargetKind = Literal["regression", "binary", "classes"]


@dataclass(frozen=True)
class AuxTarget:
    name: str
    kind: TargetKind
    classes: int = 1


AUX_TARGETS: tuple[AuxTarget, ...] = (
    AuxTarget("dish_dirt", "regression"),
    AuxTarget("dish_held", "binary"),
    AuxTarget("arm_phase", "classes", classes=4),
    AuxTarget("speed", "regression"),
    AuxTarget("care", "regression"),
)


class DatasetError(V2PError):
    """A frame dataset file is missing, unreadable or inconsistent."""


@dataclass
class FrameDataset:
    """Rendered frames in episode order with the simulator state at each frame: a value of each of `aux` (the
    auxiliary targets its heads learn; `AUX_TARGETS` unless given)."""

    frames: np.ndarray  # uint8 [N, H, W, 3], RGB
    episode: np.ndarray  # int64 [N], non-decreasing episode ids
    targets: dict[str, np.ndarray]  # name -> [N]: float32 (regression) or int64 (binary, classes)
    meta: dict[str, object] = field(default_factory=dict)
    aux: tuple[AuxTarget, ...] = AUX_TARGETS

    def __post_init__(self) -> None:
        n = len(self.frames)
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3 or self.frames.dtype != np.uint8:
            raise DatasetError(f"frames must be uint8 [N, H, W, 3], got {self.frames.dtype} {self.frames.shape}")
        if len(self.episode) != n or any(len(self.targets.get(t.name, ())) != n for t in self.aux):
            raise DatasetError(
                f"dataset needs episode ids and targets {[t.name for t in self.aux]} for each of {n} frames"
            )
        if n and np.any(np.diff(self.episode) < 0):
            raise DatasetError("frames must be stored in episode order")

    def episode_ranges(self) -> list[tuple[int, int]]:
        """[(start, end)) index ranges, one per episode, in order."""
        if len(self.episode) == 0:
            return []
        cuts = np.flatnonzero(np.diff(self.episode)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(self.episode)]])
        return [(int(s), int(e)) for s, e in zip(starts, ends)]

    def save(self, path: str | Path) -> None:
        """Write an .npz (atomically: a half-written cache would poison the next run)."""
        path = Path(path)
        arrays = {"frames": self.frames, "episode": self.episode}
        arrays.update({f"target_{k}": v for k, v in self.targets.items()})
        aux = [[t.name, t.kind, t.classes] for t in self.aux]
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, meta=np.array(json.dumps(self.meta)), aux=np.array(json.dumps(aux)), **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | Path) -> FrameDataset:
        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"{path}: frame dataset not found")
        try:
            with np.load(path, allow_pickle=False) as z:
                targets = {k.removeprefix("target_"): z[k] for k in z.files if k.startswith("target_")}
                aux = (tuple(AuxTarget(n, k, int(c)) for n, k, c in json.loads(str(z["aux"]))) if "aux" in z.files
                       else AUX_TARGETS)  # files written before datasets named their targets
                return cls(z["frames"], z["episode"], targets, json.loads(str(z["meta"])), aux)
        except DatasetError as exc:
            raise DatasetError(f"{path}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - zip/npy/json failures all mean an unreadable file
            raise DatasetError(f"{path}: not a readable frame dataset ({type(exc).__name__}: {exc})") from exc


def _target_value(name: str, value: object) -> float | int:
    """Convert one aux_state() entry to the stored number (arm phase 0..3, dish held 0/1)."""
    if name == "arm_phase":
        phase = int(value)  # type: ignore[call-overload]
        if not 0 <= phase < 4:
            raise DatasetError(f"simulator reported arm phase {phase}, expected 0..3")
        return phase
    if name == "dish_held":
        return int(bool(value))
    return float(value)  # type: ignore[arg-type]


def collect_frames(
    site: str,
    episodes: int,
    seed: int = 0,
    frame_size: int = 64,
    cycles_per_episode: int = 2,
    speed_range: tuple[float, float] = (0.0, 1.0),
    care_range: tuple[float, float] = (0.0, 1.0),
    tick_period_s: float = 0.1,
    log: Callable[[str], None] | None = None,
) -> FrameDataset:
    """Render `episodes` simulator episodes at `site`; each runs `cycles_per_episode` cycles at random speed/care.

    Frames come at `tick_period_s` of sim time during each cycle, plus one at each decision point (after reset and
    after every cycle). Each episode resets the workcell with a seed drawn from `seed`.
    """
    if episodes < 2:
        raise DatasetError(f"--episodes must be >= 2 (one is held out for evaluation), got {episodes}")
    try:
        import v2p_sim  # the simulator (PyBullet) is needed only here
    except ImportError as exc:
        raise DatasetError(f"the simulator package v2p_sim cannot be imported ({exc})") from exc
    missing = [n for n in ("load_site", "Workcell") if not hasattr(v2p_sim, n)]
    if missing:
        raise DatasetError(f"this v2p_sim has no {', '.join(missing)} (the simulator install is incomplete)")
    rng = np.random.default_rng(seed)
    cell = v2p_sim.Workcell(v2p_sim.load_site(site), seed=seed, render_size=frame_size)
    frames: list[np.ndarray] = []
    episode_ids: list[int] = []
    rows: dict[str, list[float | int]] = {t.name: [] for t in AUX_TARGETS}

    def record(ep: int) -> None:
        frame = np.asarray(cell.render_rgb(frame_size))
        if frame.shape != (frame_size, frame_size, 3) or frame.dtype != np.uint8:
            raise DatasetError(
                f"render_rgb({frame_size}) returned {frame.dtype} {frame.shape}, expected uint8 "
                f"({frame_size}, {frame_size}, 3)"
            )
        state = cell.aux_state()
        frames.append(frame)
        episode_ids.append(ep)
        for t in AUX_TARGETS:
            rows[t.name].append(_target_value(t.name, state[t.name]))

    try:
        for ep in range(episodes):
            cell.reset(seed=int(rng.integers(2**31 - 1)))
            # Frames at the decision points too (after reset and after each cycle: the arm idle, the next dish
            # on the stack), since that is the frame a policy acts on.
            record(ep)
            for _ in range(cycles_per_episode):
                speed = float(rng.uniform(*speed_range))
                care = float(rng.uniform(*care_range))
                cell.run_cycle(speed, care, tick=lambda _t, ep=ep: record(ep), tick_period_s=tick_period_s)
                record(ep)
            if log:
                log(f"episode {ep + 1}/{episodes}: {len(frames)} frames so far")
    finally:
        cell.close()
    targets = {
        t.name: np.asarray(rows[t.name], dtype=np.float32 if t.kind == "regression" else np.int64)
        for t in AUX_TARGETS
    }
    meta = {"site": site, "episodes": episodes, "seed": seed, "frame_size": frame_size,
            "cycles_per_episode": cycles_per_episode, "speed_range": list(speed_range),
            "care_range": list(care_range), "tick_period_s": tick_period_s}
    return FrameDataset(np.stack(frames), np.asarray(episode_ids, dtype=np.int64), targets, meta)
