"""Reading a bag for the learner: the messages it aligns (`bag_records`) and a bag's transitions
(`transitions_from_bag`). The alignment itself is `v2p.learning.transitions`; this module only reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2p.config import EconomicsConfig
from v2p.learning.transitions import LATENT_INPUT, Record, Transitions, align_transitions
from v2p.task.observation import PolicyInput
from v2p.task import topics


def _values(topic: str, msg: object) -> tuple[float, ...]:
    if topic == topics.CLOCK:
        clock = msg.clock  # type: ignore[attr-defined]
        return (clock.sec + clock.nanosec * 1e-9,)
    data = msg.data  # type: ignore[attr-defined]
    if isinstance(data, (int, float)):
        return (float(data),)
    return tuple(float(v) for v in np.asarray(data, dtype=np.float64).reshape(-1))


def bag_records(bag: Path | str, policy_input: PolicyInput = LATENT_INPUT) -> list[Record]:
    """The messages of one bag that the learner reads, in log-time order. BagError names a bad bag."""
    from v2p.bags import read_bag

    wanted = (*policy_input.topics, topics.ACTION, topics.SIM_EVENTS, topics.CLOCK)
    return [Record(m.timestamp_ns, m.topic, _values(m.topic, m.data)) for m in read_bag(bag, topics=wanted)]


def transitions_from_bag(bag: Path | str, cfg: EconomicsConfig, policy_input: PolicyInput = LATENT_INPUT
                         ) -> Transitions:
    """The transitions of one bag on its own (an episode it leaves open keeps its inner steps)."""
    return align_transitions(bag_records(bag, policy_input), cfg, policy_input)
