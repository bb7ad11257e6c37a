"""Simulator speed, three figures measured side by side in one run.

1. overhead: wall time of the gymnasium env (V2PDishwashing-v0, no camera) per simulated second, against the wall
   time PyBullet's stepSimulation() itself took for the same steps of the same scene in the same run (target <= 1.3).
   The steps are timed by wrapping pybullet.stepSimulation; the wrapper's own cost is charged to the env.
2. real-time factor: simulated seconds per wall second of the env without camera, uninstrumented (target >= 100x);
   also per CPU second of this process, since other work on the machine slows the wall clock, not the simulator.
3. camera: milliseconds per 64x64 frame (TinyRenderer) rendered at 2 Hz of sim time during cycles (target <= 5 ms).

Usage: python benchmarks/sim_speed.py [--site default] [--episodes 3] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pybullet

import v2p_sim


def run_episodes(site: str, episodes: int, seed: int) -> tuple[float, float, float, int]:
    """Run `episodes` shifts of the env at seeded random actions; return (wall s, CPU s, sim s, physics steps)."""
    env = v2p_sim.DishwashingEnv(site=site)
    rng = np.random.default_rng(seed)
    wall = cpu = sim = 0.0
    try:
        steps0 = env.workcell.physics_steps
        for episode in range(episodes):
            t0, c0 = time.perf_counter(), time.process_time()
            env.reset(seed=seed + episode)
            done = False
            while not done:
                _, _, done, _, info = env.step(rng.uniform(0.0, 1.0, size=2).astype(np.float32))
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
            sim += info["sim_time_s"]
        return wall, cpu, sim, env.workcell.physics_steps - steps0
    finally:
        env.close()


def timed_step_seconds(site: str, episodes: int, seed: int) -> tuple[float, float, float]:
    """The same episodes with stepSimulation timed; return (env wall s, time inside stepSimulation s, sim s)."""
    bare = pybullet.stepSimulation
    inside = [0.0]

    def timed(**kw):
        t = time.perf_counter()
        bare(**kw)
        inside[0] += time.perf_counter() - t

    pybullet.stepSimulation = timed
    try:
        wall, _, sim, _ = run_episodes(site, episodes, seed)
    finally:
        pybullet.stepSimulation = bare
    return wall, inside[0], sim


def camera_ms(site: str, seed: int, cycles: int = 4, size: int = 64) -> tuple[float, float]:
    """Milliseconds per frame, wall and CPU time of this process."""
    wc = v2p_sim.Workcell(site, seed=seed, render_size=size)
    spent, cpu, frames = [0.0], [0.0], [0]

    def tick(_: float) -> None:
        t, c = time.perf_counter(), time.process_time()
        wc.render_rgb(size)
        spent[0] += time.perf_counter() - t
        cpu[0] += time.process_time() - c
        frames[0] += 1

    try:
        for k in range(cycles):
            wc.run_cycle(0.5 + 0.1 * k, 0.8, tick=tick, tick_period_s=0.5)
    finally:
        wc.close()
    return 1000.0 * spent[0] / frames[0], 1000.0 * cpu[0] / frames[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default="default")
    ap.add_argument("--episodes", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    wall, cpu, sim, steps = run_episodes(args.site, args.episodes, args.seed)
    env_wall, step_wall, _ = timed_step_seconds(args.site, args.episodes, args.seed)
    frame_ms, frame_cpu_ms = camera_ms(args.site, args.seed)
    out = {
        "overhead_vs_bare_step": env_wall / step_wall,
        "real_time_factor": sim / wall,
        "real_time_factor_cpu": sim / cpu,  # per CPU-second of this process: what contention on the box hides
        "load_average_1min": os.getloadavg()[0],
        "camera_ms_64": frame_ms,
        "camera_cpu_ms_64": frame_cpu_ms,
        "sim_seconds": sim,
        "physics_steps": steps,
        "us_per_step_env": 1e6 * env_wall / steps,  # both from the instrumented run
        "us_per_step_bare": 1e6 * step_wall / steps,
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"site {args.site}: {args.episodes} shifts, {sim:.0f} sim s, {steps} physics steps")
    print(f"  overhead vs bare stepSimulation  {out['overhead_vs_bare_step']:6.2f}x   (target <= 1.3;"
          f" {out['us_per_step_env']:.1f} vs {out['us_per_step_bare']:.1f} us per step)")
    print(f"  real-time factor, no camera      {out['real_time_factor']:6.0f}x   (target >= 100; per CPU second"
          f" {out['real_time_factor_cpu']:.0f}x, load average {out['load_average_1min']:.1f}"
          f" on {os.cpu_count()} cores)")
    print(f"  64x64 camera frame               {out['camera_ms_64']:6.2f} ms  (target <= 5;"
          f" {out['camera_cpu_ms_64']:.2f} ms of CPU time)")


if __name__ == "__main__":
    main()
