"""Failure detection, from the physics (the error kinds of the package docstring): the suction `Seal` (dropped),
the dish's per-body contact impulses (broken; the pad's scrub work is counted on the way), the free dish coming
to rest on the counter (dropped when it leaves it), and the inspection at the rack (misplaced, dirty).

An attempt's first error ends it: the detector raises `AttemptFailed` with the error kind.
"""

from __future__ import annotations

import math
from typing import Callable

import pybullet as p

from v2p_sim import scene as sc
from v2p_sim.workcell.dishes import Dish, DishInPlay
from v2p_sim.workcell.physics import DT

VACUUM_TAU_S = 0.15              # time constant of the suction cup's vacuum build-up
SEAL_FILTER_TAU_S = 0.03         # the cup lip's compliance: the seal feels the load low-passed over ~30 ms
SEAL_SLACK_N = 0.2               # solver noise on a dish that still rests on the stack is not a pull
CLEAN_TOLERANCE = 0.02           # dirt left that an inspection still passes
SEAT_TILT_RAD = math.radians(6.0)
SETTLE_MAX_S = 1.5               # a released dish gets this long to come to rest


class AttemptFailed(Exception):
    """The attempt at one dish ended with the error `kind`."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Seal:
    """The suction cup's grip on a dish: a fixed constraint whose force the seal must bear.

    The vacuum force V builds from the cup's first contact with time constant VACUUM_TAU_S up to the plan's set
    point; the seal feels the constraint force low-passed (SEAL_FILTER_TAU_S) and lets go when the pull exceeds
    V or the shear exceeds the seal's friction μ·(V − pull), μ being the dish's wet friction.
    """

    def __init__(self, constraint: int, dish: Dish, contact_tick: int, vacuum_setpoint_n: float, kw: dict) -> None:
        self.constraint = constraint
        self.dish = dish
        self.contact_tick = contact_tick
        self.vacuum_setpoint_n = vacuum_setpoint_n
        self.kw = kw
        self.pull = 0.0  # the dish still rests on the stack
        self.shear = 0.0

    @classmethod
    def attach(cls, arm: int, dish: DishInPlay, contact_tick: int, vacuum_setpoint_n: float, kw: dict) -> Seal:
        """Seal the cup on the dish: from here the dish rides on the constraint; the vacuum has been building since
        the cup touched the dish at `contact_tick`."""
        com = p.getLinkState(arm, sc.CUP_LINK, **kw)[0]  # constraint frames are relative to the link's COM
        pos, orn = p.getBasePositionAndOrientation(dish.body, **kw)
        p.setCollisionFilterPair(arm, dish.body, sc.CUP_LINK, -1, 0, **kw)
        # in play the dish must never fall asleep (a sleeping dish would hang in the air after release)
        p.changeDynamics(dish.body, -1, activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, **kw)
        constraint = p.createConstraint(arm, sc.CUP_LINK, dish.body, -1, p.JOINT_FIXED, (0, 0, 0),
                                        [pos[i] - com[i] for i in range(3)], (0, 0, 0),
                                        parentFrameOrientation=orn, **kw)
        return cls(constraint, dish.dish, contact_tick, vacuum_setpoint_n, kw)

    def slips(self, now_tick: int, ticks: int) -> bool:
        """Feed the constraint force of the last `ticks` (of DT) into the seal; True if it no longer holds."""
        fx, fy, fz = p.getConstraintState(self.constraint, **self.kw)[:3]
        # getConstraintState reports the force on the cup; the dish feels its negative.
        a = 1.0 - math.exp(-ticks * DT / SEAL_FILTER_TAU_S)
        self.pull = (1 - a) * self.pull + a * (-fz)
        self.shear = (1 - a) * self.shear + a * math.hypot(fx, fy)
        held_s = (now_tick - self.contact_tick) * DT
        vacuum = self.vacuum_setpoint_n * (1.0 - math.exp(-held_s / VACUUM_TAU_S))
        return (self.pull > vacuum + SEAL_SLACK_N
                or self.shear > self.dish.wet_friction * (vacuum - self.pull) + SEAL_SLACK_N)

    def release(self) -> None:
        p.removeConstraint(self.constraint, **self.kw)


def check_contacts(dish: DishInPlay, scene: sc.Scene, dt: float, scrub: bool) -> bool:
    """Breakage from per-body contact impulses over the step `dt` (the pad excepted: the dish is meant to be
    pressed into it); on the pad (`scrub`) the step's scrub work; True if the cup touches the dish."""
    per_body: dict[int, float] = {}
    cup_contact = False
    pad_force = 0.0
    brush, arm = scene.brush, scene.arm
    for c in p.getContactPoints(bodyA=dish.body, **dish.kw):
        other, force = c[2], c[9]
        if other == brush:
            pad_force += force
            continue
        if other == arm:
            cup_contact = True
        per_body[other] = per_body.get(other, 0.0) + force
    if per_body and max(per_body.values()) * dt > dish.spec.break_impulse_ns:
        raise AttemptFailed("broken")
    if scrub:
        dish.add_scrub(pad_force)
    return cup_contact


def at_rest(dish: DishInPlay) -> Callable[[int], bool]:
    """The released dish's end condition: at rest; raises dropped once it leaves the counter or falls below it."""
    kw, body = dish.kw, dish.body

    def done(_: int) -> bool:
        (x, y, z), _ = p.getBasePositionAndOrientation(body, **kw)
        (bx, by) = sc.WORKCELL_BOUNDS
        if not (bx[0] < x < bx[1] and by[0] < y < by[1]) or z < sc.COUNTER_TOP - 0.05:
            raise AttemptFailed("dropped")
        v, w = p.getBaseVelocity(body, **kw)
        return math.hypot(*v) < 0.01 and math.hypot(*w) < 0.2
    return done


def inspect(dish: DishInPlay, cell: sc.Cell) -> str:
    """The rested dish at its cell: misplaced unless flat (SEAT_TILT_RAD) and seated inside the cell, then dirty
    unless its remaining dirt is within CLEAN_TOLERANCE; else the unit."""
    (x, y, z), orn = p.getBasePositionAndOrientation(dish.body, **dish.kw)
    qx, qy = orn[0], orn[1]
    tilt = math.acos(max(-1.0, min(1.0, 1.0 - 2.0 * (qx * qx + qy * qy))))
    seated_z = sc.RACK_FLOOR + dish.spec.height_m / 2
    if (math.hypot(x - cell.x, y - cell.y) > sc.RACK_CLEARANCE + 0.002 or tilt > SEAT_TILT_RAD
            or abs(z - seated_z) > 0.004):
        return "misplaced"
    if dish.remaining_dirt() > CLEAN_TOLERANCE:
        return "dirty"
    return "unit"
