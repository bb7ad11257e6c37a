"""Alignment of recorded messages into transitions (v2p.learning.transitions): one transition per control step,
rewards consistent with the economics monitor, λ carried across shifts, bad messages skipped and counted."""

from __future__ import annotations

import math

import numpy as np

from recorded_streams import CFG, DIM, LAMBDA_TOPIC, Stream
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.sla import lagrangian_reward
from v2p.learning import Record, align_transitions
from v2p.task import topics
from v2p.task.dishwashing import EVENTS
from v2p.task.events import SimEvent


def monitor_figures(stream: Stream) -> list:
    monitor = EconomicsMonitor(CFG)
    out = []
    for rec in stream.records:
        if rec.topic == topics.SIM_EVENTS:
            result = monitor.on_event(SimEvent.from_array(rec.values, EVENTS))
            if result is not None:
                out.append(result)
    return out


def test_each_control_step_becomes_one_transition_with_the_action_that_followed_it():
    s = Stream()
    s.episode(0, ["unit", "unit", "dropped", "unit"])
    tr = align_transitions(s.records, CFG)
    latents = [r.values for r in s.records if r.topic == topics.LATENT]
    actions = [r.values for r in s.records if r.topic == topics.ACTION]
    assert len(tr) == 4 and tr.episodes == 1
    np.testing.assert_allclose(tr.obs, np.array(latents, np.float32))
    np.testing.assert_allclose(tr.action, np.array(actions, np.float32))
    np.testing.assert_allclose(tr.next_obs[:3], tr.obs[1:])
    assert tr.done.tolist() == [0, 0, 0, 1]


def test_rewards_of_a_shift_sum_to_the_monitors_lagrangian_reward_scaled_by_hours():
    s = Stream()
    s.episode(0, ["unit", "broken", "unit", "dirty", "unit"], shift_hours=0.01)
    s.add(LAMBDA_TOPIC, [123.0])  # what the recorded topic says does not matter: the events decide λ
    s.episode(1, ["unit", "misplaced", "unit"], shift_hours=0.01)
    tr = align_transitions(s.records, CFG)
    figures = monitor_figures(s)
    ends = np.flatnonzero(tr.done)
    assert len(ends) == 2
    per_episode = [tr.reward[: ends[0] + 1].sum(), tr.reward[ends[0] + 1:].sum()]
    in_force = [0.0, figures[0].lam]  # λ starts at 0; shift 1 runs on the λ shift 0's errors raised
    assert figures[0].lam > 0
    for total, ep, lam in zip(per_episode, figures, in_force):
        r = lagrangian_reward(ep.profit, ep.err_rate, ep.error_target, lam)
        assert math.isclose(total, ep.hours / 0.01 * r, rel_tol=1e-5, abs_tol=1e-4)
    # the broken dish costs: its step's reward is below that of the unit before it
    assert tr.reward[1] < tr.reward[0]


def test_an_earlier_sla_breach_prices_the_next_shift_through_lambda():
    def last_shift_rewards(history: list[list[str]]) -> np.ndarray:
        s = Stream()
        for n, outcomes in enumerate(history):
            s.episode(n, outcomes)
        s.episode(len(history), ["dropped", "unit", "broken"])
        tr = align_transitions(s.records, CFG)
        return tr.reward[-3:]

    clean = last_shift_rewards([["unit", "unit", "unit"]])
    breached = last_shift_rewards([["dropped", "broken", "unit"]])
    # same last shift, err 2/3 > e*: after a breach λ > 0 charges it, after a clean shift λ stays 0
    assert breached.sum() < clean.sum()


def test_bad_messages_are_skipped_and_counted_and_a_resent_observation_supersedes():
    s = Stream()
    s.episode(0, ["unit", "unit"])
    recs = list(s.records)
    first_latent = next(i for i, r in enumerate(recs) if r.topic == topics.LATENT)
    bad = [Record(recs[first_latent].timestamp_ns, topics.LATENT, (float("nan"),) * DIM),
           Record(recs[first_latent].timestamp_ns, topics.ACTION, (1.5, 0.2)),
           Record(recs[first_latent].timestamp_ns, topics.SIM_EVENTS, (0.0, 99.0, 1.0, 0.0, 0.0, 0.0)),
           Record(recs[first_latent].timestamp_ns, topics.LATENT, (0.5,) * DIM)]  # unanswered: superseded
    tr = align_transitions(recs[:first_latent] + bad + recs[first_latent:], CFG)
    assert len(tr) == 2
    assert tr.skipped == {"bad observation": 1, "bad action": 1, "bad event": 1}
    np.testing.assert_allclose(tr.obs[0], recs[first_latent].values)
