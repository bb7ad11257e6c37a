"""policy_node: /encoder/latent (+ /robot/state) -> /policy/action [speed, care] with the SAC actor.

What it acts on is `observation`, one of `v2p.task.dishwashing.POLICY_INPUTS` (default "video": the latent
followed by the newest /robot/state), composed with the same `PolicyInput.compose` the learner reads bags with,
so live and recorded observations are the same numbers.

The actor comes from `checkpoint` (a v2p SAC checkpoint directory) or, when empty, is a fresh seeded actor.
A checkpoint announced on /learner/checkpoint (std_msgs/String, transient-local: a `v2p.learning.announcement` JSON
document) is hot-reloaded between two latents once verified: it lies inside `checkpoint_roots` (symlinks resolved)
and its files hash to the announced value. A malformed, unverified, corrupt or mismatched one is logged once and the
current weights stay; so is a bad latched announcement re-delivered to a respawned node. The weights in use are
announced on /policy/checkpoint in the same JSON (transient-local; empty for a fresh actor).

With `watch_action_publishers` (robot mode) the node reports on /diagnostics, at ERROR, while any other node
publishes on its action topic (someone else could be steering the robot), and at OK once none does.

Every action is a function of the weights, the seed and the observation alone: a sampled action (`deterministic`
false) and a warm-up one draw their noise from a generator seeded with (seed, the observation's bytes), not from a
stream that a re-sent state or a reload would advance, so a run in lockstep with the learner replays exactly.

Watchdog: when the newest latent is older than `input_timeout_s` (node time: sim time in sim), the node
publishes `safe_action` and warns. A latent of the wrong size or with NaN/inf is logged and dropped.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.clock import Clock, ClockType
from rclpy.time import Time
from std_msgs.msg import Float32MultiArray, String

from v2p.action_limits import ActionLimiter
from v2p.errors import V2PError
from v2p.learning.announcement import describe, dump, parse, verified_checkpoint
from v2p.learning.versions import resolve_checkpoint
from v2p.task.dishwashing import ACTION, DEFAULT_OBSERVATION, POLICY_INPUTS, ROBOT_STATE, STATE
from v2p.task.errors import MessageError
from v2p.task import topics
from v2p_ros.common import (V2PNode, array_from_msg, declare, float_array, latched_qos, reliable_qos,
                            spin_node)


def fresh_actor(obs_dim: int, seed: int) -> torch.nn.Module:
    """A new SAC actor with the default layout, its weights drawn from `seed`."""
    from v2p.rl import SACConfig
    from v2p.rl.networks import Actor

    torch.manual_seed(seed)
    return Actor(obs_dim, ACTION.dim, SACConfig().net_arch, torch.as_tensor(ACTION.low_array),
                 torch.as_tensor(ACTION.high_array)).eval().requires_grad_(False)


def observation_seed(seed: int, obs: np.ndarray) -> int:
    """The 63-bit seed of the noise for one decision: SHA-256 of (seed, the observation's float32 bytes)."""
    digest = hashlib.sha256(seed.to_bytes(8, "little") + np.ascontiguousarray(obs, np.float32).tobytes()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def act(actor: torch.nn.Module, obs: np.ndarray, deterministic: bool, seed: int) -> np.ndarray:
    """The actor's action for `obs`; a sample draws torch's noise from `observation_seed`, leaving the global
    generator as it was."""
    x = torch.from_numpy(np.ascontiguousarray(obs, np.float32)).unsqueeze(0)
    with torch.inference_mode():
        if deterministic:
            return actor.act(x, True)[0].numpy()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(observation_seed(seed, obs))
            return actor.act(x, False)[0].numpy()


def load_policy(path: str | Path, obs_dim: int) -> torch.nn.Module:
    """The actor of checkpoint `path`, checked to act on `obs_dim` latents within [0, 1]² with finite weights."""
    from v2p.rl import load_actor

    actor, meta = load_actor(path)
    spaces = meta["spaces"]
    if tuple(spaces["obs"]["shape"]) != (obs_dim,) or tuple(spaces["action"]["shape"]) != (ACTION.dim,):
        raise V2PError(f"{path}: checkpoint maps {tuple(spaces['obs']['shape'])} observations to "
                       f"{tuple(spaces['action']['shape'])} actions; this policy needs ({obs_dim},) -> ({ACTION.dim},)")
    if not (torch.equal(actor.action_bias - actor.action_scale, torch.as_tensor(ACTION.low_array))
            and torch.equal(actor.action_bias + actor.action_scale, torch.as_tensor(ACTION.high_array))):
        raise V2PError(f"{path}: checkpoint's action bounds are not those of {ACTION.fields}: {ACTION.low} .. {ACTION.high}")
    if not all(torch.isfinite(t).all() for t in actor.state_dict().values()):
        raise V2PError(f"{path}: checkpoint holds NaN or infinite weights")
    return actor


class PolicyNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("policy")
        from v2p.encoders import LATENT_DIM

        checkpoint = declare(self, "checkpoint", "", "SAC checkpoint directory; empty: a fresh actor from seed")
        self.seed = declare(self, "seed", 0, "seed of a fresh actor and of stochastic actions", (0, 2**31 - 1))
        self.deterministic = declare(self, "deterministic", True, "act with the mean action (false: sample)")
        safe = declare(self, "safe_action", list(ACTION.safe), f"[{', '.join(ACTION.fields)}] published when the input goes stale")
        self.input_timeout_s = declare(self, "input_timeout_s", 60.0,
                                       "latent age (node time) after which the safe action is published",
                                       (0.01, 86400.0))
        period = declare(self, "watchdog_period_s", 1.0, "how often the watchdog checks (node time)",
                         (0.01, 3600.0))
        threads = declare(self, "threads", 1, "torch CPU threads", (1, 256))
        self.reload = declare(self, "hot_reload", True, "load checkpoints announced on /learner/checkpoint")
        self.roots = declare(self, "checkpoint_roots", [], "folders whose checkpoints announcements may name (the "
                             "learner's checkpoint folder; empty: follow no announcement)", array_of=str)
        watch = declare(self, "watch_action_publishers", False, "report on /diagnostics while another node "
                        "publishes on the action topic (robot mode)")
        try:
            self.safe_action = ACTION.parse(safe)
        except MessageError as exc:
            raise V2PError(f"parameter safe_action: {exc}") from None
        # A robot's commissioning envelope, slew and rate limits (off by default: [0, 1], no slew, no rate cap).
        low = declare(self, "action_min", [0.0, 0.0], "[speed, care] lower clamp of every published action")
        high = declare(self, "action_max", [1.0, 1.0], "[speed, care] upper clamp of every published action")
        try:
            self.limiter = ActionLimiter(np.array(low), np.array(high),
                                         declare(self, "max_delta_per_s", 0.0, "slew limit per second (0: off)"),
                                         declare(self, "max_rate_hz", 0.0, "most actions per second (0: off)"))
        except ValueError as exc:
            raise V2PError(f"parameters action_min/action_max/max_delta_per_s/max_rate_hz: {exc}") from None
        torch.set_num_threads(threads)
        observation = declare(self, "observation", DEFAULT_OBSERVATION, "what the policy acts on: "
                              + ", ".join(sorted(POLICY_INPUTS)) + " (v2p.task.dishwashing.POLICY_INPUTS)")
        if observation not in POLICY_INPUTS:
            raise V2PError(f"parameter observation must be one of {', '.join(sorted(POLICY_INPUTS))}, got "
                           f"{observation!r}")
        self.policy_input = POLICY_INPUTS[observation]
        self.topic_dim = LATENT_DIM if self.policy_input.topic == topics.LATENT else STATE.dim
        self.obs_dim = self.policy_input.dim(self.topic_dim)
        self.robot_state: np.ndarray | None = None  # the newest /robot/state (when the observation appends it)
        self.waiting: Float32MultiArray | None = None  # a message that came before the first robot state
        self.checkpoint = str(resolve_checkpoint(checkpoint)) if checkpoint else ""
        self.actor = load_policy(self.checkpoint, self.obs_dim) if checkpoint else fresh_actor(self.obs_dim, self.seed)
        # SAC's warm-up (learning_starts): while exploring with no trained weights yet, act uniformly at random
        # so the learner's first bags cover the whole action box, not just a fresh actor's corner of it.
        self.warmup = not checkpoint and not self.deterministic
        self.action_pub = self.create_publisher(Float32MultiArray, topics.ACTION, reliable_qos(10))
        self.loaded_pub = self.create_publisher(String, topics.POLICY_CHECKPOINT, latched_qos())
        # the robot state first: when both wait at once the executor takes them in creation order, and the sim
        # publishes state k's robot state before the encoder can answer it with latent k
        if self.policy_input.robot_state is not None:
            self.create_subscription(Float32MultiArray, self.policy_input.robot_state, self.on_robot_state,
                                     reliable_qos(10))
        self.create_subscription(Float32MultiArray, self.policy_input.topic, self.on_latent, reliable_qos(10))
        if self.reload:
            self.create_subscription(String, topics.LEARNER_CHECKPOINT, self.on_checkpoint, latched_qos())
        self.create_timer(period, self.on_watchdog)
        self.last_input: Time | None = None  # the watchdog counts from its first tick (sim time may start late)
        self.loaded_pub.publish(String(data=dump(describe(self.checkpoint)) if self.checkpoint else ""))
        self.refused: dict[bytes, None] = {}  # digests of the announcements refused (logged once each)
        if self.reload and not self.roots:
            self.get_logger().warning("hot_reload is on but checkpoint_roots is empty: no announcement is followed")
        self.strangers: set[str] | None = None  # other publishers on the action topic, as last reported
        if watch:
            self.diagnostics_pub = self.create_publisher(DiagnosticArray, topics.DIAGNOSTICS, reliable_qos(10))
            self.create_timer(period, self.on_action_publishers, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.get_logger().info(f"policy from {self.checkpoint or 'a fresh actor, seed %d' % self.seed}")

    def on_robot_state(self, msg: Float32MultiArray) -> None:
        try:
            self.robot_state = array_from_msg(msg, ROBOT_STATE.dim)
        except ValueError as exc:
            self.get_logger().error(f"dropping {self.policy_input.robot_state}: {exc}")
            return
        if self.waiting is not None:  # at start-up the two topics' first messages may arrive in either order
            waiting, self.waiting = self.waiting, None
            self.on_latent(waiting)

    def on_latent(self, msg: Float32MultiArray) -> None:
        """One message of the observation's topic: compose the observation and answer it."""
        if self.policy_input.robot_state is not None and self.robot_state is None:
            self.waiting = msg  # answered when the first robot state comes
            self.get_logger().warning(f"no {self.policy_input.robot_state} yet: waiting for it to act on "
                                      f"{self.policy_input.topic}", throttle_duration_sec=5.0)
            return
        try:
            obs = self.policy_input.compose(array_from_msg(msg, self.topic_dim), self.robot_state)
        except ValueError as exc:
            self.get_logger().error(f"dropping {self.policy_input.topic}: {exc}")
            return
        self.last_input = self.get_clock().now()
        if self.warmup:
            rng = np.random.default_rng(observation_seed(self.seed, obs))
            action = rng.uniform(0.0, 1.0, size=ACTION.dim).astype(np.float32)
        else:
            action = act(self.actor, obs, self.deterministic, self.seed)
        try:
            ACTION.parse(action)
        except MessageError as exc:
            self.get_logger().error(f"actor produced an invalid action, not published: {exc}")
            return
        limited = self.limiter.limit(action, self.get_clock().now().nanoseconds * 1e-9)
        if limited is not None:
            self.action_pub.publish(float_array(limited, "action"))

    def on_checkpoint(self, msg: String) -> None:
        if not msg.data:
            return
        try:
            announced = parse(msg.data)
            resolved = verified_checkpoint(announced, self.roots)
            actor = load_policy(resolved, self.obs_dim)
        except V2PError as exc:
            digest = hashlib.sha256(msg.data.encode("utf-8", "replace")).digest()
            if digest not in self.refused:  # once per bad announcement, however often it is re-delivered
                self.refused[digest] = None
                while len(self.refused) > 64:
                    self.refused.pop(next(iter(self.refused)))
                self.get_logger().error(f"keeping the current weights: {exc}")
            return
        self.actor, self.checkpoint, self.warmup = actor, str(resolved), False
        self.loaded_pub.publish(String(data=msg.data))
        self.get_logger().info(f"hot-reloaded the policy from {resolved} ({announced.episodes} episodes, "
                               f"{announced.bags} bags)")

    def on_action_publishers(self) -> None:
        """Report the other nodes publishing on the action topic when they change (and every period while any
        does). One publisher with this node's own name is this node; a second one is a stranger using it."""
        topic = self.action_pub.topic_name
        names = [f"{info.node_namespace.rstrip('/')}/{info.node_name}"
                 for info in self.get_publishers_info_by_topic(topic)]
        own = f"{self.get_namespace().rstrip('/')}/{self.get_name()}"
        if own in names:
            names.remove(own)
        strangers = set(names)
        if strangers == self.strangers and not strangers:
            return
        if strangers != self.strangers and strangers:  # (rclpy: one severity per logging call site)
            self.get_logger().error(f"other publishers on {topic}: {', '.join(sorted(strangers))}")
        elif strangers != self.strangers:
            self.get_logger().info(f"no other publisher on {topic}")
        self.strangers = strangers
        status = DiagnosticStatus(
            level=DiagnosticStatus.ERROR if strangers else DiagnosticStatus.OK, name=f"{self.get_name()}: {topic}",
            message=f"{len(names)} other publisher(s) on the action topic" if strangers else "sole publisher",
            hardware_id=topic, values=[KeyValue(key="publisher", value=name) for name in sorted(names)])
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics_pub.publish(msg)

    def on_watchdog(self) -> None:
        now = self.get_clock().now()
        if self.last_input is None or now < self.last_input:  # first tick, or the clock was restarted
            self.last_input = now
            return
        age = (now - self.last_input).nanoseconds * 1e-9
        if age <= self.input_timeout_s:
            return
        self.get_logger().warn(f"no valid /encoder/latent for {age:.1f} s: publishing the safe action "
                               f"{list(self.safe_action)}", throttle_duration_sec=5.0)
        self.action_pub.publish(float_array(np.asarray(self.safe_action, np.float32), "action"))


def main(args: list[str] | None = None) -> int:
    return spin_node(PolicyNode, "policy", args)


if __name__ == "__main__":
    sys.exit(main())
