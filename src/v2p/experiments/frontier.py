"""The (speed, care) feasibility frontier: fixed-action shifts over a grid, in parallel worker processes.

Every grid point runs the same episode seeds (common random numbers: every point sees the same dishes), so
differences between points come from the action, not from the draw of dishes.
"""

from __future__ import annotations

import csv
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from v2p.config import EconomicsConfig, load_economics_config
from v2p.task.dishwashing import ACTION, ERROR_KINDS



@dataclass(frozen=True)
class FrontierPoint:
    speed: float
    care: float
    mp: float
    err_rate: float
    implied_wage: float

    def as_dict(self) -> dict[str, float]:
        return {"speed": self.speed, "care": self.care, "mp": self.mp, "err_rate": self.err_rate,
                "implied_wage": self.implied_wage}


@dataclass
class FrontierResult:
    """Grids indexed [i_speed, j_care]; speed and care are the meshgrid of the axes (indexing="ij")."""

    site: str
    episodes_per_point: int
    seed: int
    shift_hours: float
    speed: np.ndarray
    care: np.ndarray
    mp: np.ndarray
    err_rate: np.ndarray
    implied_wage: np.ndarray
    attempts: np.ndarray
    errors_by_type: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def grid(self) -> int:
        return int(self.speed.shape[0])

    def feasible(self, error_target: float) -> np.ndarray:
        return self.err_rate <= error_target

    def best_feasible(self, error_target: float) -> FrontierPoint | None:
        """The highest-implied-wage point whose error rate meets the SLA; None if no point does."""
        ok = self.feasible(error_target)
        if not ok.any():
            return None
        wage = np.where(ok, self.implied_wage, -np.inf)
        i, j = np.unravel_index(int(np.argmax(wage)), wage.shape)
        return FrontierPoint(float(self.speed[i, j]), float(self.care[i, j]), float(self.mp[i, j]),
                             float(self.err_rate[i, j]), float(self.implied_wage[i, j]))


def grid_axis(grid: int) -> np.ndarray:
    if int(grid) < 2:
        raise ValueError(f"the grid needs at least 2 points per axis, got {grid!r}")
    return np.linspace(0.0, 1.0, int(grid))


# ---------------------------------------------------------------------------- running
_WORKCELL = None  # one physics client per worker process, reused across its grid points


def _run_point(args: tuple[Any, float, float, int, int, float | None, EconomicsConfig]) -> dict:
    global _WORKCELL
    from v2p_sim import Workcell, run_fixed_action

    site, speed, care, episodes, seed, shift_hours, cfg = args
    if _WORKCELL is None or _WORKCELL.site != site:
        if _WORKCELL is not None:
            _WORKCELL.close()
        _WORKCELL = Workcell(site, seed=seed)
    return run_fixed_action(site, speed, care, episodes, seed, shift_hours, econ_config=cfg, workcell=_WORKCELL)


