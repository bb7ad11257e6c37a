"""The dishwashing workcell: one dish cycle (pick, scrub, place) per action, errors detected from the physics.

The robot is a 3-axis gantry with a suction cup (assets/gantry.urdf) driven by PyBullet's position servos; the
action (speed, care) becomes a CyclePlan of servo speeds, force limits and gains, dwell times, scrub pressure and
strokes, and release tolerances (plan_cycle). Nothing about an attempt's outcome is drawn at random: each dish's
mass, wet friction, dirt and stack offset are drawn per shift from the seed, and the outcome follows from the
dynamics:

- dropped: the suction seal fails. The cup holds with the vacuum force V (which builds after contact with time
  constant VACUUM_TAU_S); the seal lets go when the constraint force needed to carry the dish pulls harder than V,
  or shears harder than the seal's friction μ·(V − pull). A dish that leaves the counter or touches the floor is
  dropped too.
- broken: any single physics step in which the dish's contacts with one body (cup, stack, rack, counter, floor;
  not the scrub pad, a brush the dish is meant to be pressed into) sum to an impulse above the dish's breakage
  threshold.
- dirty: scrub work (normal force × sliding distance on the pad, from getContactPoints) short of what the dish's
  dirt level needs, checked at the rack.
- misplaced: after release the dish does not come to rest flat inside its rack cell.

Only the dish in play is a live dynamic body; the stack and the rack are static shapes and racked dishes are
visual-only, so a step costs about what an empty gantry costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pybullet as p

from v2p.task.base import CycleResult, WorkEvent
from v2p.task.dishwashing import ACTION, DISH_TYPES, ERROR_KINDS, STATE
from v2p_sim import scene as sc
from v2p_sim.site import SiteConfig, load_site

DT = 1.0 / 120.0                 # physics step (s): the largest at which the dish contacts stay stable
SOLVER_ITERATIONS = 20
VACUUM_TAU_S = 0.15              # time constant of the suction cup's vacuum build-up
SEAL_FILTER_TAU_S = 0.03         # the cup lip's compliance: the seal feels the load low-passed over ~30 ms
SEAL_SLACK_N = 0.2               # solver noise on a dish that still rests on the stack is not a pull
TRAVEL_Z = 1.16                  # cup-face height for moves between stations (clears stack, rack, tallest dish)
STROKE_HALF_M = 0.05             # scrub stroke: ±5 cm along x around the pad's centre
CLEAN_TOLERANCE = 0.02           # dirt left that an inspection still passes
SEAT_TILT_RAD = math.radians(6.0)
SETTLE_MAX_S = 1.5
Z_MARGIN_N = 3.0                 # z-servo force beyond carrying and accelerating the column and the dish
WATCH_BAND_M = 0.03              # a z move checks contacts only this close to its low end
PRESS_OVERTRAVEL_M = 0.05        # the scrub servo aims this far below the pad surface (force-limited push)
STROKE_FORCE_N = 20.0            # extra x-servo force while stroking against the pad's friction

CHECK_EVERY = 3                  # steps between checks of a motion's end condition
SEAL_EVERY = 2                   # steps between seal checks (the seal's own filter spans ~4 of them)
SCRUB_STEP_MULT = 2              # the physics step on the pad is this many DT long
IDLE_STEP_MULT = 4               # and while the arm stands still with no dish in play
PRESS_SERVO_SPEED = 0.3          # m/s the pressing z servo aims for: it saturates at its force limit, the press force

PHASE_IDLE, PHASE_PICK, PHASE_SCRUB, PHASE_PLACE = 0, 1, 2, 3
@dataclass(frozen=True)
class Dish:
    """One dish of the shift, as drawn from the site's ranges."""

    index: int
    kind: str
    mass_kg: float
    wet_friction: float
    dirt: float
    offset_xy: tuple[float, float]


