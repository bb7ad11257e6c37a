"""sim_node: the PyBullet dishwashing workcell (v2p_sim.Workcell) on the ROS graph.

One control step is one dish cycle: the sim publishes /sim/state, takes an action [speed, care] from
/policy/action, runs the cycle (publishing /clock and, with `render`, /sim/camera/image from the physics tick) and
publishes the cycle's /sim/events. Episodes are shifts of `shift_hours` simulated hours, framed by
`episode_start` / `episode_end` events; /clock is continuous across shifts.

- lockstep: after publishing state k the sim waits (wall time, sim time frozen) for the first valid action
  received after that publish; the state is re-sent every `resend_period_s` (a node that joined late still
  answers) and after `action_timeout_s` the safe action is used, with a warning. Deterministic, for training.
- realtime: sim time is paced to wall time (`real_time_factor`), /sim/state goes out at `control_rate_hz` (sim
  time) and each cycle uses the latest action, or the safe action when none came within `action_stale_s`.

After `episodes` shifts (0: run until stopped) the node exits 0; launch files mark it required.
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np
import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, Float64MultiArray, MultiArrayDimension

from v2p.errors import V2PError
from v2p.task.dishwashing import ACTION, EVENTS
from v2p.task.errors import MessageError
from v2p.task.events import EVENT_FIELDS, EVENT_LABEL, SimEvent
from v2p.task import topics
from v2p_ros.common import V2PNode, declare, float_array, numpy_to_image, reliable_qos, sensor_qos

CAMERA_FRAME = "sim_camera"


class _Stop(Exception):
    """The ROS context was shut down (SIGINT/SIGTERM) while the physics was running."""


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
        from v2p_sim.workcell import Workcell

        site = declare(self, "site", "default", "site name (config/sites/<name>.yaml) or path to a site YAML")
        self.seed = declare(self, "seed", 0, "seed of the first shift; the k-th shift uses seed + k", (0, 2**31 - 1))
        self.episodes = declare(self, "episodes", 0, "shifts to run before exiting (0: run until stopped)",
                                (0, 1_000_000))
        self.first_episode = declare(self, "first_episode", 0, "episode number of the first shift (so that runs "
                                     "resumed or split into phases keep distinct numbers)", (0, 2**31 - 1))
        shift_hours = declare(self, "shift_hours", 0.0, "simulated hours per shift (0: the site's shift length)",
                              (0.0, 24.0))
        self.mode = declare(self, "mode", "lockstep", "lockstep (wait for each action) or realtime (fixed rate)")
        self.control_rate_hz = declare(self, "control_rate_hz", 2.0,
                                       "realtime: /sim/state rate in sim time (lockstep: one per cycle)",
                                       (0.01, 100.0))
        self.real_time_factor = declare(self, "real_time_factor", 1.0,
                                        "realtime: sim seconds per wall second", (0.01, 1000.0))
        self.render = declare(self, "render", True, "publish the workcell camera on /sim/camera/image")
        image_size = declare(self, "image_size", 64, "camera image width and height in pixels", (16, 1024))
        self.camera_rate_hz = declare(self, "camera_rate_hz", 10.0, "camera frames per sim second", (0.1, 120.0))
        self.tick_period_s = declare(self, "tick_period_s", 0.1,
                                     "sim seconds between /clock messages during a cycle", (0.01, 1.0))
        safe = declare(self, "safe_action", list(ACTION.safe), f"[{', '.join(ACTION.fields)}] used when no valid action arrives")
        self.action_timeout_s = declare(self, "action_timeout_s", 10.0,
                                        "lockstep: wall seconds to wait for an action before the safe action",
                                        (0.01, 3600.0))
        self.resend_period_s = declare(self, "resend_period_s", 1.0,
                                       "lockstep: re-send the state this often (wall s) while waiting",
                                       (0.01, 3600.0))
        self.action_stale_s = declare(self, "action_stale_s", 2.0,
                                      "realtime: an action older than this (sim s) is stale", (0.01, 3600.0))
        awaited = declare(self, "await_subscribers", [topics.SIM_STATE],
                          "wait before the first shift until these topics have subscribers ('/topic:COUNT')",
                          array_of=str)
        self.startup_timeout_s = declare(self, "startup_timeout_s", 60.0,
                                         "wall seconds to wait for await_subscribers before starting anyway",
                                         (0.0, 3600.0))
        self.linger_s = declare(self, "linger_s", 2.0, "wall seconds to stay up after the last shift, so that "
                                "subscribers handle its last events before launch shuts the graph down",
                                (0.0, 600.0))
        if self.mode not in ("lockstep", "realtime"):
            raise V2PError(f"parameter mode must be 'lockstep' or 'realtime', got {self.mode!r}")
        try:
            self.safe_action = ACTION.parse(safe)
            self.awaited = parse_subscriber_counts(awaited or [])  # an empty list arrives as None
        except (MessageError, ValueError) as exc:
            raise V2PError(f"bad parameter: {exc}") from None

        self.workcell = Workcell(site, self.seed, render_size=image_size)
        if shift_hours > 0:
            self.workcell.shift_hours = shift_hours
        self.shift_hours = float(self.workcell.shift_hours)

        self.clock_pub = self.create_publisher(Clock, topics.CLOCK, reliable_qos(10))
        self.state_pub = self.create_publisher(Float32MultiArray, topics.SIM_STATE, reliable_qos(10))
        self.event_pub = self.create_publisher(Float64MultiArray, topics.SIM_EVENTS, reliable_qos(100))
        self.image_pub = self.create_publisher(Image, topics.SIM_CAMERA, sensor_qos())
        self.create_subscription(Float32MultiArray, topics.ACTION, self.on_action, reliable_qos(10))

        self.executor_ = SingleThreadedExecutor(context=self.context)
        self.executor_.add_node(self)
        self.offset_s = 0.0  # sim time at the start of the current shift (the workcell restarts at 0 each shift)
        self.now_s = 0.0
        self.awaiting = False  # lockstep: an action is wanted for the state just published
        self.answer: tuple[float, float] | None = None
        self.latest: tuple[tuple[float, float], float] | None = None  # realtime: (action, sim time received)
        self.next_frame_s = 0.0
        self.last_frame_s = -1.0
        self.next_state_s = 0.0
        self.wall_anchor: tuple[float, float] | None = None  # realtime pacing: (wall, sim) at the shift start
        self.callbacks = 0
        self.steps = 0
        self.fallbacks = 0

    # ---------------------------------------------------------------- inputs
    def on_action(self, msg: Float32MultiArray) -> None:
        self.callbacks += 1
        try:
            action = ACTION.parse(msg.data)
        except MessageError as exc:
            self.get_logger().error(f"ignoring /policy/action: {exc}")
            return
        if self.awaiting and self.answer is None:
            self.answer = action
        self.latest = (action, self.now_s)

    def spin_for(self, timeout_s: float) -> None:
        if not self.context.ok():
            raise _Stop
        self.executor_.spin_once(timeout_sec=timeout_s)

    def drain(self) -> None:
        """Run every callback already queued (stale actions are consumed while no step awaits them)."""
        while True:
            before = self.callbacks
            self.spin_for(0.0)
            if self.callbacks == before:
                return

    # ---------------------------------------------------------------- outputs
    def send(self, publisher, msg) -> None:  # noqa: ANN001
        if not self.context.ok():  # SIGINT/SIGTERM shut the context down while the physics ran
            raise _Stop
        publisher.publish(msg)

    def publish_clock(self) -> None:
        self.send(self.clock_pub, Clock(clock=stamp(self.now_s)))

    def publish_state(self) -> None:
        self.send(self.state_pub, float_array(self.workcell.state_vector(), "state"))

    def publish_frame(self) -> None:
        if self.last_frame_s == self.now_s:
            return  # the tick already showed this instant
        frame = self.workcell.render_rgb()
        self.send(self.image_pub, numpy_to_image(np.ascontiguousarray(frame), stamp(self.now_s), CAMERA_FRAME))
        self.last_frame_s = self.now_s

    def publish_event(self, event: SimEvent) -> None:
        self.send(self.event_pub, event_message(event))

    def on_tick(self, sim_time_s: float) -> None:
        """Called by the workcell every tick_period_s of sim time inside a cycle."""
        if not self.context.ok():
            raise _Stop  # unwinds out of the physics
        self.now_s = self.offset_s + sim_time_s
        self.publish_clock()
        if self.render and self.now_s + 1e-9 >= self.next_frame_s:
            self.publish_frame()
            self.next_frame_s += 1.0 / self.camera_rate_hz
        if self.mode == "realtime":
            if self.now_s + 1e-9 >= self.next_state_s:
                self.publish_state()
                self.next_state_s += 1.0 / self.control_rate_hz
            self.pace()

    def pace(self) -> None:
        """Realtime: let wall time catch up with sim time, handling callbacks meanwhile."""
        wall0, sim0 = self.wall_anchor
        target = wall0 + (self.now_s - sim0) / self.real_time_factor
        self.spin_for(0.0)
        while (remaining := target - time.monotonic()) > 0:
            self.spin_for(remaining)

    # ---------------------------------------------------------------- control
    def wait_for_graph(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            missing = {t: n for t, n in self.awaited.items() if self.count_subscribers(t) < n}
            if not missing:
                return
            if time.monotonic() >= deadline:
                self.get_logger().warn(f"starting without the awaited subscribers {missing} "
                                       f"after {self.startup_timeout_s:g} s")
                return
            self.spin_for(0.1)

    def lockstep_action(self) -> tuple[float, float]:
        self.drain()
        self.answer = None
        self.awaiting = True
        try:
            start = time.monotonic()
            while self.answer is None:
                self.publish_state()
                resend = min(start + self.action_timeout_s, time.monotonic() + self.resend_period_s)
                while self.answer is None and (remaining := resend - time.monotonic()) > 0:
                    self.spin_for(remaining)
                if self.answer is None and time.monotonic() >= start + self.action_timeout_s:
                    self.fallbacks += 1
                    self.get_logger().warn(f"no valid /policy/action within {self.action_timeout_s:g} s: "
                                           f"using the safe action {list(self.safe_action)}")
                    return self.safe_action
            return self.answer
        finally:
            self.awaiting = False

    def realtime_action(self) -> tuple[float, float]:
        if self.latest is not None and self.now_s - self.latest[1] <= self.action_stale_s:
            return self.latest[0]
        self.fallbacks += 1
        self.get_logger().warn(f"no /policy/action in the last {self.action_stale_s:g} sim s: using the safe "
                               f"action {list(self.safe_action)}", throttle_duration_sec=5.0)
        return self.safe_action

    def run_shift(self, episode: int) -> None:
        wc = self.workcell
        wc.reset(self.seed + episode - self.first_episode)
        self.now_s = self.offset_s
        self.next_frame_s = self.next_state_s = self.now_s
        self.wall_anchor = (time.monotonic(), self.now_s)
        self.publish_clock()
        self.publish_event(SimEvent(episode, "episode_start", self.now_s, episode_hours=self.shift_hours))
        if self.render:
            self.publish_frame()
            self.next_frame_s += 1.0 / self.camera_rate_hz
        while not wc.shift_done:
            if self.mode == "lockstep":
                speed, care = self.lockstep_action()
            else:
                if self.now_s + 1e-9 >= self.next_state_s:
                    self.publish_state()
                    self.next_state_s += 1.0 / self.control_rate_hz
                speed, care = self.realtime_action()
            result = wc.run_cycle(speed, care, tick=self.on_tick, tick_period_s=self.tick_period_s)
            self.now_s = self.offset_s + wc.sim_time_s
            self.publish_clock()
            if self.render:  # the frame at the step boundary, before the state it belongs to
                self.publish_frame()
                self.next_frame_s = self.now_s + 1.0 / self.camera_rate_hz
            for ev in result.events:
                self.publish_event(SimEvent(episode, ev.kind, self.offset_s + ev.sim_time_s, ev.dish_index,
                                            ev.dish_type))
            self.steps += 1
        hours = wc.sim_time_s / 3600.0
        self.publish_event(SimEvent(episode, "episode_end", self.now_s, episode_hours=hours))
        self.get_logger().info(f"shift {episode} done: {wc.units} units, {wc.errors} errors in {hours:.3f} h "
                               f"({self.steps} steps so far, {self.fallbacks} safe-action fallbacks)")
        self.offset_s = self.now_s

    def run(self) -> None:
        self.wait_for_graph()
        self.get_logger().info(f"{self.mode} sim: shifts of {self.shift_hours:g} h, "
                               f"{self.episodes or 'unlimited'} shift(s)")
        for k in range(self.episodes) if self.episodes else itertools.count():
            self.run_shift(self.first_episode + k)
        # reliable topics: let subscribers acknowledge the last events, then give their callbacks (the econ
        # monitor's books, the recorder) time to run before this required node's exit stops the graph
        from rclpy.duration import Duration

        for pub in (self.event_pub, self.state_pub, self.clock_pub):
            pub.wait_for_all_acked(Duration(seconds=2.0))
        until = time.monotonic() + self.linger_s
        while (remaining := until - time.monotonic()) > 0:
            self.spin_for(remaining)

    def close(self) -> None:
        self.workcell.close()
        self.executor_.shutdown(timeout_sec=0.0)


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    try:
        node = SimNode()
    except (V2PError, ValueError, ParameterException) as exc:
        rclpy.logging.get_logger("sim").error(str(exc))
        rclpy.try_shutdown()
        return 2
    try:
        node.run()
    except (KeyboardInterrupt, ExternalShutdownException, _Stop):
        pass
    except RCLError:
        if node.context.ok():
            raise
        # else: the context went down between the check in send() and the publish: a shutdown, not an error
    finally:
        node.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
