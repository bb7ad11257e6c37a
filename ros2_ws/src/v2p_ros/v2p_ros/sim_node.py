"""sim_node: the PyBullet dishwashing workcell (v2p_sim.Workcell) on the ROS graph.

One control step is one dish cycle: the sim publishes /robot/state (the robot's own proprioception and
bookkeeping, `v2p.task.dishwashing.ROBOT_STATE`: what a robot's driver publishes) and then /sim/state (the whole
state, privileged), takes an action [speed, care] from /policy/action, runs the cycle (publishing /clock and, with
`render`, /sim/camera/image from the physics tick, or with `decision_frames_only` just the frame at each step
boundary, the one the policy acts on) and publishes the cycle's /sim/events. Episodes are shifts of
`shift_hours` simulated hours, framed by `episode_start` / `episode_end` events; /clock is continuous across
shifts.

- lockstep: after publishing state k the sim waits (wall time, sim time frozen) for the first valid action
  received after that publish; the state is re-sent every `resend_period_s` (a node that joined late still
  answers) and after `action_timeout_s` the safe action is used, with a warning. Deterministic, for training.
- realtime: sim time is paced to wall time (`real_time_factor`), /sim/state goes out at `control_rate_hz` (sim
  time) and each cycle uses the latest action, or the safe action when none came within `action_stale_s`.
The two are `v2p_sim.pacing.LockstepPacing` and `RealtimePacing`.

With `sync_learner` (sim.launch.yaml `sync_learner:=true`, lockstep only) the learner's rounds are tied to the
shifts: at each shift's end (the last one too) the sim waits, sim time frozen, until /policy/checkpoint reports a
checkpoint announced through that episode (`last_episode`, `v2p_sim.pacing.LearnerSync`): the recorder has closed
the shift's bag, the learner has paid every update it owes and the policy has loaded the result. Every shift's
actions are then a function of the seed alone. After `sync_timeout_s` wall seconds without it, `sync_on_timeout`
decides: "fail" (the default: exit 1, the run would not be reproducible) or "continue" (a warning, and the next
shift runs with the weights the policy has).

The shifts are the node's own loop (`run`, in the main thread); `spin_node` spins the executor in a thread of its
own, so actions arrive while the physics runs, and everything this node publishes goes out from the loop, in
the order above. A stop (SIGINT, SIGTERM) is seen between two ticks: the cycle under way runs to its end
without publishing anything more, and the loop returns. After `episodes` shifts (0: run until stopped) the
node exits 0; launch files mark it required.
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np
from rclpy.duration import Duration
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, Float64MultiArray, MultiArrayDimension, String

from v2p.errors import V2PError
from v2p.stopping import StopRequest
from v2p.task.dishwashing import ACTION, EVENTS, STATE
from v2p.task.errors import MessageError
from v2p.task.events import EVENT_FIELDS, EVENT_LABEL, SimEvent
from v2p.task import topics
from v2p_ros.common import (V2PNode, declare, float_array, latched_qos, numpy_to_image, reliable_qos, sensor_qos,
                            spin_node)

CAMERA_FRAME = "sim_camera"


def stamp(seconds: float):
    """builtin_interfaces/Time of a sim time in seconds."""
    from builtin_interfaces.msg import Time

    sec = int(seconds)
    return Time(sec=sec, nanosec=min(999_999_999, int(round((seconds - sec) * 1e9))))


def event_message(event: SimEvent) -> Float64MultiArray:
    msg = Float64MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=EVENT_LABEL, size=len(EVENT_FIELDS), stride=len(EVENT_FIELDS))]
    msg.data = event.to_array(EVENTS)
    return msg


def parse_subscriber_counts(items: list[str]) -> dict[str, int]:
    """["/topic:N", "/other"] -> {"/topic": N, "/other": 1}; ValueError names a malformed item."""
    counts = {}
    for item in items:
        topic, _, count = item.partition(":")
        if not topic.startswith("/") or (count and not count.isdigit()):
            raise ValueError(f"await_subscribers item {item!r} must be '/topic' or '/topic:COUNT'")
        counts[topic] = int(count) if count else 1
    return counts


class SimNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("sim")
        from v2p_sim.pacing import LearnerSync, LockstepPacing, RealtimePacing
        from v2p_sim.workcell import Workcell

        self.workcell: Workcell | None = None  # destroy_node may run on a node whose __init__ failed

        site = declare(self, "site", "default", "site name (config/sites/<name>.yaml) or path to a site YAML")
        self.seed = declare(self, "seed", 0, "seed of the first shift; the k-th shift uses seed + k", (0, 2**31 - 1))
        self.episodes = declare(self, "episodes", 0, "shifts to run before exiting (0: run until stopped)",
                                (0, 1_000_000))
        self.first_episode = declare(self, "first_episode", 0, "episode number of the first shift (so that runs "
                                     "resumed or split into phases keep distinct numbers)", (0, 2**31 - 1))
        shift_hours = declare(self, "shift_hours", 0.0, "simulated hours per shift (0: the site's shift length)",
                              (0.0, 24.0))
        self.mode = declare(self, "mode", "lockstep", "lockstep (wait for each action) or realtime (fixed rate)")
        control_rate_hz = declare(self, "control_rate_hz", 2.0,
                                  "realtime: /sim/state rate in sim time (lockstep: one per cycle)", (0.01, 100.0))
        real_time_factor = declare(self, "real_time_factor", 1.0, "realtime: sim seconds per wall second",
                                   (0.01, 1000.0))
        self.render = declare(self, "render", True, "publish the workcell camera on /sim/camera/image")
        image_size = declare(self, "image_size", 64, "camera image width and height in pixels", (16, 1024))
        self.camera_rate_hz = declare(self, "camera_rate_hz", 10.0, "camera frames per sim second", (0.1, 120.0))
        self.decision_frames_only = declare(self, "decision_frames_only", False, "render only the frame at each "
                                            "step boundary (the one the policy acts on), none during a cycle")
        self.tick_period_s = declare(self, "tick_period_s", 0.1,
                                     "sim seconds between /clock messages during a cycle", (0.01, 1.0))
        safe = declare(self, "safe_action", list(ACTION.safe), f"[{', '.join(ACTION.fields)}] used when no valid action arrives")
        action_timeout_s = declare(self, "action_timeout_s", 10.0,
                                   "lockstep: wall seconds to wait for an action before the safe action",
                                   (0.01, 3600.0))
        resend_period_s = declare(self, "resend_period_s", 1.0,
                                  "lockstep: re-send the state this often (wall s) while waiting", (0.01, 3600.0))
        action_stale_s = declare(self, "action_stale_s", 2.0, "realtime: an action older than this (sim s) is stale",
                                 (0.01, 3600.0))
        awaited = declare(self, "await_subscribers", [topics.SIM_STATE],
                          "wait before the first shift until these topics have subscribers ('/topic:COUNT')",
                          array_of=str)
        self.startup_timeout_s = declare(self, "startup_timeout_s", 60.0,
                                         "wall seconds to wait for await_subscribers before starting anyway",
                                         (0.0, 3600.0))
        self.linger_s = declare(self, "linger_s", 2.0, "wall seconds to stay up after the last shift, so that "
                                "subscribers handle its last events before launch shuts the graph down",
                                (0.0, 600.0))
        sync = declare(self, "sync_learner", False, "at each shift's end wait until /policy/checkpoint reports a "
                       "checkpoint trained through it (lockstep with the learner: reproducible runs)")
        sync_timeout_s = declare(self, "sync_timeout_s", 600.0, "sync_learner: wall seconds to wait for that "
                                 "checkpoint", (0.1, 86400.0))
        self.sync_on_timeout = declare(self, "sync_on_timeout", "fail", "sync_learner, after sync_timeout_s: fail "
                                       "(exit 1) or continue (warn, run the next shift on the current weights)")
        if self.mode not in ("lockstep", "realtime"):
            raise V2PError(f"parameter mode must be 'lockstep' or 'realtime', got {self.mode!r}")
        if sync and self.mode != "lockstep":
            raise V2PError("parameter sync_learner needs mode lockstep (realtime follows wall time by design)")
        if self.sync_on_timeout not in ("fail", "continue"):
            raise V2PError(f"parameter sync_on_timeout must be 'fail' or 'continue', got {self.sync_on_timeout!r}")
        try:
            safe_action = ACTION.parse(safe)
            self.awaited = parse_subscriber_counts(awaited or [])  # an empty list arrives as None
        except (MessageError, ValueError) as exc:
            raise V2PError(f"bad parameter: {exc}") from None

        self.workcell = Workcell(site, self.seed, render_size=image_size)
        if shift_hours > 0:
            self.workcell.shift_hours = shift_hours
        self.shift_hours = float(self.workcell.shift_hours)

        # a cycle ticks in a burst (up to ~800 at 0.1 s): a reliable keep-last history deep enough for a recorder
        # to repair what its transport missed, or the step times the learner reads from the bag depend on the load
        self.clock_pub = self.create_publisher(Clock, topics.CLOCK, reliable_qos(2000))
        self.state_pub = self.create_publisher(Float32MultiArray, topics.SIM_STATE, reliable_qos(10))
        self.robot_pub = self.create_publisher(Float32MultiArray, topics.ROBOT_STATE, reliable_qos(10))
        self.robot_fields = list(STATE.view("robot_state"))
        self.event_pub = self.create_publisher(Float64MultiArray, topics.SIM_EVENTS, reliable_qos(100))
        self.image_pub = self.create_publisher(Image, topics.SIM_CAMERA, sensor_qos())

        self.stop = StopRequest()
        if self.mode == "lockstep":
            self.pacing = LockstepPacing(self.stop, safe_action, action_timeout_s, resend_period_s,
                                         self.get_logger().warning)
        else:
            self.pacing = RealtimePacing(self.stop, safe_action, control_rate_hz, real_time_factor, action_stale_s,
                                         lambda text: self.get_logger().warning(text, throttle_duration_sec=5.0))
        self.offset_s = 0.0  # sim time at the start of the current shift (the workcell restarts at 0 each shift)
        self.now_s = 0.0
        self.next_frame_s = 0.0
        self.last_frame_s = -1.0
        self.steps = 0
        # actions go to the pacing, in the executor's thread
        self.create_subscription(Float32MultiArray, topics.ACTION, self.on_action, reliable_qos(10))
        self.sync = LearnerSync(self.stop, sync_timeout_s) if sync else None
        if self.sync is not None:
            self.create_subscription(String, topics.POLICY_CHECKPOINT, self.on_policy_checkpoint, latched_qos())

    # ---------------------------------------------------------------- inputs (the executor's thread)
    def on_action(self, msg: Float32MultiArray) -> None:
        try:
            action = ACTION.parse(msg.data)
        except MessageError as exc:
            self.get_logger().error(f"ignoring /policy/action: {exc}")
            return
        self.pacing.on_action(action, self.now_s)

    def on_policy_checkpoint(self, msg: String) -> None:
        """What the policy acts with (sync_learner): an announcement, or empty for a fresh actor."""
        from v2p.learning.announcement import AnnouncementError, parse

        try:
            last = parse(msg.data).last_episode if msg.data else None
        except AnnouncementError as exc:
            self.get_logger().error(f"ignoring /policy/checkpoint: {exc}")
            return
        self.sync.on_checkpoint(last)

    def request_stop(self) -> None:
        """Stop the loop between two ticks (spin_node calls this from another thread)."""
        self.stop.request()

    # ---------------------------------------------------------------- outputs (the loop's thread)
    def publish_clock(self) -> None:
        self.clock_pub.publish(Clock(clock=stamp(self.now_s)))

    def publish_state(self) -> None:
        """The robot's own state first, then the whole state: a learner reading the bag, like the policy node
        live, appends the newest robot state to the observation the /sim/state tick brings."""
        state = self.workcell.state_vector()
        self.robot_pub.publish(float_array(state[self.robot_fields], "robot_state"))
        self.state_pub.publish(float_array(state, "state"))

    def await_clock_acked(self) -> None:
        """sync_learner, before the episode_end: every subscriber has this shift's /clock ticks. The learner times
        each step by the last /clock before it in the bag; a tick the transport dropped under load comes back only
        with the next heartbeat (up to seconds later), and must not land after the split, in the next bag."""
        if not self.clock_pub.wait_for_all_acked(Duration(seconds=10.0)):
            self.get_logger().warning("sync_learner: a subscriber did not acknowledge this shift's /clock within "
                                      "10 s: its recorded step times may differ from run to run")

    def publish_frame(self) -> None:
        if self.last_frame_s == self.now_s:
            return  # the tick already showed this instant
        frame = self.workcell.render_rgb()
        self.image_pub.publish(numpy_to_image(np.ascontiguousarray(frame), stamp(self.now_s), CAMERA_FRAME))
        self.last_frame_s = self.now_s

    def publish_event(self, event: SimEvent) -> None:
        self.event_pub.publish(event_message(event))

    def on_tick(self, sim_time_s: float) -> None:
        """Called by the workcell every tick_period_s of sim time inside a cycle."""
        if self.stop.requested:
            return  # the cycle runs to its end at physics speed, publishing nothing more
        self.now_s = self.offset_s + sim_time_s
        self.publish_clock()
        if self.render and not self.decision_frames_only and self.now_s + 1e-9 >= self.next_frame_s:
            self.publish_frame()
            self.next_frame_s += 1.0 / self.camera_rate_hz
        self.pacing.on_tick(self.now_s, self.publish_state)

    # ---------------------------------------------------------------- the loop
    def wait_for_graph(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while not self.stop.requested:
            missing = {t: n for t, n in self.awaited.items() if self.count_subscribers(t) < n}
            if not missing:
                return
            if time.monotonic() >= deadline:
                self.get_logger().warning(f"starting without the awaited subscribers {missing} "
                                       f"after {self.startup_timeout_s:g} s")
                return
            self.stop.sleep(0.1)

    def run_shift(self, episode: int) -> None:
        wc = self.workcell
        wc.reset(self.seed + episode - self.first_episode)
        self.now_s = self.offset_s
        self.next_frame_s = self.now_s
        self.pacing.start_shift(self.now_s)
        self.publish_clock()
        self.publish_event(SimEvent(episode, "episode_start", self.now_s, episode_hours=self.shift_hours))
        if self.render:
            self.last_frame_s = -1.0  # the reset scene, though the last shift's final frame has this stamp too
            self.publish_frame()
            self.next_frame_s += 1.0 / self.camera_rate_hz
        while not wc.shift_done:
            action = self.pacing.action(self.now_s, self.publish_state)
            if action is None or self.stop.requested:
                return
            result = wc.run_cycle(*action, tick=self.on_tick, tick_period_s=self.tick_period_s)
            if self.stop.requested:
                return  # this cycle's outcome is not published: its episode stays open, as after a crash
            self.now_s = self.offset_s + wc.sim_time_s
            self.publish_clock()
            if self.render:  # the frame at the step boundary, before the state it belongs to
                self.publish_frame()
                self.next_frame_s = self.now_s + 1.0 / self.camera_rate_hz
            for ev in result.events:
                self.publish_event(SimEvent(episode, ev.kind, self.offset_s + ev.sim_time_s, ev.dish_index,
                                            ev.dish_type))
            self.steps += 1
        if self.sync is not None:
            self.await_clock_acked()
        hours = wc.sim_time_s / 3600.0
        self.publish_event(SimEvent(episode, "episode_end", self.now_s, episode_hours=hours))
        self.get_logger().info(f"shift {episode} done: {wc.units} units, {wc.errors} errors in {hours:.3f} h "
                               f"({self.steps} steps so far, {self.pacing.fallbacks} safe-action fallbacks)")
        self.offset_s = self.now_s

    def wait_for_learner(self, episode: int) -> bool:
        """sync_learner: hold the next shift until the policy acts with a checkpoint trained through `episode`.
        False when the run must end (a stop, or the timeout with sync_on_timeout fail: exit code 1)."""
        if self.sync is None:
            return True
        start = time.monotonic()
        done = self.sync.wait(episode)
        if done is None:
            return False
        if done:
            self.get_logger().info(f"sync: the policy acts with a checkpoint trained through episode {episode} "
                                   f"after {time.monotonic() - start:.2f} s")
            return True
        text = (f"sync_learner: no checkpoint trained through episode {episode} on {topics.POLICY_CHECKPOINT} "
                f"within sync_timeout_s {self.sync.timeout_s:g} s (the policy reports episode "
                f"{self.sync.last_episode}); is the learner running with sync:=true and the recorder with "
                "split_on_episode_end:=true?")
        if self.sync_on_timeout == "continue":
            self.get_logger().warning(text + " Continuing: this run is not reproducible")
            return True
        self.get_logger().error(text)
        self.exit_code = 1
        return False

    def run(self) -> None:
        """The shifts, then a linger; returns early when a stop is requested."""
        self.wait_for_graph()
        if self.stop.requested:
            return
        self.get_logger().info(f"{self.mode} sim: shifts of {self.shift_hours:g} h, "
                               f"{self.episodes or 'unlimited'} shift(s)")
        for k in range(self.episodes) if self.episodes else itertools.count():
            self.run_shift(self.first_episode + k)
            if self.stop.requested or not self.wait_for_learner(self.first_episode + k):
                return
        # reliable topics: let subscribers acknowledge the last events, then give their callbacks (the econ
        # monitor's books, the recorder) time to run before this required node's exit stops the graph
        for pub in (self.event_pub, self.state_pub, self.clock_pub):
            if self.stop.requested:
                return
            pub.wait_for_all_acked(Duration(seconds=2.0))
        self.stop.sleep(self.linger_s)

    def destroy_node(self) -> None:
        if self.workcell is not None:
            self.workcell.close()
            self.workcell = None
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return spin_node(SimNode, "sim", args)


if __name__ == "__main__":
    sys.exit(main())
