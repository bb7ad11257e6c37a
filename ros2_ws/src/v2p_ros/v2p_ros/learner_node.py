"""learner_node: watch a recording folder, train SAC on the closed bags, announce each checkpoint.

Every `poll_period_s` (wall time: the learner also runs where no /clock exists) it lists the bags under
`record_dir`; each bag closed since (its metadata.yaml written) goes through `v2p.learning.BagLearner`: its messages
become transitions in the replay buffer. Training follows the replay ratio: the checkpoint's SAC updates are kept
at `updates_per_transition` × the transitions in the buffer, paid in rounds of at most `updates_per_round`, so
new bags join between rounds and a slow machine falls behind without piling work on one bag. After each round the
checkpoint directory is written (weights, then the metadata that commits them) and announced on /learner/checkpoint
(std_msgs/String, transient-local, so a policy node that starts later still gets it): a `v2p.learning.announcement`
JSON document with the version's path, content hash and the episodes and bags it has trained on.
A corrupt or truncated bag is logged with its name and skipped. A restarted learner resumes from `checkpoint`.
The learner's `logging` records (logger "v2p.learning") go to this node's rclpy logger at their level.
With `once`, it pays every update the bags present at start-up are owed, announces, and exits 0.

With `sync` (sim.launch.yaml `sync_learner:=true`, the recorder splitting at each episode end) training is tied to
the bags, not to wall time: every `sync_poll_period_s` it takes the bags closed since, one at a time in name order,
and for each pays at once every update the replay ratio then owes (`BagLearner.learn_bag`), saves a version and
announces it with `last_episode`, the episode the bag ended; a bag owing no update re-announces the current version
through its episode. Torch runs on one thread with deterministic algorithms, so with one seed and one bag order the
versions are the same bytes on every run. The sim waits for that announcement (as loaded by the policy) at each
shift's end.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path

from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from std_msgs.msg import String

from v2p.errors import V2PError
from v2p.learning.announcement import describe, dump
from v2p.task import topics
from v2p.task.dishwashing import DEFAULT_OBSERVATION, DISHWASHING, POLICY_INPUTS
from v2p_ros.common import V2PNode, declare, latched_qos, spin_node


def deterministic_torch() -> None:
    """Torch as sync mode needs it: deterministic kernels (a warning where an op has none), cuBLAS configured for
    them; the seed is the SAC config's."""
    import os

    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS, read when CUDA starts
    torch.use_deterministic_algorithms(True, warn_only=True)


class RclpyHandler(logging.Handler):
    """Hands `logging` records to an rclpy logger at the matching severity."""

    def __init__(self, logger: object) -> None:
        super().__init__()
        self.logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if record.levelno >= logging.CRITICAL:
                self.logger.fatal(text)
            elif record.levelno >= logging.ERROR:
                self.logger.error(text)
            elif record.levelno >= logging.WARNING:
                self.logger.warning(text)
            elif record.levelno >= logging.INFO:
                self.logger.info(text)
            else:
                self.logger.debug(text)
        except Exception:  # noqa: BLE001 - logging's contract: a failing handler reports, never raises
            self.handleError(record)


class LearnerNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("learner")
        from v2p.config import load_economics_config
        from v2p.learning import BagLearner
        from v2p.learning.learner import LOG

        record_dir = declare(self, "record_dir", "runs/bags", "folder of recordings to watch for closed bags")
        checkpoint = declare(self, "checkpoint", "", "folder of checkpoint versions to write and resume from "
                             "(empty: <record_dir>/../checkpoints/learner)")
        keep = declare(self, "keep_checkpoints", 3, "checkpoint versions kept", (1, 1000))
        self.ratio = declare(self, "updates_per_transition", 4.0, "replay ratio: SAC updates owed per transition "
                             "in the buffer (0: read bags, leave the policy alone)", (0.0, 10_000.0))
        self.round = declare(self, "updates_per_round", 200, "most updates between looks at record_dir and "
                             "checkpoints", (1, 10_000_000))
        batch = declare(self, "batch_size", DISHWASHING.sac.batch_size, "SAC batch size", (1, 1_000_000))
        buffer = declare(self, "buffer_size", DISHWASHING.sac.buffer_size, "replay capacity in transitions",
                         (1, 100_000_000))
        seed = declare(self, "seed", 0, "seed of the networks and of batch sampling", (0, 2**31 - 1))
        observation = declare(self, "observation", DEFAULT_OBSERVATION, "what the policy acts on, read from the bags: "
                              + ", ".join(sorted(POLICY_INPUTS)))
        config = declare(self, "economics_config", "", "economics YAML for the reward (empty: the default)")
        poll = declare(self, "poll_period_s", 2.0, "wall seconds between looks at record_dir", (0.05, 3600.0))
        self.once = declare(self, "once", False, "exit after training on the bags present at start-up")
        device = declare(self, "device", "cpu", "torch device (cpu, cuda, auto)")
        threads = declare(self, "threads", 1, "torch CPU threads", (1, 256))
        self.sync = declare(self, "sync", False, "train every update owed on each closed bag as it closes, in bag "
                            "order, and announce it (a sim in lockstep with the learner waits for it)")
        sync_poll = declare(self, "sync_poll_period_s", 0.2, "sync: wall seconds between looks at record_dir",
                            (0.01, 3600.0))
        if not record_dir:
            raise V2PError("parameter record_dir is empty")
        if observation not in POLICY_INPUTS:
            raise V2PError(f"parameter observation must be one of {', '.join(sorted(POLICY_INPUTS))}, got "
                           f"{observation!r}")
        self.record_dir = Path(record_dir).expanduser().resolve()
        if self.record_dir.exists() and not self.record_dir.is_dir():
            raise V2PError(f"parameter record_dir: {self.record_dir} is not a folder")
        ckpt = Path(checkpoint).expanduser() if checkpoint else self.record_dir.parent / "checkpoints" / "learner"
        if self.sync:
            if self.once:
                raise V2PError("parameters sync and once exclude each other")
            if threads != 1:
                raise V2PError(f"parameter threads must be 1 with sync (got {threads}): several threads may sum in "
                               "another order, and a synced run must be the same bytes on every run")
            deterministic_torch()
        sac = replace(DISHWASHING.sac, batch_size=batch, buffer_size=buffer, seed=seed, device=device, threads=threads)
        self.pub = self.create_publisher(String, topics.LEARNER_CHECKPOINT, latched_qos())
        # rclpy severities are Python's logging levels (DEBUG 10 .. FATAL 50): the node's level filters both
        self.learning_log, self.log_handler = LOG, RclpyHandler(self.get_logger())
        LOG.setLevel(int(self.get_logger().get_effective_level()))
        LOG.addHandler(self.log_handler)
        self.learner = BagLearner(ckpt, load_economics_config(config or None), sac_config=sac,
                                  policy_input=POLICY_INPUTS[observation], keep=keep)
        if self.learner.saved is not None:  # resumed: its newest version is the current policy
            self.pub.publish(String(data=dump(describe(self.learner.saved))))
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(sync_poll if self.sync else poll, self.poll_sync if self.sync else self.poll, clock=steady)
        if not self.once and not self.sync:  # rounds of updates while any are owed; `once` pays them all in its single poll
            self.create_timer(0.05, self.train_round, clock=steady)
        self.get_logger().info(f"watching {self.record_dir} for closed bags; checkpoint {ckpt}")

    def poll(self) -> None:
        from v2p.bags import find_bags

        if not self.record_dir.is_dir():
            if self.once:
                self.get_logger().error(f"parameter record_dir: {self.record_dir} does not exist")
                raise SystemExit(2)
            return
        bags = find_bags(self.record_dir, complete_only=True)
        used, new = self.learner.add_bags(bags)
        if self.once:  # no more bags will come: the inner steps of episodes left open count too
            new += self.learner.finish()
        if used:
            ended = "" if new else " (no episode ended in them yet: their steps come with the episode's end)"
            self.get_logger().info(f"read {len(used)} new bag(s): {new} transitions, {self.learner.transitions} in "
                                   f"the buffer{ended}")
        if self.once:
            self.train_round(all_due=True)
            self.pub.wait_for_all_acked(Duration(seconds=5.0))  # the subscribers present got the announcement
            raise SystemExit(0)

    def poll_sync(self) -> None:
        """Sync mode: each bag closed since the last look, in name order, trained on in full and announced."""
        from v2p.bags import find_bags

        if not self.record_dir.is_dir():
            return
        for bag in find_bags(self.record_dir, complete_only=True):
            before = self.learner.last_episode
            done = self.learner.learn_bag(bag, self.ratio)
            if not done.read:
                continue
            saved = done.saved or self.learner.saved
            ended = self.learner.last_episode != before or done.saved is not None
            self.get_logger().info(f"sync: {Path(bag).name}: {done.transitions} transitions, {done.updates} updates "
                                   f"({self.learner.transitions} in the buffer, through episode "
                                   f"{self.learner.last_episode})")
            if not ended:
                continue  # no episode ended in it: nobody waits on it
            if saved is None:
                self.get_logger().error(f"sync: nothing to announce after {bag}: no version saved yet (no update "
                                        "owed: updates_per_transition 0?); a synced sim waits in vain")
                continue
            self.pub.publish(String(data=dump(describe(saved, self.learner.last_episode))))
            self.get_logger().info(f"sync: announced {saved} through episode {self.learner.last_episode}")

    def train_round(self, all_due: bool = False) -> None:
        """At most `updates_per_round` of the owed updates (all of them with all_due), then checkpoint and announce."""
        due = self.learner.updates_due(self.ratio)
        if due <= 0:
            return
        steps = due if all_due else min(due, self.round)
        metrics = self.learner.train(steps)
        path = self.learner.save()
        self.pub.publish(String(data=dump(describe(path))))
        losses = ", ".join(f"{k} {v:.3g}" for k, v in metrics.items())
        self.get_logger().info(f"{steps} updates ({self.learner.model.agent.updates} over "
                               f"{self.learner.transitions} transitions): {losses}; announced {path}")

    def destroy_node(self) -> None:
        self.learning_log.removeHandler(self.log_handler)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return spin_node(LearnerNode, "learner", args)


if __name__ == "__main__":
    sys.exit(main())
