"""Cycle planning: `CyclePlan`, the concrete motion of one dish cycle, and `plan_cycle`, the action's map onto it."""

from __future__ import annotations

from dataclasses import dataclass


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
