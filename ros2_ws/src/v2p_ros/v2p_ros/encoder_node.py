"""encoder_node: observations -> /encoder/latent (std_msgs/Float32MultiArray, LATENT_DIM values).

- encoder:=mlp reads /sim/state and publishes one latent per state message.
- encoder:=video (or streaming, r3d18) reads /camera/image_raw (sensor-data QoS), resizes each rgb8 frame to the
  encoder's square input and pushes it into the clip (`VideoEncoder.push`). In lockstep it publishes the clip's
  latent when a /sim/state control tick arrives, once the camera frame of that instant (stamp ≥ the node's sim
  time) has been pushed or `frame_wait_s` (wall) has passed; in realtime it publishes at `latent_rate_hz`.
  An `episode_start` on /sim/events resets the clip.

Either way the policy downstream sees the same 128 numbers. A malformed image, a NaN state or a wrong-length
state is logged and dropped: nothing derived from it is published.
"""

from __future__ import annotations

import sys
import numpy as np
import torch
from rclpy.clock import Clock, ClockType
from rclpy.time import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, Float64MultiArray

from v2p.errors import V2PError
from v2p.task import topics
from v2p_ros.common import (V2PNode, array_from_msg, declare, event_from_msg, float_array, image_to_numpy,
                            reliable_qos, sensor_qos, spin_node)

VIDEO_KINDS = ("video", "streaming", "r3d18")
MAX_STATE_DIM = 100_000  # a state longer than this is no sim's: an MLP for it would not fit in memory