@dataclass(frozen=True)
class CyclePlan:
    """The concrete motion of one dish cycle; plan_cycle maps an action onto it, scripted scenarios edit it."""

    travel_speed: float          # m/s, servo velocity limit for moves between stations
    accel: float                 # m/s², sets the x/y servo force limits (force = axis mass × accel)
    servo_gain: float            # position gain of the servos: stiffer at speed, so they overshoot
    near_zone_m: float           # the slow-down zone above an expected contact (pick, pad, rack)
    near_speed: float            # m/s within it
    align_fraction: float        # share of the dish's stack offset the camera alignment corrects
    align_s: float               # time the alignment look takes
    vacuum_setpoint_n: float     # suction hold force V once the vacuum has built
    vacuum_dwell_s: float        # wait between cup contact and lift
    press_force_n: float         # scrub pressure: the z servo's push on top of the column's and dish's weight
    scrub_strokes: int           # back-and-forth strokes over the pad
    stroke_speed: float          # m/s along the stroke
    release_height_m: float      # dish bottom above the rack floor at release
    release_tolerance_m: float   # the tool must be this close to the cell (xy) before it descends
    settle_speed: float          # and moving slower than this (m/s)
    aim_offset_xy: tuple[float, float] = (0.0, 0.0)  # a deliberate aim error at the rack (scripted scenarios)


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def plan_cycle(speed: float, care: float) -> CyclePlan:
    """Map an action onto the cycle. Speed buys time with force, gain and fewer strokes; care buys margins with time."""
    travel = _lerp(0.10, 0.35, speed)
    return CyclePlan(
        travel_speed=travel,
        accel=_lerp(0.6, 6.0, speed),
        servo_gain=_lerp(0.08, 0.35, speed),
        near_zone_m=_lerp(0.02, 0.06, care),
        near_speed=max(0.02, travel * _lerp(1.0, 0.12, care)),
        align_fraction=care,
        align_s=1.0 * care,
        vacuum_setpoint_n=_lerp(10.0, 40.0, care),
        vacuum_dwell_s=_lerp(0.8, 0.1, speed),
        press_force_n=_lerp(2.0, 20.0, care),
        scrub_strokes=int(round(_lerp(30, 12, speed))),
        stroke_speed=_lerp(0.08, 0.16, speed),
        release_height_m=_lerp(0.060, 0.003, care),
        release_tolerance_m=_lerp(0.020, 0.002, care),
        settle_speed=_lerp(0.10, 0.005, care),
    )


