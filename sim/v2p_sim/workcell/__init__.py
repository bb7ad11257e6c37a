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

Modules: `plan` (CyclePlan, plan_cycle), `physics` (the client, DT, the clock and its tick callback), `gantry`
(servos, motion primitives, the stepping loop), `failures` (seal, breakage, settling, inspection), `dishes`
(drawing, spawning, racking, remaining dirt), `cell` (the Workcell: a shift's counts, observations, the cycle).
"""

from v2p_sim.workcell.cell import Workcell
from v2p_sim.workcell.plan import CyclePlan, plan_cycle

__all__ = ["CyclePlan", "Workcell", "plan_cycle"]
