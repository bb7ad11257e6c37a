"""policy_node: /encoder/latent -> /policy/action [speed, care] with the SAC actor.

The actor comes from `checkpoint` (a v2p SAC checkpoint directory) or, when empty, is a fresh seeded actor.
A path announced on /learner/checkpoint (std_msgs/String, transient-local) is hot-reloaded between two latents;
a corrupt or mismatched checkpoint is logged and the current weights stay. The path of the weights in use is
announced on /policy/checkpoint (transient-local; empty for a fresh actor).

Watchdog: when the newest latent is older than `input_timeout_s` (node time: sim time in sim), the node
publishes `safe_action` and warns. A latent of the wrong size or with NaN/inf is logged and dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from rclpy.time import Time
from std_msgs.msg import Float32MultiArray, String

from v2p.action_limits import ActionLimiter
from v2p.errors import V2PError
from v2p.learning.versions import resolve_checkpoint
from v2p.task.dishwashing import ACTION
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
        self.obs_dim = LATENT_DIM
        self.checkpoint = str(resolve_checkpoint(checkpoint)) if checkpoint else ""
        self.actor = load_policy(self.checkpoint, self.obs_dim) if checkpoint else fresh_actor(self.obs_dim, self.seed)
        torch.manual_seed(self.seed)  # stochastic actions replay from the seed
        # SAC's warm-up (learning_starts): while exploring with no trained weights yet, act uniformly at random
        # so the learner's first bags cover the whole action box, not just a fresh actor's corner of it.
        self.warmup_rng = np.random.default_rng(self.seed) if not checkpoint and not self.deterministic else None
        self.action_pub = self.create_publisher(Float32MultiArray, topics.ACTION, reliable_qos(10))
        self.loaded_pub = self.create_publisher(String, topics.POLICY_CHECKPOINT, latched_qos())
        self.create_subscription(Float32MultiArray, topics.LATENT, self.on_latent, reliable_qos(10))
        if self.reload:
            self.create_subscription(String, topics.LEARNER_CHECKPOINT, self.on_checkpoint, latched_qos())
        self.create_timer(period, self.on_watchdog)
        self.last_input: Time | None = None  # the watchdog counts from its first tick (sim time may start late)
        self.loaded_pub.publish(String(data=self.checkpoint))
        self.get_logger().info(f"policy from {self.checkpoint or 'a fresh actor, seed %d' % self.seed}")

    def on_latent(self, msg: Float32MultiArray) -> None:
        try:
            latent = array_from_msg(msg, self.obs_dim)
        except ValueError as exc:
            self.get_logger().error(f"dropping /encoder/latent: {exc}")
            return
        self.last_input = self.get_clock().now()
        if self.warmup_rng is not None:
            action = self.warmup_rng.uniform(0.0, 1.0, size=2).astype(np.float32)
        else:
            with torch.inference_mode():
                action = self.actor.act(torch.from_numpy(latent).unsqueeze(0), self.deterministic)[0].numpy()
        try:
            ACTION.parse(action)
        except MessageError as exc:
            self.get_logger().error(f"actor produced an invalid action, not published: {exc}")
            return
        limited = self.limiter.limit(action, self.get_clock().now().nanoseconds * 1e-9)
        if limited is not None:
            self.action_pub.publish(float_array(limited, "action"))

    def on_checkpoint(self, msg: String) -> None:
        path = msg.data
        if not path:
            return  # the learner re-announces one path after each save: every announcement is reloaded
        try:
            resolved = resolve_checkpoint(path)
            actor = load_policy(resolved, self.obs_dim)
        except V2PError as exc:
            self.get_logger().error(f"keeping the current weights: {exc}")
            return
        self.actor, self.checkpoint, self.warmup_rng = actor, str(resolved), None
        self.loaded_pub.publish(String(data=self.checkpoint))
        self.get_logger().info(f"hot-reloaded the policy from {resolved}")

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
