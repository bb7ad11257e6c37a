"""The gantry's motion: its position servos (commands kept, so a step change can give them again), the suction
seal it holds, the motion primitives a cycle is made of (travel, approach, press, stroke, wait), and the stepping
loop that runs the physics under them while watching the seal and the dish's contacts.

The 3-axis gantry (assets/gantry.urdf) is driven by PyBullet's position servos; a servo's force limit is what
the plan's acceleration (x, y) or the column's and dish's weight (z) needs. Contacts are checked only where one
can happen (near the low end of a z move, on the pad, after release), so a step costs about what an empty gantry
costs.
"""

from __future__ import annotations

import math
from typing import Callable

import pybullet as p

from v2p_sim import scene as sc
from v2p_sim.workcell.dishes import DishInPlay
from v2p_sim.workcell.failures import AttemptFailed, Seal, check_contacts
from v2p_sim.workcell.physics import DT, Clock, Physics
from v2p_sim.workcell.plan import CyclePlan

TRAVEL_Z = 1.16                  # cup-face height for moves between stations (clears stack, rack, tallest dish)
Z_MARGIN_N = 3.0                 # z-servo force beyond carrying and accelerating the column and the dish
WATCH_BAND_M = 0.03              # a z move checks contacts only this close to its low end
PRESS_OVERTRAVEL_M = 0.05        # the scrub servo aims this far below the pad surface (force-limited push)
STROKE_FORCE_N = 20.0            # extra x-servo force while stroking against the pad's friction
PRESS_SERVO_SPEED = 0.3          # m/s the pressing z servo aims for: it saturates at its force limit, the press force

CHECK_EVERY = 3                  # steps between checks of a motion's end condition
SEAL_EVERY = 2                   # steps between seal checks (the seal's own filter spans ~4 of them)
SCRUB_STEP_MULT = 2              # the physics step on the pad is this many DT long
IDLE_STEP_MULT = 4               # and while the arm stands still with no dish in play


def _never(_: int) -> bool:
    return False


