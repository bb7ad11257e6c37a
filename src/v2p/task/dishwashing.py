"""The dishwashing task: its dishes, its action (speed, care), its error kinds, its state layout (and the robot's
own part of it), what the policy may act on (`POLICY_INPUTS`), its SAC preset.

The simulator (`v2p_sim`), the nodes, the learners and the experiments import these; none restates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from v2p.rl.config import SACConfig
from v2p.task.action import ActionSpec
from v2p.task.base import Cell
from v2p.task.events import EventVocabulary
from v2p.task import topics
from v2p.task.observation import (OBSERVABLE_SOURCES, ROBOT_SOURCES, SOURCES, ObservationField, ObservationLayout,
                                  PolicyInput)

DISH_TYPES = ("plate", "bowl", "glass")
ERROR_KINDS = ("dropped", "broken", "dirty", "misplaced")  # detected from the physics (v2p_sim.workcell)

# One action per dish cycle: speed scales velocities, accelerations and scrub time; care buys margins with time.
ACTION = ActionSpec(fields=("speed", "care"), low=(0.0, 0.0), high=(1.0, 1.0),
                    safe=(0.2, 1.0))  # slow and as careful as it gets: what a robot does without a valid action
EVENTS = EventVocabulary(error_kinds=ERROR_KINDS, item_types=DISH_TYPES)

_F = ObservationField
# The workcell's state vector, in order (v2p_sim.Workcell.state_vector fills it by these names).
STATE = ObservationLayout((
    _F("dish_is_plate", 0.0, 1.0, "camera", "next dish is a plate (0/1); the next dish is on the stack, or in hand"),
    _F("dish_is_bowl", 0.0, 1.0, "camera", "next dish is a bowl (0/1)"),
    _F("dish_is_glass", 0.0, 1.0, "camera", "next dish is a glass (0/1)"),
    _F("dish_mass_kg", 0.0, 5.0, "simulator", "next dish mass (kg)"),
    _F("dish_wet_friction", 0.0, 2.0, "simulator",
       "next dish wet friction coefficient (also the suction seal's friction)"),
    _F("dish_dirt", 0.0, 1.0, "simulator", "next dish dirt level (0 clean .. 1 needs the dish type's full scrub work)"),
    _F("dish_offset_cm", 0.0, 10.0, "camera", "next dish offset from its nominal stack pose (cm)"),
    _F("shift_progress", 0.0, 2.0, "bookkeeping", "shift progress: sim time / shift length"),
    _F("shift_error_rate", 0.0, 1.0, "bookkeeping",
       "running error rate of this shift (errors / attempts, 0 before the first attempt)"),
    _F("shift_mp", 0.0, 10.0, "bookkeeping", "running MP of this shift (clean dishes per sim hour / 100)"),
    _F("last_speed", 0.0, 1.0, "proprioception", "speed of the previous cycle"),
    _F("last_care", 0.0, 1.0, "proprioception", "care of the previous cycle"),
    # appended, so the fields above keep their indices
    _F("dish_soil_shown", 0.0, 1.0, "camera",
       "the soil the camera shows on the next dish: its tint's share of the soil colour, min(1, 1.5 * dirt) with the "
       "dirt to two decimals (render_rgb's tint)"),
    _F("lift_load_n", 0.0, 20.0, "proprioception",
       "load the suction cup felt once it had lifted the previous dish (N, the seal's low-passed pull; 0 when it "
       "held none)"),
))
# What the robot knows of itself (its sensors, its commands, its counts and clock): /robot/state, published by the
# sim node before each /sim/state, and on a robot by its driver.
ROBOT_STATE = STATE.select(ROBOT_SOURCES)

# What the policy may act on, by mode: the same live (policy node) and recorded (the learner reads bags by it).
DEFAULT_OBSERVATION = "video"
POLICY_INPUTS = {
    "video": PolicyInput(
        topics.LATENT, robot_state=topics.ROBOT_STATE, robot_state_dim=ROBOT_STATE.dim, sources=OBSERVABLE_SOURCES,
        doc="the video encoder's latent of the camera frames, then the newest /robot/state: only what a robot senses"),
    "latent": PolicyInput(
        topics.LATENT, sources=SOURCES,
        doc="the encoder's latent alone; with encoder:=mlp it encodes the whole /sim/state: privileged"),
    "observable_state": PolicyInput(
        topics.SIM_STATE, fields=STATE.positions(OBSERVABLE_SOURCES), sources=OBSERVABLE_SOURCES,
        doc="the /sim/state fields a robot could sense (camera, proprioception, bookkeeping), exactly"),
    "oracle_state": PolicyInput(
        topics.SIM_STATE, sources=SOURCES,
        doc="the simulator's whole state, with each dish's exact mass, friction and dirt: privileged, for comparison"),
}

# The learner's preset (`v2p train`, the learner node, `v2p learn` and the attribution pair start from it; change it
# with dataclasses.replace). Each dish cycle's reward charges the cycle's time at the going rate, so it is complete
# on its own (Dinkelbach, see v2p.economics.reward): γ = 0, a critic that regresses the cycle's reward without
# bootstrapping, read by the actor as the mean of a 5-critic ensemble (measured steadier than the minimum of two,
# which backs away from the error cliffs the best operating points sit next to). Rewards are stored in their three
# parts and priced with today's λ and ρ. A slow simulator (a dish cycle costs far more than an update): several
# updates per cycle; α starts at 0.1 so the entropy bonus does not swamp the economics, and a low target entropy
# keeps the deployed mean near the sharp optimum.
SAC_PRESET = SACConfig(learning_starts=64, batch_size=256, buffer_size=200_000, gradient_steps=4,
                       ent_coef="auto_0.1", gamma=0.0, critics=5, critic_aggregate="mean", target_entropy=-6.0,
                       reward_parts=3)  # the parts of v2p.economics.reward.REWARD_PARTS


@dataclass(frozen=True)
class Dishwashing:
    """The dishwashing task (see `v2p.task.base.Task`)."""

    name: str = "dishwashing"
    action: ActionSpec = ACTION
    events: EventVocabulary = EVENTS
    observation: ObservationLayout = STATE
    sac: SACConfig = SAC_PRESET

    def make_cell(self, site: Any = "default", seed: int = 0, render_size: int = 64) -> Cell:
        from v2p_sim.workcell import Workcell  # the simulator imports this module: import it only when asked

        return Workcell(site, seed, render_size=render_size)


DISHWASHING = Dishwashing()
