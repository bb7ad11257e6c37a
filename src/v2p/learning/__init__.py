"""Learning from recordings, without ROS: bags -> transitions -> SAC updates -> checkpoint versions.

- `v2p.learning.transitions`: recorded messages aligned into SAC transitions, as pure code (`Record`,
  `Transitions`, `TransitionStream`, `align_transitions`).
- `v2p.learning.bag_records`: the messages of a bag that the alignment reads (`bag_records`, `transitions_from_bag`).
- `v2p.learning.versions`: the checkpoint-versions layout (`update_<N>/` + the atomic `latest` symlink):
  `CheckpointVersions`, `resolve_checkpoint`, a version's `content_hash`.
- `v2p.learning.announcement`: what /learner/checkpoint carries (path, content hash, episodes, bags), its codec and
  the checks before a follower loads one (`verified_checkpoint`).
- `v2p.learning.learner`: the bag learner (`BagLearner`, `learn`, `LearnReport`) and its logger "v2p.learning"
  (`print_log` prints it).
"""

from v2p.learning.bag_records import bag_records, transitions_from_bag
from v2p.learning.learner import BagLearner, LearnReport, learn, print_log
from v2p.learning.transitions import Record, Transitions, TransitionStream, align_transitions
from v2p.learning.versions import CheckpointVersions, resolve_checkpoint

__all__ = ["BagLearner", "CheckpointVersions", "LearnReport", "Record", "TransitionStream", "Transitions",
           "align_transitions", "bag_records", "learn", "print_log", "resolve_checkpoint", "transitions_from_bag"]