class Gantry:
    """The arm of one shift: servo commands, the seal (None while the cup holds nothing), and the moves."""

    def __init__(self, physics: Physics, clock: Clock, scene: sc.Scene) -> None:
        self.physics = physics
        self.clock = clock
        self.scene = scene
        self.arm = scene.arm
        self.kw = physics.kw
        self.commands: dict[int, tuple[float, float, float, float]] = {}  # joint -> (target, velocity, force, gain)
        self.seal: Seal | None = None

    def home(self) -> None:
        """Put the cup above the rack's edge at travel height, holding there."""
        home = (sc.RACK_X0, 0.0, TRAVEL_Z - sc.CUP_FACE_AT_ZERO)
        for j, q in enumerate(home):
            p.resetJointState(self.arm, j, q, **self.kw)
            self.servo(j, q, 0.1, 100.0, 0.1)

    # ---------------------------------------------------------------- servos
    def servo(self, joint: int, target: float, velocity: float, force: float, gain: float) -> None:
        self.commands[joint] = (target, velocity, force, gain)
        p.setJointMotorControl2(self.arm, joint, p.POSITION_CONTROL, targetPosition=target, force=force,
                                maxVelocity=velocity, positionGain=gain, velocityGain=1.0, **self.kw)

    def set_step(self, mult: int) -> None:
        """Change the physics step to mult·DT. PyBullet turns a servo's force limit into an impulse limit with the
        step current when the command is given, so every servo command is given again."""
        self.physics.set_step(mult)
        for joint, cmd in list(self.commands.items()):
            self.servo(joint, *cmd)

    def z_force(self, plan: CyclePlan) -> float:
        """Force limit of the z servo: carry and accelerate the column and the dish (its mass is observed)."""
        payload = self.seal.dish.mass_kg if self.seal is not None else 0.0
        return (sc.AXIS_MASS[2] + payload) * (9.81 + plan.accel) + Z_MARGIN_N

    def servo_z(self, z: float, velocity: float, plan: CyclePlan) -> None:
        self.servo(2, z - sc.CUP_FACE_AT_ZERO, velocity, self.z_force(plan), plan.servo_gain)

    # ---------------------------------------------------------------- suction
    def attach(self, dish: DishInPlay, plan: CyclePlan, contact_tick: int) -> None:
        self.seal = Seal.attach(self.arm, dish, contact_tick, plan.vacuum_setpoint_n, self.kw)

    def release(self) -> None:
        if self.seal is not None:
            self.seal.release()
            self.seal = None

    # ---------------------------------------------------------------- motion primitives
    def travel_to(self, xy: tuple[float, float], plan: CyclePlan, tolerance: float = 0.003,
                  settle_speed: float = 0.05) -> None:
        """Move in x and y at travel height (z held), until within tolerance and slower than settle_speed."""
        self.servo(0, xy[0], plan.travel_speed, sc.AXIS_MASS[0] * plan.accel, plan.servo_gain)
        self.servo(1, xy[1], plan.travel_speed, sc.AXIS_MASS[1] * plan.accel, plan.servo_gain)
        self.servo_z(TRAVEL_Z, plan.travel_speed, plan)
        self.run(until=self.arrived_xy(xy, tolerance, settle_speed), watch=None, limit_s=30.0)

    def move_z(self, z: float, velocity: float, plan: CyclePlan, dish: DishInPlay) -> None:
        """Move the cup face to height z. The dish's contacts are checked only within WATCH_BAND_M of the low end
        of the move (where the dish meets the stack, the pad or the rack): higher up it touches nothing."""
        self.servo_z(z, velocity, plan)
        arrived = self.arrived_z(z, 0.003)
        start = self.cup_z()
        low = min(start, z) + WATCH_BAND_M
        if z < start:  # descending: unwatched until near the bottom
            self.run(until=lambda k: self.cup_z() < low or arrived(k), watch=None, limit_s=10.0)
            self.run(until=arrived, watch=dish, limit_s=10.0)
        else:  # lifting off: watch until clear
            self.run(until=lambda k: self.cup_z() > low or arrived(k), watch=dish, limit_s=10.0)
            self.run(until=arrived, watch=None, limit_s=10.0)

    def approach(self, contact_z: float, plan: CyclePlan, dish: DishInPlay, until_cup_contact: bool = False,
                 settle_speed: float = 0.01) -> None:
        """Descend to `contact_z` (cup face): travel speed down to near_zone_m above it, then near_speed; done
        within 2 mm and slower than settle_speed, or (picking) as soon as the cup touches the dish."""
        self.move_z(contact_z + plan.near_zone_m, plan.travel_speed, plan, dish)
        self.servo_z(contact_z - (0.002 if until_cup_contact else 0.0), plan.near_speed, plan)
        self.run(until=self.arrived_z(contact_z, 0.002, settle_speed), watch=dish, limit_s=10.0,
                 stop_on_cup_contact=until_cup_contact)
        if until_cup_contact:
            self.servo_z(self.cup_z(), plan.near_speed, plan)  # hold where it touched

    def press(self, contact_z: float, plan: CyclePlan, dish: DishInPlay) -> None:
        """Lower the dish onto the pad and push: the servo aims below the pad, so the pad feels the weight of the
        column and the dish plus the servo's force limit, press_force_n."""
        self.move_z(contact_z + plan.near_zone_m, plan.travel_speed, plan, dish)
        self.servo(2, contact_z - PRESS_OVERTRAVEL_M - sc.CUP_FACE_AT_ZERO, plan.near_speed, plan.press_force_n,
                   plan.servo_gain)
        arm, kw = self.arm, self.kw
        self.run(until=lambda _: abs(p.getJointState(arm, 2, **kw)[1]) < 0.002 and self.cup_z() < contact_z + 0.002,
                 watch=dish, limit_s=10.0)
        # on the pad: a servo that aims for speed it cannot reach pushes at exactly its force limit
        self.servo(2, contact_z - PRESS_OVERTRAVEL_M - sc.CUP_FACE_AT_ZERO, PRESS_SERVO_SPEED, plan.press_force_n,
                   plan.servo_gain)

    def stroke(self, x: float, plan: CyclePlan, dish: DishInPlay) -> None:
        # the x servo must also overcome the pad's friction on the pressed dish
        self.servo(0, x, plan.stroke_speed, sc.AXIS_MASS[0] * plan.accel + STROKE_FORCE_N, plan.servo_gain)
        self.run(until=self.arrived_x(x, 0.004), watch=dish, limit_s=10.0, scrub=True)

    def wait(self, seconds: float, watch: DishInPlay | None = None) -> None:
        if seconds > 0:
            self.run(until=_never, watch=watch, limit_s=seconds)

    def stand_by(self, seconds: float) -> None:
        """The arm stands still with no dish in play (at least one step): the step may be coarse."""
        self.run(until=_never, watch=None, limit_s=seconds, mult=IDLE_STEP_MULT)

    # arrival predicates are checked every few steps on the joint states
    def arrived_xy(self, xy: tuple[float, float], tol: float, vtol: float) -> Callable[[int], bool]:
        arm, kw = self.arm, self.kw

        def done(_: int) -> bool:
            (qx, vx, _, _), (qy, vy, _, _) = p.getJointStates(arm, (0, 1), **kw)
            return math.hypot(qx - xy[0], qy - xy[1]) < tol and math.hypot(vx, vy) < vtol
        return done

    def arrived_x(self, x: float, tol: float) -> Callable[[int], bool]:
        arm, kw = self.arm, self.kw
        return lambda _: abs(p.getJointState(arm, 0, **kw)[0] - x) < tol

    def arrived_z(self, z: float, tol: float, vtol: float = 0.05) -> Callable[[int], bool]:
        arm, kw, q = self.arm, self.kw, z - sc.CUP_FACE_AT_ZERO

        def done(_: int) -> bool:
            qz, vz, _, _ = p.getJointState(arm, 2, **kw)
            return abs(qz - q) < tol and abs(vz) < vtol
        return done

    def cup_z(self) -> float:
        return p.getJointState(self.arm, 2, **self.kw)[0] + sc.CUP_FACE_AT_ZERO

    # ---------------------------------------------------------------- the stepping loop
    def run(self, until: Callable[[int], bool], watch: DishInPlay | None, limit_s: float, scrub: bool = False,
            stop_on_cup_contact: bool = False, mult: int = 1) -> None:
        """Step the physics until `until(k)` holds (checked every CHECK_EVERY steps) or limit_s passes.

        While the cup holds a dish: the seal check every SEAL_EVERY steps (every step on the pad). With a `watch`
        dish: its contacts every step (breakage, the cup touching the dish, the pad's scrub work). On the pad
        (`scrub`) the step is SCRUB_STEP_MULT times longer: the dish slides flat on the pad at a steady press and
        touches nothing else, which the coarser step resolves as well; `mult` coarsens idle waits likewise.
        A failure raises AttemptFailed out of the loop (its steps are then not added to physics.steps).
        """
        kw, step, clock = self.kw, p.stepSimulation, self.clock  # looked up per call: benchmarks wrap the step
        mult = SCRUB_STEP_MULT if scrub else mult
        if mult != 1:
            self.set_step(mult)
        limit = max(1, int(round(limit_s / (DT * mult))))
        seal_every = 1 if scrub else SEAL_EVERY
        k = 0
        while k < limit:
            step(**kw)
            k += 1
            clock.advance(mult)
            if self.seal is not None and k % seal_every == 0:
                if self.seal.slips(clock.ticks, seal_every * mult):
                    self.release()
                    raise AttemptFailed("dropped")
            if watch is not None and watch.body is not None:
                if check_contacts(watch, self.scene, DT * mult, scrub) and stop_on_cup_contact:
                    break
            if k % CHECK_EVERY == 0 and until(k):
                break
        if mult != 1:
            self.set_step(1)
        self.physics.steps += k
