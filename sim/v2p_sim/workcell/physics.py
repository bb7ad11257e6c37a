"""The physics client and the clock: one PyBullet connection per Workcell, its world parameters and step count,
and a shift's simulated time in steps of DT with the caller's tick callback."""

from __future__ import annotations

from typing import Callable

import pybullet as p

DT = 1.0 / 120.0                 # physics step (s): the largest at which the dish contacts stay stable
SOLVER_ITERATIONS = 20


class Physics:
    """A Workcell's own PyBullet client (several may coexist in one process) and the steps taken over its life."""

    def __init__(self) -> None:
        self.client: int | None = p.connect(p.DIRECT)
        self.kw = {"physicsClientId": self.client}
        self.steps = 0  # physics steps over the Workcell's lifetime (benchmarks)

    def reset_world(self) -> None:
        """An empty world with gravity and the fixed step, so a rebuilt scene replays exactly."""
        kw = self.kw
        p.resetSimulation(**kw)
        p.setGravity(0, 0, -9.81, **kw)
        p.setPhysicsEngineParameter(fixedTimeStep=DT, numSolverIterations=SOLVER_ITERATIONS,
                                    deterministicOverlappingPairs=1, **kw)

    def set_step(self, mult: int) -> None:
        """The physics step becomes mult·DT (the gantry gives its servo commands again: see Gantry.set_step)."""
        p.setPhysicsEngineParameter(fixedTimeStep=DT * mult, **self.kw)

    def close(self) -> None:
        if self.client is not None and p.isConnected(self.client):
            p.disconnect(self.client)
        self.client = None


class Clock:
    """A shift's simulated time in ticks of DT (a coarse step counts its multiple), and during a cycle the caller's
    callback, called with the sim time every `tick_period_s` (at the first step at or past each tick)."""

    def __init__(self) -> None:
        self.ticks = 0
        self.callback: Callable[[float], None] | None = None
        self.every = 1  # ticks between callbacks
        self.next_tick = 0

    @property
    def sim_time_s(self) -> float:
        return self.ticks * DT

    def start_cycle(self, callback: Callable[[float], None] | None, tick_period_s: float) -> None:
        self.callback = callback
        self.every = max(1, int(round(tick_period_s / DT)))
        self.next_tick = (self.ticks // self.every + 1) * self.every

    def end_cycle(self) -> None:
        self.callback = None

    def advance(self, ticks: int) -> None:
        self.ticks += ticks
        if self.callback is not None and self.ticks >= self.next_tick:
            self.next_tick += self.every
            self.callback(self.ticks * DT)
