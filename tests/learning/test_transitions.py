"""Alignment of recorded messages into transitions (v2p.learning.transitions): one transition per control step,
rewards stored in parts consistent with the economics monitor and priced with the recording's current λ and going
rate, bad messages skipped and counted."""

from __future__ import annotations

import math

import numpy as np

from recorded_streams import CFG, DIM, LAMBDA_TOPIC, Stream
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.reward import going_rate, reward_weights
from v2p.learning import Record, TransitionStream, align_transitions
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


def test_reward_parts_of_a_shift_sum_to_the_monitors_figures():
    s = Stream()
    s.episode(0, ["unit", "broken", "unit", "dirty", "unit"], shift_hours=0.01)
    s.add(LAMBDA_TOPIC, [123.0])  # what the recorded topic says does not matter: the events decide λ
    s.episode(1, ["unit", "misplaced", "unit"], shift_hours=0.01)
    tr = align_transitions(s.records, CFG)
    figures = monitor_figures(s)
    ends = np.flatnonzero(tr.done)
    assert len(ends) == 2
    for part, ep in zip(np.split(tr.parts, [ends[0] + 1]), figures):
        value, time, error_time = part.sum(0)
        # value over the planned shift hours: ŵ_r·hours / shift_hours, the monitor's own wage
        assert math.isclose(value, ep.implied_wage * ep.hours / 0.01, rel_tol=1e-5)
        assert math.isclose(time, ep.hours / 0.01, rel_tol=1e-5)
        assert 0 < error_time < time  # only the failed cycles' time carries errors
    # priced with any going rate and λ, the broken dish's step earns less than the unit before it
    for weights in (reward_weights(18.0, 0.0, 0.06), reward_weights(40.0, 25.0, 0.06)):
        rewards = tr.reward(weights)
        assert rewards[1] < rewards[0]


def test_an_earlier_sla_breach_prices_every_stored_shift_through_the_current_lambda():
    def stream_after(history: list[list[str]]) -> TransitionStream:
        s = Stream()
        for n, outcomes in enumerate(history):
            s.episode(n, outcomes)
        stream = TransitionStream(CFG)
        stream.feed_all(s.records)
        return stream

    clean, breached = stream_after([["unit", "unit", "unit"]]), stream_after([["dropped", "broken", "unit"]])
    # after a breach λ > 0 charges errors; after a clean shift λ stays 0
    assert clean.replay.dual.lam == 0.0 < breached.replay.dual.lam
    for stream in (clean, breached):
        rolling = stream.replay.rolling()["implied_wage"]
        assert stream.weights() == reward_weights(going_rate(rolling, CFG), stream.replay.dual.lam,
                                                  stream.replay.dual.target)
    # the same stored shift (with errors), priced at one going rate: the breach's λ makes it cost more
    shift = stream_after([["dropped", "unit", "broken"]]).take()
    rate = 30.0
    assert (shift.reward(reward_weights(rate, breached.replay.dual.lam, CFG.sla.error_target)).sum()
            < shift.reward(reward_weights(rate, 0.0, CFG.sla.error_target)).sum())


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