def sweep(
    site: Any,
    grid: int,
    episodes_per_point: int,
    workers: int,
    seed: int = 0,
    shift_hours: float | None = None,
    econ_config: EconomicsConfig | None = None,
) -> FrontierResult:
    """Run every (speed, care) of a grid×grid lattice on [0, 1]² for `episodes_per_point` shifts each."""
    from v2p_sim import load_site

    site_cfg = load_site(site)
    cfg = econ_config or load_economics_config()
    if int(episodes_per_point) < 1:
        raise ValueError(f"episodes_per_point must be at least 1, got {episodes_per_point!r}")
    if int(workers) < 1:
        raise ValueError(f"workers must be at least 1, got {workers!r}")
    axis = grid_axis(grid)
    speed, care = np.meshgrid(axis, axis, indexing="ij")
    jobs = [(site_cfg, float(s), float(c), int(episodes_per_point), int(seed), shift_hours, cfg)
            for s, c in zip(speed.ravel(), care.ravel())]
    if int(workers) == 1:
        global _WORKCELL
        try:
            rows = [_run_point(job) for job in jobs]
        finally:
            if _WORKCELL is not None:
                _WORKCELL.close()
                _WORKCELL = None
    else:
        # spawn: a forked child would inherit the parent's threads (torch, DDS) mid-flight
        with ProcessPoolExecutor(max_workers=int(workers), mp_context=mp.get_context("spawn")) as pool:
            rows = list(pool.map(_run_point, jobs, chunksize=max(1, len(jobs) // (4 * int(workers)))))
    shape = speed.shape

    def grid_of(key: str) -> np.ndarray:
        return np.array([r[key] for r in rows], dtype=float).reshape(shape)

    return FrontierResult(
        site=site_cfg.name, episodes_per_point=int(episodes_per_point), seed=int(seed),
        shift_hours=float(shift_hours if shift_hours is not None else site_cfg.shift_hours),
        speed=speed, care=care, mp=grid_of("mp"), err_rate=grid_of("err_rate"),
        implied_wage=grid_of("implied_wage"), attempts=grid_of("attempts"),
        errors_by_type={k: np.array([r["errors_by_type"][k] for r in rows], dtype=float).reshape(shape)
                        for k in ERROR_KINDS},
    )


# ---------------------------------------------------------------------------- saving
def save_npz(result: FrontierResult, path: str | Path) -> Path:
    path = Path(path)
    np.savez(path, speed=result.speed, care=result.care, mp=result.mp, err_rate=result.err_rate,
             implied_wage=result.implied_wage, attempts=result.attempts,
             **{f"errors_{k}": v for k, v in result.errors_by_type.items()},
             site=np.array(result.site), episodes_per_point=result.episodes_per_point, seed=result.seed,
             shift_hours=result.shift_hours)
    return path


def load_npz(path: str | Path) -> FrontierResult:
    with np.load(Path(path)) as z:
        return FrontierResult(
            site=str(z["site"]), episodes_per_point=int(z["episodes_per_point"]), seed=int(z["seed"]),
            shift_hours=float(z["shift_hours"]), speed=z["speed"], care=z["care"], mp=z["mp"],
            err_rate=z["err_rate"], implied_wage=z["implied_wage"], attempts=z["attempts"],
            errors_by_type={k: z[f"errors_{k}"] for k in ERROR_KINDS if f"errors_{k}" in z},
        )


def save_csv(result: FrontierResult, path: str | Path) -> Path:
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*ACTION.fields, "mp", "err_rate", "implied_wage", "attempts", *ERROR_KINDS])
        for idx in np.ndindex(result.speed.shape):
            w.writerow([f"{result.speed[idx]:.4f}", f"{result.care[idx]:.4f}", f"{result.mp[idx]:.3f}",
                        f"{result.err_rate[idx]:.5f}", f"{result.implied_wage[idx]:.3f}", int(result.attempts[idx]),
                        *(int(result.errors_by_type[k][idx]) for k in ERROR_KINDS)])
    return path


def plot_contours(result: FrontierResult, path: str | Path, error_target: float, human_wage: float,
                  operating_point: tuple[float, float] | None = None) -> Path:
    """Implied wage (filled), iso-error lines with the SLA line, iso-MP lines, the best feasible point, and
    (when given) a policy's mean (speed, care) operating point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    s, c = result.speed, result.care
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=120)
    span = 5.0 * np.ceil(max(np.abs(result.implied_wage).max(), human_wage * 1.5) / 5.0)  # symmetric: red loses money
    filled = ax.contourf(s, c, result.implied_wage, levels=np.linspace(-span, span, 21), cmap="RdYlGn")
    fig.colorbar(filled, ax=ax, label="implied wage ŵ ($/h)")
    wage_line = ax.contour(s, c, result.implied_wage, levels=[human_wage], colors="k", linewidths=1.0,
                           linestyles="dotted")
    ax.clabel(wage_line, fmt={human_wage: f"ŵ = w_h ${human_wage:.0f}"}, fontsize=7)
    err_levels = sorted({0.02, 0.10, 0.20, 0.40} - {error_target})
    iso_err = ax.contour(s, c, result.err_rate, levels=err_levels, colors="0.25", linewidths=0.7)
    ax.clabel(iso_err, fmt=lambda v: f"err {v:.0%}", fontsize=7)
    sla = ax.contour(s, c, result.err_rate, levels=[error_target], colors="crimson", linewidths=2.0)
    ax.clabel(sla, fmt={error_target: f"SLA {error_target:.0%}"}, fontsize=8)
    iso_mp = ax.contour(s, c, result.mp, levels=6, colors="navy", linewidths=0.7, linestyles="dashed")
    ax.clabel(iso_mp, fmt=lambda v: f"MP {v:.0f}/h", fontsize=7)
    ok = result.feasible(error_target)
    ax.scatter(s[ok], c[ok], s=10, c="k", marker="o", label=f"meets SLA (err ≤ {error_target:.0%})")
    ax.scatter(s[~ok], c[~ok], s=10, c="k", marker="x", alpha=0.5, label="violates SLA")
    best = result.best_feasible(error_target)
    if best is not None:
        ax.scatter([best.speed], [best.care], s=140, marker="*", c="gold", edgecolors="k", zorder=5,
                   label=f"best: MP {best.mp:.0f}/h, err {best.err_rate:.1%}, ŵ ${best.implied_wage:.1f}/h")
    if operating_point is not None:
        ax.scatter([operating_point[0]], [operating_point[1]], s=110, marker="D", c="deepskyblue", edgecolors="k",
                   zorder=6, label=f"learned policy (mean action {operating_point[0]:.2f}, {operating_point[1]:.2f})")
    ax.set_xlabel("speed")
    ax.set_ylabel("care")
    ax.set_title(f"Feasibility frontier, site '{result.site}' "
                 f"({result.episodes_per_point} shifts × {result.shift_hours:g} h per point)", fontsize=9)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.85)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