def square_frame(frame: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop an (H, W, 3) frame to a square and resize it to size x size (what video encoders take)."""
    import cv2

    h, w = frame.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = frame[top:top + side, left:left + side]
    if side == size:
        return np.ascontiguousarray(crop)
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


class EncoderNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("encoder")
        from v2p.encoders import LATENT_DIM, load_encoder, make_encoder

        kind = declare(self, "encoder", "mlp", "mlp (reads /sim/state) or video (reads /camera/image_raw)")
        checkpoint = declare(self, "checkpoint", "", "encoder weights (v2p encoder safetensors); empty: a fresh "
                             "encoder initialised from seed")
        seed = declare(self, "seed", 0, "seed of a fresh encoder's weights", (0, 2**31 - 1))
        self.mode = declare(self, "mode", "lockstep", "lockstep (latent per /sim/state tick) or realtime")
        self.state_dim = declare(self, "state_dim", 0, "mlp: state size (0: from the first /sim/state message)",
                                 (0, MAX_STATE_DIM))
        rate = declare(self, "latent_rate_hz", 10.0, "video, realtime: latents per second", (0.1, 1000.0))
        # below the sim's resend (5 s) and safe-action timeout (10 s): a loaded machine relays a frame in seconds
        self.frame_wait_s = declare(self, "frame_wait_s", 3.0, "video, lockstep: wall seconds to wait for the "
                                    "frame of the control tick before encoding without it", (0.0, 60.0))
        threads = declare(self, "threads", 1, "torch CPU threads", (1, 256))
        if self.mode not in ("lockstep", "realtime"):
            raise V2PError(f"parameter mode must be 'lockstep' or 'realtime', got {self.mode!r}")
        if kind not in ("mlp", *VIDEO_KINDS):
            raise V2PError(f"parameter encoder must be mlp or one of {VIDEO_KINDS}, got {kind!r}")
        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.latent_dim = LATENT_DIM
        self.video = kind in VIDEO_KINDS
        self.encoder = None
        if checkpoint:
            self.encoder = load_encoder(checkpoint)  # EncoderCheckpointError names a missing or bad file
            is_video = self.encoder.kind != "mlp"
            if is_video != self.video:
                raise V2PError(f"parameter checkpoint: {checkpoint} holds a '{self.encoder.kind}' encoder, "
                               f"but encoder:={kind}")
            if not self.video:
                self.state_dim = self.encoder.state_dim
        elif self.video:
            self.encoder = make_encoder(kind).eval()
        self._make_mlp = lambda dim: make_encoder("mlp", state_dim=dim).eval()
        self.latent_pub = self.create_publisher(Float32MultiArray, topics.LATENT, reliable_qos(10))
        if self.video:  # first: when an episode_start waits with the shift's first frame or state, the executor
            # takes them in creation order, and the clip must be reset before them
            self.create_subscription(Float64MultiArray, topics.SIM_EVENTS, self.on_event, reliable_qos(100))
        if not self.video or self.mode == "lockstep":  # realtime video runs on its own rate, without a sim
            self.create_subscription(Float32MultiArray, topics.SIM_STATE, self.on_state, reliable_qos(10))
        self.latent: torch.Tensor | None = None  # video: latent of the clip so far
        self.frame_stamp = Time(clock_type=self.get_clock().clock_type)  # stamp of the newest pushed frame
        self.frames = 0
        self.published_frames = 0
        self.tick_due: tuple[Time, float] | None = None  # lockstep video: (sim time of the tick, wall deadline)
        self.ticks_waiting = 0  # states of that tick not yet answered (a sim re-sends a state left unanswered)
        self.wall = Clock(clock_type=ClockType.STEADY_TIME)
        if self.video:
            self.create_subscription(Image, topics.CAMERA_IMAGE, self.on_image, sensor_qos())
            if self.mode == "realtime":
                self.create_timer(1.0 / rate, self.on_rate)
            else:
                self.create_timer(0.01, self.on_wait, clock=self.wall)
        what = self.encoder.kind if self.encoder is not None else "mlp"
        self.get_logger().info(f"{what} encoder ({'checkpoint ' + checkpoint if checkpoint else 'fresh, seed %d' % seed}),"
                               f" {self.mode}")

    # ---------------------------------------------------------------- state (mlp) and control ticks
    def on_state(self, msg: Float32MultiArray) -> None:
        try:
            state = array_from_msg(msg, self.state_dim or None)
        except ValueError as exc:
            self.get_logger().error(f"dropping /sim/state: {exc}")
            return
        if self.video:  # a control tick: a malformed state is none
            self.on_tick()
            return
        if self.encoder is None:
            if not 0 < state.size <= MAX_STATE_DIM:
                self.get_logger().error(f"dropping /sim/state: {state.size} values (an MLP encoder takes 1 to "
                                        f"{MAX_STATE_DIM})")
                return
            self.state_dim = state.size
            self.encoder = self._make_mlp(self.state_dim)
        with torch.inference_mode():
            latent = self.encoder(torch.from_numpy(state).unsqueeze(0))[0]
        self.publish(latent)

    def publish(self, latent: torch.Tensor) -> None:
        values = latent.detach().cpu().numpy()
        if values.shape != (self.latent_dim,) or not np.isfinite(values).all():
            self.get_logger().error(f"encoder produced a non-finite or misshapen latent {values.shape}: not published")
            return
        self.latent_pub.publish(float_array(values, "latent"))

    # ---------------------------------------------------------------- video
    def on_image(self, msg: Image) -> None:
        try:
            frame = image_to_numpy(msg)
        except ValueError as exc:
            self.get_logger().error(f"dropping /camera/image_raw: {exc}")
            return
        frame = square_frame(frame, self.encoder.frame_size)
        with torch.inference_mode():
            self.latent = self.encoder.push(torch.from_numpy(frame))[0]
        self.frames += 1
        self.frame_stamp = Time.from_msg(msg.header.stamp, clock_type=self.get_clock().clock_type)
        if self.tick_due is not None and self.frame_stamp >= self.tick_due[0]:
            self.answer_ticks()

    def on_event(self, msg: Float64MultiArray) -> None:
        event = event_from_msg(self, msg)
        if event is None:
            return
        if event.kind == "episode_start":
            self.encoder.reset()  # a new shift: the clip must not mix in the last one's frames
            self.latent = None

    def on_tick(self) -> None:
        """Lockstep: the sim published a control step; answer with the latent of the clip up to that instant."""
        now = self.get_clock().now()
        self.ticks_waiting += 1
        if self.latent is not None and self.frame_stamp >= now:
            self.answer_ticks()
            return
        if self.tick_due is None:
            self.tick_due = (now, self.wall.now().nanoseconds * 1e-9 + self.frame_wait_s)

    def answer_ticks(self) -> None:
        """One latent per state waiting (every state is answered, a re-sent one too), then no tick is due."""
        for _ in range(self.ticks_waiting):
            self.publish(self.latent)
        self.ticks_waiting, self.tick_due = 0, None

    def on_wait(self) -> None:
        if self.tick_due is None or self.wall.now().nanoseconds * 1e-9 < self.tick_due[1]:
            return
        if self.latent is None:  # nothing to encode yet: keep waiting (the first frame answers the tick)
            self.get_logger().warn("control tick without any camera frame of this shift yet: still waiting",
                                   throttle_duration_sec=5.0)
            self.tick_due = (self.tick_due[0], self.wall.now().nanoseconds * 1e-9 + self.frame_wait_s)
            return
        self.get_logger().warn(f"no camera frame for the control tick within {self.frame_wait_s:g} s: "
                               "encoding the frames received so far", throttle_duration_sec=5.0)
        self.answer_ticks()

    def on_rate(self) -> None:
        if self.latent is not None and self.frames > self.published_frames:
            self.published_frames = self.frames
            self.publish(self.latent)


def main(args: list[str] | None = None) -> int:
    return spin_node(EncoderNode, "encoder", args)


if __name__ == "__main__":
    sys.exit(main())
