"""The `Workcell`: a shift of dish cycles (pick, scrub, place), one per action, in its own physics client; its
counts, its observations (state vector, ground truth, camera frames) and the cycle's script.

The collaborators it builds at each reset: the scene and camera (`v2p_sim.scene`), the clock and the gantry
(`physics`, `gantry`), the stack of the shift's dishes, the dish in play and the rack (`dishes`); what goes
wrong is detected in `failures`.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from v2p.task.base import CycleResult, WorkEvent
from v2p.task.dishwashing import ACTION, ERROR_KINDS, STATE
from v2p_sim import scene as sc
from v2p_sim.site import SiteConfig, load_site
from v2p_sim.workcell.dishes import DishInPlay, DishStack, Rack
from v2p_sim.workcell.failures import SETTLE_MAX_S, AttemptFailed, at_rest, inspect
from v2p_sim.workcell.gantry import TRAVEL_Z, Gantry
from v2p_sim.workcell.physics import Clock, Physics
from v2p_sim.workcell.plan import CyclePlan, plan_cycle

STROKE_HALF_M = 0.05             # scrub stroke: ±5 cm along x around the pad's centre
PHASE_IDLE, PHASE_PICK, PHASE_SCRUB, PHASE_PLACE = 0, 1, 2, 3  # aux_state's arm_phase


class Workcell:
    """The PyBullet dishwashing scene in its own physics client (several may coexist in one process)."""

    def __init__(self, site: SiteConfig | str, seed: int, render_size: int = 64) -> None:
        self.site = load_site(site)
        self.render_size = int(render_size)
        self.shift_hours = self.site.shift_hours  # the env may set a different shift length
        self.physics = Physics()
        self.seed = int(seed)
        self.reset()

    # ---------------------------------------------------------------- shift
    def reset(self, seed: int | None = None) -> None:
        """Start a new shift: rebuild the scene (so a seed replays exactly) and draw the shift's dishes."""
        if seed is not None:
            self.seed = int(seed)
        self.physics.reset_world()
        self.scene = sc.build_scene(self.physics.client, self.site)
        self.camera = sc.Camera(self.physics.client)
        self.stack = DishStack(self.site, self.seed)
        self.rack = Rack(self.scene, self.physics.kw)
        self.clock = Clock()
        self.units = 0
        self.attempts = 0
        self.errors_by_type = {k: 0 for k in ERROR_KINDS}
        self.phase = PHASE_IDLE
        self.last_action = (0.0, 0.0)  # (speed, care) of the previous cycle
        self.lift_load_n = 0.0  # what the suction cup felt after the previous cycle's lift (0: it held nothing)
        self.gantry = Gantry(self.physics, self.clock, self.scene)
        self.gantry.home()
        self.in_play = DishInPlay.spawn(self.stack.draw(), self.scene, self.site, self.physics.kw)  # the next dish

    def close(self) -> None:
        self.physics.close()

    def set_aside_dish(self) -> None:
        """Take the next dish off the stack unworked and put the one after it in play: no attempt, no event, no
        time (collecting encoder frames: many dishes seen in one scene for the cost of one cycle)."""
        self.in_play.remove()
        self.in_play = DishInPlay.spawn(self.stack.draw(), self.scene, self.site, self.physics.kw)

    @property
    def physics_steps(self) -> int:
        """Physics steps over the Workcell's lifetime (benchmarks)."""
        return self.physics.steps

    @property
    def sim_time_s(self) -> float:
        return self.clock.sim_time_s

    @property
    def shift_done(self) -> bool:
        return self.sim_time_s >= self.shift_hours * 3600.0

    @property
    def errors(self) -> int:
        return sum(self.errors_by_type.values())

    # ---------------------------------------------------------------- observations
    def state_vector(self) -> np.ndarray:
        """The state of `v2p.task.dishwashing.STATE` (its field list documents each value), float32, clipped."""
        d = self.in_play.dish
        hours = self.sim_time_s / 3600.0
        speed, care = self.last_action
        return STATE.vector({
            "dish_is_plate": d.kind == "plate", "dish_is_bowl": d.kind == "bowl", "dish_is_glass": d.kind == "glass",
            "dish_mass_kg": d.mass_kg, "dish_wet_friction": d.wet_friction, "dish_dirt": d.dirt,
            "dish_offset_cm": 100.0 * math.hypot(*d.offset_xy),
            "shift_progress": self.sim_time_s / (self.shift_hours * 3600.0),
            "shift_error_rate": self.errors / self.attempts if self.attempts else 0.0,
            "shift_mp": (self.units / hours / 100.0) if hours > 0 else 0.0,
            "last_speed": speed, "last_care": care,
            "dish_soil_shown": self.in_play.soil_shown(), "lift_load_n": self.lift_load_n,
        })

    def aux_state(self) -> dict:
        """Ground truth at this instant, for encoder training."""
        speed, care = self.last_action
        return {
            "dish_dirt": self.in_play.remaining_dirt(),
            "dish_held": self.gantry.seal is not None,
            "arm_phase": self.phase,
            "speed": speed,
            "care": care,
        }

    def render_rgb(self, size: int | None = None) -> np.ndarray:
        """One frame (H, W, 3) uint8 from the fixed camera; the dish in play shows its remaining dirt."""
        self.in_play.show_dirt()
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
        """Execute one dish cycle (pick, scrub, place) and return its one event: a unit or the first error.

        `tick(sim_time_s)` is called every `tick_period_s` of sim time while the cycle runs; `plan` replaces
        plan_cycle(speed, care) (scripted scenarios)."""
        speed, care = ACTION.parse((speed, care))  # MessageError (a ValueError) names the bad field
        if not tick_period_s > 0:
            raise ValueError(f"tick_period_s must be positive, got {tick_period_s!r}")
        plan = plan or plan_cycle(speed, care)
        self.last_action = (speed, care)
        self.lift_load_n = 0.0  # until this cycle's lift
        self.clock.start_cycle(tick, tick_period_s)
        start = self.sim_time_s
        dish = self.in_play
        self.attempts += 1
        try:
            self._pick(dish, plan)
            self._scrub(dish, plan)
            kind = self._place(dish, plan)
        except AttemptFailed as failure:
            kind = failure.kind
        event = WorkEvent(kind, self.sim_time_s, dish.dish.index, dish.dish.kind)
        self.phase = PHASE_IDLE
        if kind == "unit":
            self.units += 1
        else:
            self.errors_by_type[kind] += 1
            self.gantry.release()
            dish.remove()
        self.in_play = DishInPlay.spawn(self.stack.draw(), self.scene, self.site, self.physics.kw)
        if kind != "unit":
            # clearing shards or a fallen dish takes the robot's time; the arm stands still, so the step may be coarse
            self.gantry.stand_by(self.site.error_recovery_s)
        self.clock.end_cycle()
        return CycleResult([event], self.sim_time_s - start)

    def _pick(self, dish: DishInPlay, plan: CyclePlan) -> None:
        """Align over the dish's stack offset (as far as care corrects it), touch down, dwell while the vacuum
        builds, seal and lift."""
        self.phase = PHASE_PICK
        gantry, d = self.gantry, dish.dish
        aim = (sc.STACK_XY[0] + plan.align_fraction * d.offset_xy[0],
               sc.STACK_XY[1] + plan.align_fraction * d.offset_xy[1])
        gantry.travel_to(aim, plan)
        gantry.wait(plan.align_s)
        gantry.approach(sc.STACK_TOP + dish.spec.height_m, plan, dish, until_cup_contact=True)
        contact_tick = self.clock.ticks
        gantry.wait(plan.vacuum_dwell_s, watch=dish)  # the cup rests on the dish while the vacuum builds
        gantry.attach(dish, plan, contact_tick)
        gantry.move_z(TRAVEL_Z, plan.travel_speed, plan, dish)
        self.lift_load_n = gantry.seal.pull  # the load cell of the cup, read once the dish hangs at travel height

    def _scrub(self, dish: DishInPlay, plan: CyclePlan) -> None:
        """Press the dish on the pad and stroke it back and forth, then lift."""
        self.phase = PHASE_SCRUB
        gantry = self.gantry
        x0, y0 = sc.BRUSH_XY
        gantry.travel_to((x0 - STROKE_HALF_M, y0), plan)
        gantry.press(sc.BRUSH_TOP + dish.spec.height_m, plan, dish)
        dish.start_scrub()
        for k in range(plan.scrub_strokes):
            gantry.stroke(x0 + (STROKE_HALF_M if k % 2 == 0 else -STROKE_HALF_M), plan, dish)
        gantry.move_z(TRAVEL_Z, plan.travel_speed, plan, dish)

    def _place(self, dish: DishInPlay, plan: CyclePlan) -> str:
        """Over the dish's rack cell, descend to the release height, let go, and inspect it once at rest."""
        self.phase = PHASE_PLACE
        gantry = self.gantry
        slot, cell = self.rack.next_cell(dish.dish.kind)
        aim = (cell.x + plan.aim_offset_xy[0], cell.y + plan.aim_offset_xy[1])
        gantry.travel_to(aim, plan, tolerance=plan.release_tolerance_m, settle_speed=plan.settle_speed)
        gantry.approach(sc.RACK_FLOOR + plan.release_height_m + dish.spec.height_m, plan, dish,
                        settle_speed=plan.settle_speed)
        gantry.release()
        gantry.servo_z(TRAVEL_Z, plan.travel_speed, plan)
        gantry.run(until=at_rest(dish), watch=dish, limit_s=SETTLE_MAX_S)  # the free dish settles
        kind = inspect(dish, cell)
        if kind == "unit":
            self.rack.rack(dish, slot)
        return kind