class _AttemptFailed(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Workcell:
    """The PyBullet dishwashing scene in its own physics client (several may coexist in one process)."""

    def __init__(self, site: SiteConfig | str, seed: int, render_size: int = 64) -> None:
        self.site = load_site(site)
        self.render_size = int(render_size)
        self.shift_hours = self.site.shift_hours  # the env may set a different shift length
        self.client = p.connect(p.DIRECT)
        self._kw = {"physicsClientId": self.client}
        self.physics_steps = 0  # over the Workcell's lifetime (benchmarks)
        self.reset(seed)

    # ---------------------------------------------------------------- shift
    def reset(self, seed: int | None = None) -> None:
        """Start a new shift: rebuild the scene (so a seed replays exactly) and draw the shift's dishes."""
        if seed is not None:
            self.seed = int(seed)
        kw = self._kw
        p.resetSimulation(**kw)
        p.setGravity(0, 0, -9.81, **kw)
        p.setPhysicsEngineParameter(fixedTimeStep=DT, numSolverIterations=SOLVER_ITERATIONS,
                                    deterministicOverlappingPairs=1, **kw)
        self.scene = sc.build_scene(self.client, self.site)
        self.camera = sc.Camera(self.client)
        self._rng = np.random.default_rng(self.seed)
        self._ticks = 0
        self._dish_count = 0
        self._slot_next = {k: 0 for k in DISH_TYPES}
        self._racked: dict[tuple[str, int], int] = {}
        self.units = 0
        self.attempts = 0
        self.errors_by_type = {k: 0 for k in ERROR_KINDS}
        self._phase = PHASE_IDLE
        self._speed, self._care = 0.0, 0.0
        self._seal: int | None = None
        self._coverage = 0.0
        self._shown_dirt = -1.0
        self._tick: Callable[[float], None] | None = None
        self._home_arm()
        self._next_dish = self._draw_dish()
        self._spawn(self._next_dish)

    def close(self) -> None:
        if self.client is not None and p.isConnected(self.client):
            p.disconnect(self.client)
        self.client = None

    @property
    def sim_time_s(self) -> float:
        return self._ticks * DT

    @property
    def shift_done(self) -> bool:
        return self.sim_time_s >= self.shift_hours * 3600.0

    @property
    def errors(self) -> int:
        return sum(self.errors_by_type.values())

    # ---------------------------------------------------------------- observations
    def state_vector(self) -> np.ndarray:
        """The state of `v2p.task.dishwashing.STATE` (its field list documents each value), float32, clipped."""
        d = self._next_dish
        hours = self.sim_time_s / 3600.0
        return STATE.vector({
            "dish_is_plate": d.kind == "plate", "dish_is_bowl": d.kind == "bowl", "dish_is_glass": d.kind == "glass",
            "dish_mass_kg": d.mass_kg, "dish_wet_friction": d.wet_friction, "dish_dirt": d.dirt,
            "dish_offset_cm": 100.0 * math.hypot(*d.offset_xy),
            "shift_progress": self.sim_time_s / (self.shift_hours * 3600.0),
            "shift_error_rate": self.errors / self.attempts if self.attempts else 0.0,
            "shift_mp": (self.units / hours / 100.0) if hours > 0 else 0.0,
            "last_speed": self._speed, "last_care": self._care,
        })

    def aux_state(self) -> dict:
        """Ground truth at this instant, for encoder training."""
        return {
            "dish_dirt": self._remaining_dirt(),
            "dish_held": self._seal is not None,
            "arm_phase": self._phase,
            "speed": self._speed,
            "care": self._care,
        }

    def render_rgb(self, size: int | None = None) -> np.ndarray:
        """One frame (H, W, 3) uint8 from the fixed camera; the dish in play shows its remaining dirt."""
        dirt = round(self._remaining_dirt(), 2)
        if dirt != self._shown_dirt and self._dish_id is not None:
            base, soil = sc.DISH_RGBA[self._dish.kind], sc.DIRT_RGBA
            rgba = [b + (s - b) * min(1.0, 1.5 * dirt) for b, s in zip(base, soil)]
            p.changeVisualShape(self._dish_id, -1, rgbaColor=rgba, **self._kw)
            self._shown_dirt = dirt
        return self.camera.render(int(size or self.render_size))

    # ---------------------------------------------------------------- the cycle
    def run_cycle(
        self,
        speed: float,
        care: float,
        tick: Callable[[float], None] | None = None,
        tick_period_s: float = 0.1,
        plan: CyclePlan | None = None,
    ) -> CycleResult:
        """Execute one dish cycle (pick, scrub, place) and return its one event: a unit or the first error."""
        speed, care = ACTION.parse((speed, care))  # MessageError (a ValueError) names the bad field
        if not tick_period_s > 0:
            raise ValueError(f"tick_period_s must be positive, got {tick_period_s!r}")
        plan = plan or plan_cycle(speed, care)
        self._speed, self._care = speed, care
        self._tick = tick
        self._tick_every = max(1, int(round(tick_period_s / DT)))
        self._next_tick = (self._ticks // self._tick_every + 1) * self._tick_every
        start = self.sim_time_s
        dish = self._dish
        self.attempts += 1
        try:
            self._pick(plan)
            self._scrub(plan)
            kind = self._place(plan)
        except _AttemptFailed as failure:
            kind = failure.kind
        event = WorkEvent(kind, self.sim_time_s, dish.index, dish.kind)
        self._phase = PHASE_IDLE
        if kind == "unit":
            self.units += 1
        else:
            self.errors_by_type[kind] += 1
            self._discard_dish()
        self._next_dish = self._draw_dish()
        self._spawn(self._next_dish)
        if kind != "unit":
            # clearing shards or a fallen dish takes the robot's time; the arm stands still, so the step may be coarse
            self._run(until=lambda k: False, watch=False, limit_s=self.site.error_recovery_s, mult=IDLE_STEP_MULT)
        self._tick = None
        return CycleResult([event], self.sim_time_s - start)

    def _pick(self, plan: CyclePlan) -> None:
        self._phase = PHASE_PICK
        d = self._dish
        spec = self.site.dish(d.kind)
        aim = (sc.STACK_XY[0] + plan.align_fraction * d.offset_xy[0],
               sc.STACK_XY[1] + plan.align_fraction * d.offset_xy[1])
        self._travel_to(aim, plan)
        self._wait(plan.align_s)
        top = sc.STACK_TOP + spec.height_m
        self._approach(top, plan, until_cup_contact=True)
        contact_tick = self._ticks
        self._wait(plan.vacuum_dwell_s, watch=True)  # the cup rests on the dish while the vacuum builds
        self._attach(plan, contact_tick)
        self._move_z(TRAVEL_Z, plan.travel_speed, plan, watch=True)

    def _scrub(self, plan: CyclePlan) -> None:
        self._phase = PHASE_SCRUB
        spec = self.site.dish(self._dish.kind)
        x0, y0 = sc.BRUSH_XY
        self._travel_to((x0 - STROKE_HALF_M, y0), plan)
        self._press(sc.BRUSH_TOP + spec.height_m, plan)
        self._last_x = p.getBasePositionAndOrientation(self._dish_id, **self._kw)[0][0]
        for k in range(plan.scrub_strokes):
            x = x0 + (STROKE_HALF_M if k % 2 == 0 else -STROKE_HALF_M)
            self._stroke(x, plan)
        self._move_z(TRAVEL_Z, plan.travel_speed, plan, watch=True)

    def _place(self, plan: CyclePlan) -> str:
        self._phase = PHASE_PLACE
        d = self._dish
        spec = self.site.dish(d.kind)
        cells = self.scene.cells[d.kind]
        slot = self._slot_next[d.kind] % len(cells)
        cell = cells[slot]
        aim = (cell.x + plan.aim_offset_xy[0], cell.y + plan.aim_offset_xy[1])
        self._travel_to(aim, plan, tolerance=plan.release_tolerance_m, settle_speed=plan.settle_speed)
        self._approach(sc.RACK_FLOOR + plan.release_height_m + spec.height_m, plan, settle_speed=plan.settle_speed)
        self._release()
        self._servo_z(TRAVEL_Z, plan.travel_speed, plan)
        self._settle_free_dish()
        kind = self._inspect(cell)
        if kind == "unit":
            self._rack_dish(d.kind, slot)
            self._slot_next[d.kind] += 1
        return kind

    # ---------------------------------------------------------------- motion primitives
    def _servo(self, joint: int, target: float, velocity: float, force: float, gain: float) -> None:
        self._servo_cmd[joint] = (target, velocity, force, gain)
        p.setJointMotorControl2(self.scene.arm, joint, p.POSITION_CONTROL, targetPosition=target, force=force,
                                maxVelocity=velocity, positionGain=gain, velocityGain=1.0, **self._kw)

    def _set_step(self, mult: int) -> None:
        """Change the physics step to mult·DT. PyBullet turns a servo's force limit into an impulse limit with the
        step current when the command is given, so every servo command is given again."""
        p.setPhysicsEngineParameter(fixedTimeStep=DT * mult, **self._kw)
        for joint, cmd in list(self._servo_cmd.items()):
            self._servo(joint, *cmd)

    def _z_force(self, plan: CyclePlan) -> float:
        """Force limit of the z servo: carry and accelerate the column and the dish (its mass is observed)."""
        payload = self._dish.mass_kg if self._seal is not None else 0.0
        return (sc.AXIS_MASS[2] + payload) * (9.81 + plan.accel) + Z_MARGIN_N

    def _travel_to(self, xy: tuple[float, float], plan: CyclePlan, tolerance: float = 0.003,
                   settle_speed: float = 0.05) -> None:
        """Move in x and y at travel height (z held), until within tolerance and slower than settle_speed."""
        self._servo(0, xy[0], plan.travel_speed, sc.AXIS_MASS[0] * plan.accel, plan.servo_gain)
        self._servo(1, xy[1], plan.travel_speed, sc.AXIS_MASS[1] * plan.accel, plan.servo_gain)
        self._servo_z(TRAVEL_Z, plan.travel_speed, plan)
        self._run(until=self._arrived_xy(xy, tolerance, settle_speed), watch=False, limit_s=30.0)

    def _servo_z(self, z: float, velocity: float, plan: CyclePlan) -> None:
        self._servo(2, z - sc.CUP_FACE_AT_ZERO, velocity, self._z_force(plan), plan.servo_gain)

    def _move_z(self, z: float, velocity: float, plan: CyclePlan, watch: bool) -> None:
        """Move the cup face to height z. With `watch`, contacts are checked only within WATCH_BAND_M of the low
        end of the move (where the dish meets the stack, the pad or the rack): higher up it touches nothing."""
        self._servo_z(z, velocity, plan)
        arrived = self._arrived_z(z, 0.003)
        start = self._cup_z()
        low = min(start, z) + WATCH_BAND_M
        if not watch:
            self._run(until=arrived, watch=False, limit_s=10.0)
        elif z < start:  # descending: unwatched until near the bottom
            self._run(until=lambda k: self._cup_z() < low or arrived(k), watch=False, limit_s=10.0)
            self._run(until=arrived, watch=True, limit_s=10.0)
        else:  # lifting off: watch until clear
            self._run(until=lambda k: self._cup_z() > low or arrived(k), watch=True, limit_s=10.0)
            self._run(until=arrived, watch=False, limit_s=10.0)

    def _approach(self, contact_z: float, plan: CyclePlan, until_cup_contact: bool = False,
                  settle_speed: float = 0.01) -> None:
        """Descend to `contact_z` (cup face): travel speed down to near_zone_m above it, then near_speed; done
        within 2 mm and slower than settle_speed, or (picking) as soon as the cup touches the dish."""
        self._move_z(contact_z + plan.near_zone_m, plan.travel_speed, plan, watch=True)
        self._servo_z(contact_z - (0.002 if until_cup_contact else 0.0), plan.near_speed, plan)
        self._run(until=self._arrived_z(contact_z, 0.002, settle_speed), watch=True, limit_s=10.0,
                  stop_on_cup_contact=until_cup_contact)
        if until_cup_contact:
            self._servo_z(self._cup_z(), plan.near_speed, plan)  # hold where it touched

    def _press(self, contact_z: float, plan: CyclePlan) -> None:
        """Lower the dish onto the pad and push: the servo aims below the pad, so the pad feels the weight of the
        column and the dish plus the servo's force limit, press_force_n."""
        self._move_z(contact_z + plan.near_zone_m, plan.travel_speed, plan, watch=True)
        self._servo(2, contact_z - PRESS_OVERTRAVEL_M - sc.CUP_FACE_AT_ZERO, plan.near_speed, plan.press_force_n,
                    plan.servo_gain)
        arm, kw = self.scene.arm, self._kw
        self._run(until=lambda _: abs(p.getJointState(arm, 2, **kw)[1]) < 0.002 and self._cup_z() < contact_z + 0.002,
                  watch=True, limit_s=10.0)
        # on the pad: a servo that aims for speed it cannot reach pushes at exactly its force limit
        self._servo(2, contact_z - PRESS_OVERTRAVEL_M - sc.CUP_FACE_AT_ZERO, PRESS_SERVO_SPEED, plan.press_force_n,
                    plan.servo_gain)

    def _stroke(self, x: float, plan: CyclePlan) -> None:
        # the x servo must also overcome the pad's friction on the pressed dish
        self._servo(0, x, plan.stroke_speed, sc.AXIS_MASS[0] * plan.accel + STROKE_FORCE_N, plan.servo_gain)
        self._run(until=self._arrived_x(x, 0.004), watch=True, limit_s=10.0, scrub=True)

    def _wait(self, seconds: float, watch: bool = False) -> None:
        if seconds > 0:
            self._run(until=lambda k: False, watch=watch, limit_s=seconds)

    # arrival predicates are checked every few steps on the joint states
    def _arrived_xy(self, xy: tuple[float, float], tol: float, vtol: float) -> Callable[[int], bool]:
        arm, kw = self.scene.arm, self._kw

        def done(_: int) -> bool:
            (qx, vx, _, _), (qy, vy, _, _) = p.getJointStates(arm, (0, 1), **kw)
            return math.hypot(qx - xy[0], qy - xy[1]) < tol and math.hypot(vx, vy) < vtol
        return done

    def _arrived_x(self, x: float, tol: float) -> Callable[[int], bool]:
        arm, kw = self.scene.arm, self._kw
        return lambda _: abs(p.getJointState(arm, 0, **kw)[0] - x) < tol

    def _arrived_z(self, z: float, tol: float, vtol: float = 0.05) -> Callable[[int], bool]:
        arm, kw, q = self.scene.arm, self._kw, z - sc.CUP_FACE_AT_ZERO

        def done(_: int) -> bool:
            qz, vz, _, _ = p.getJointState(arm, 2, **kw)
            return abs(qz - q) < tol and abs(vz) < vtol
        return done

    def _cup_z(self) -> float:
        return p.getJointState(self.scene.arm, 2, **self._kw)[0] + sc.CUP_FACE_AT_ZERO

    # ---------------------------------------------------------------- the stepping loop
    def _run(self, until: Callable[[int], bool], watch: bool, limit_s: float, scrub: bool = False,
             stop_on_cup_contact: bool = False, mult: int = 1) -> None:
        """Step the physics until `until(k)` holds (checked every CHECK_EVERY steps) or limit_s passes.

        While a dish is held: the seal check every SEAL_EVERY steps (every step on the pad). With `watch`: the
        dish's contacts every step (breakage, the cup touching the dish, the pad's scrub work). On the pad
        (`scrub`) the step is SCRUB_STEP_MULT times longer: the dish slides flat on the pad at a steady press and
        touches nothing else, which the coarser step resolves as well; `mult` coarsens idle waits likewise.
        """
        kw, step = self._kw, p.stepSimulation
        mult = SCRUB_STEP_MULT if scrub else mult
        if mult != 1:
            self._set_step(mult)
        limit = max(1, int(round(limit_s / (DT * mult))))
        seal_every = 1 if scrub else SEAL_EVERY
        k = 0
        while k < limit:
            step(**kw)
            k += 1
            self._ticks += mult
            if self._tick is not None and self._ticks >= self._next_tick:
                self._next_tick += self._tick_every
                self._tick(self.sim_time_s)
            if self._seal is not None and k % seal_every == 0:
                self._check_seal(seal_every * mult)
            if watch and self._dish_id is not None:
                if self._check_contacts(scrub, DT * mult) and stop_on_cup_contact:
                    break
            if k % CHECK_EVERY == 0 and until(k):
                break
        if mult != 1:
            self._set_step(1)
        self.physics_steps += k

    def _check_seal(self, ticks: int) -> None:
        fx, fy, fz = p.getConstraintState(self._seal, **self._kw)[:3]
        # getConstraintState reports the force on the cup; the dish feels its negative.
        a = 1.0 - math.exp(-ticks * DT / SEAL_FILTER_TAU_S)
        self._pull = (1 - a) * self._pull + a * (-fz)
        self._shear = (1 - a) * self._shear + a * math.hypot(fx, fy)
        held_s = (self._ticks - self._seal_tick) * DT
        vacuum = self._vacuum_setpoint * (1.0 - math.exp(-held_s / VACUUM_TAU_S))
        if (self._pull > vacuum + SEAL_SLACK_N
                or self._shear > self._dish.wet_friction * (vacuum - self._pull) + SEAL_SLACK_N):
            self._release()
            raise _AttemptFailed("dropped")

    def _check_contacts(self, scrub: bool, dt: float) -> bool:
        """Breakage from per-body contact impulses over the step `dt`; scrub work from the pad; True if the cup
        touches the dish."""
        per_body: dict[int, float] = {}
        cup_contact = False
        pad_force = 0.0
        brush, arm = self.scene.brush, self.scene.arm
        for c in p.getContactPoints(bodyA=self._dish_id, **self._kw):
            other, force = c[2], c[9]
            if other == brush:
                pad_force += force
                continue
            if other == arm:
                cup_contact = True
            per_body[other] = per_body.get(other, 0.0) + force
        if per_body and max(per_body.values()) * dt > self._break_impulse:
            raise _AttemptFailed("broken")
        if scrub:
            x = p.getBasePositionAndOrientation(self._dish_id, **self._kw)[0][0]
            if pad_force > 0:
                self._coverage += pad_force * abs(x - self._last_x)
            self._last_x = x
        return cup_contact

    def _settle_free_dish(self) -> None:
        """After release: step until the dish rests, watching for breakage and for it leaving the counter."""
        kw, dish = self._kw, self._dish_id

        def at_rest(_: int) -> bool:
            (x, y, z), _ = p.getBasePositionAndOrientation(dish, **kw)
            (bx, by) = sc.WORKCELL_BOUNDS
            if not (bx[0] < x < bx[1] and by[0] < y < by[1]) or z < sc.COUNTER_TOP - 0.05:
                raise _AttemptFailed("dropped")
            v, w = p.getBaseVelocity(dish, **kw)
            return math.hypot(*v) < 0.01 and math.hypot(*w) < 0.2
        self._run(until=at_rest, watch=True, limit_s=SETTLE_MAX_S)

    def _inspect(self, cell: sc.Cell) -> str:
        (x, y, z), orn = p.getBasePositionAndOrientation(self._dish_id, **self._kw)
        qx, qy = orn[0], orn[1]
        tilt = math.acos(max(-1.0, min(1.0, 1.0 - 2.0 * (qx * qx + qy * qy))))
        spec = self.site.dish(self._dish.kind)
        seated_z = sc.RACK_FLOOR + spec.height_m / 2
        if (math.hypot(x - cell.x, y - cell.y) > sc.RACK_CLEARANCE + 0.002 or tilt > SEAT_TILT_RAD
                or abs(z - seated_z) > 0.004):
            return "misplaced"
        if self._remaining_dirt() > CLEAN_TOLERANCE:
            return "dirty"
        return "unit"

    # ---------------------------------------------------------------- suction
    def _attach(self, plan: CyclePlan, contact_tick: int) -> None:
        """Seal the cup on the dish: from here the dish rides on a fixed constraint whose force the seal must bear;
        the vacuum has been building since the cup touched the dish at `contact_tick`."""
        kw, arm, dish = self._kw, self.scene.arm, self._dish_id
        com = p.getLinkState(arm, sc.CUP_LINK, **kw)[0]  # constraint frames are relative to the link's COM
        pos, orn = p.getBasePositionAndOrientation(dish, **kw)
        p.setCollisionFilterPair(arm, dish, sc.CUP_LINK, -1, 0, **kw)
        # in play the dish must never fall asleep (a sleeping dish would hang in the air after release)
        p.changeDynamics(dish, -1, activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, **kw)
        self._seal = p.createConstraint(arm, sc.CUP_LINK, dish, -1, p.JOINT_FIXED, (0, 0, 0),
                                        [pos[i] - com[i] for i in range(3)], (0, 0, 0),
                                        parentFrameOrientation=orn, **kw)
        self._seal_tick = contact_tick
        self._vacuum_setpoint = plan.vacuum_setpoint_n
        self._pull = 0.0  # the dish still rests on the stack
        self._shear = 0.0

    def _release(self) -> None:
        if self._seal is not None:
            p.removeConstraint(self._seal, **self._kw)
            self._seal = None

    # ---------------------------------------------------------------- dishes
    def _draw_dish(self) -> Dish:
        rng, site = self._rng, self.site
        w = np.array([site.mix.plate, site.mix.bowl, site.mix.glass], dtype=float)
        kind = DISH_TYPES[int(rng.choice(3, p=w / w.sum()))]
        spec = site.dish(kind)
        offset = np.clip(rng.normal(0.0, site.pose_noise_m, size=2), -3 * site.pose_noise_m, 3 * site.pose_noise_m)
        dish = Dish(self._dish_count, kind, float(rng.uniform(*spec.mass_kg)), float(rng.uniform(*spec.wet_friction)),
                    float(rng.uniform(*spec.dirt)), (float(offset[0]), float(offset[1])))
        self._dish_count += 1
        return dish

    def _spawn(self, dish: Dish) -> None:
        kw, spec = self._kw, self.site.dish(dish.kind)
        pos = (sc.STACK_XY[0] + dish.offset_xy[0], sc.STACK_XY[1] + dish.offset_xy[1], sc.STACK_TOP + spec.height_m / 2)
        self._dish = dish
        self._dish_id = p.createMultiBody(dish.mass_kg, self.scene.dish_collision[dish.kind],
                                          self.scene.dish_visual[dish.kind], pos, **kw)
        p.changeDynamics(self._dish_id, -1, lateralFriction=dish.wet_friction, restitution=spec.restitution,
                         spinningFriction=0.002, rollingFriction=0.0005,
                         activationState=p.ACTIVATION_STATE_ENABLE_SLEEPING, **kw)  # asleep on the stack: free
        self._break_impulse = spec.break_impulse_ns
        self._coverage = 0.0
        self._shown_dirt = -1.0

    def _discard_dish(self) -> None:
        self._release()
        if self._dish_id is not None:
            p.removeBody(self._dish_id, **self._kw)
            self._dish_id = None

    def _rack_dish(self, kind: str, slot: int) -> None:
        """A seated dish becomes visual-only: it shows in the camera but costs the solver nothing."""
        kw = self._kw
        pos, orn = p.getBasePositionAndOrientation(self._dish_id, **kw)
        old = self._racked.pop((kind, slot), None)
        if old is not None:
            p.removeBody(old, **kw)  # the full rack was swapped for an empty one
        p.removeBody(self._dish_id, **kw)
        self._dish_id = None
        self._racked[(kind, slot)] = p.createMultiBody(0, -1, self.scene.dish_visual[kind], pos, orn, **kw)

    def _remaining_dirt(self) -> float:
        return max(0.0, self._dish.dirt - self._coverage / self.site.dish(self._dish.kind).scrub_work_j)

    def _home_arm(self) -> None:
        arm, kw = self.scene.arm, self._kw
        self._servo_cmd: dict[int, tuple[float, float, float, float]] = {}
        home = (sc.RACK_X0, 0.0, TRAVEL_Z - sc.CUP_FACE_AT_ZERO)
        for j, q in enumerate(home):
            p.resetJointState(arm, j, q, **kw)
            self._servo(j, q, 0.1, 100.0, 0.1)
