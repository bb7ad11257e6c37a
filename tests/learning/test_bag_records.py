"""Reading bags for the learner (v2p.learning.bag_records): a bag written by v2p.bags reads back into the records
and transitions of the stream it recorded."""

from __future__ import annotations

import numpy as np

from recorded_streams import CFG, LAMBDA_TOPIC, Stream, write_bag
from v2p.learning import align_transitions, bag_records, transitions_from_bag


def test_a_bag_written_by_v2p_bags_reads_back_into_the_same_transitions(tmp_path):
    s = Stream()
    s.episode(0, ["unit", "dropped", "unit"])
    s.add(LAMBDA_TOPIC, [0.25])
    s.episode(1, ["unit", "unit"])
    write_bag(tmp_path / "rec", s)
    records = bag_records(tmp_path / "rec")
    assert [r.topic for r in records] == [r.topic for r in s.records if r.topic != LAMBDA_TOPIC]
    from_bag = transitions_from_bag(tmp_path / "rec", CFG)
    direct = align_transitions(s.records, CFG)
    np.testing.assert_allclose(from_bag.obs, direct.obs, rtol=1e-6)
    np.testing.assert_allclose(from_bag.action, direct.action, rtol=1e-6)
    np.testing.assert_allclose(from_bag.parts, direct.parts, rtol=1e-5, atol=1e-6)
    assert from_bag.done.tolist() == direct.done.tolist()
