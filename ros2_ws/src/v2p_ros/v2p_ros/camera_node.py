"""camera_node: /camera/image_raw (sensor_msgs/Image, rgb8) and /camera/camera_info from one of three sources.

- source:=sim relays the simulator's render (/sim/camera/image), checking each frame.
- source:=device reads OpenCV VideoCapture(device) (a V4L2 index such as 0) at `rate_hz`.
- source:=file reads OpenCV VideoCapture(path) at `rate_hz`; `loop` restarts it at the end, else the node exits 0.

Frames are converted from OpenCV's BGR to rgb8; `width`/`height` (0: native) resize them. CameraInfo is a pinhole
model with the horizontal field of view `fov_deg` and no distortion (calibrate a real camera and remap
/camera/camera_info to its calibrated publisher for anything metric).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from sensor_msgs.msg import CameraInfo, Image

from v2p.errors import V2PError
from v2p.task import topics
from v2p_ros.common import (V2PNode, declare, image_to_numpy, numpy_to_image, reliable_qos, sensor_qos,
                            spin_node)

SOURCES = ("sim", "device", "file")


def camera_info(width: int, height: int, fov_deg: float, header) -> CameraInfo:
    """A distortion-free pinhole CameraInfo with horizontal field of view `fov_deg`."""
    fx = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    info = CameraInfo(header=header, width=width, height=height, distortion_model="plumb_bob")
    info.d = [0.0] * 5
    info.k = [fx, 0.0, cx, 0.0, fx, cy, 0.0, 0.0, 1.0]
    info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    info.p = [fx, 0.0, cx, 0.0, 0.0, fx, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return info


def video_file(path: str) -> Path:
    """The `file` parameter, checked: an existing regular file."""
    if not path:
        raise V2PError("parameter file is empty (source:=file needs a video file path)")
    p = Path(path).expanduser()
    if not p.exists():
        raise V2PError(f"parameter file: {p} does not exist")
    if not p.is_file():
        raise V2PError(f"parameter file: {p} is not a regular file")
    return p


class CameraNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("camera")
        self.capture = None  # first: destroy_node also runs when __init__ fails
        self.source = declare(self, "source", "sim", "sim (relay /sim/camera/image), device or file")
        device = declare(self, "device", 0, "source:=device: OpenCV camera index", (0, 255))
        file = declare(self, "file", "", "source:=file: path of a video file")
        self.loop = declare(self, "loop", False, "source:=file: restart at the end (false: exit)")
        rate = declare(self, "rate_hz", 30.0, "source:=device/file: frames per second", (0.1, 1000.0))
        self.width = declare(self, "width", 0, "output width in pixels (0: the source's)", (0, 8192))
        self.height = declare(self, "height", 0, "output height in pixels (0: the source's)", (0, 8192))
        self.fov_deg = declare(self, "fov_deg", 60.0, "horizontal field of view for CameraInfo", (1.0, 179.0))
        self.frame_id = declare(self, "frame_id", "camera", "frame_id of published images (device/file)")
        if self.source not in SOURCES:
            raise V2PError(f"parameter source must be one of {SOURCES}, got {self.source!r}")
        # Sensor-data QoS (best effort): a late frame is worth less than the next one. It arrives whole on the
        # project's Fast DDS profile (config/fastdds.xml; benchmarks/ros_pipeline.py: >= 99% of 640x480 at 30 Hz).
        self.image_pub = self.create_publisher(Image, topics.CAMERA_IMAGE, sensor_qos())
        self.info_pub = self.create_publisher(CameraInfo, topics.CAMERA_INFO, reliable_qos(5))
        self.published = 0
        if self.source == "sim":
            self.create_subscription(Image, topics.SIM_CAMERA, self.on_sim_image, sensor_qos())
            self.get_logger().info("relaying /sim/camera/image")
            return
        import cv2

        target = device if self.source == "device" else str(video_file(file))
        self.capture = cv2.VideoCapture(target)
        if not self.capture.isOpened():
            raise V2PError(f"OpenCV cannot open {self.source} {target!r}")
        self.create_timer(1.0 / rate, self.on_timer)
        self.get_logger().info(f"publishing {self.source} {target} at {rate:g} Hz")

    def resized(self, frame: np.ndarray) -> np.ndarray:
        if not self.width and not self.height:
            return frame
        import cv2

        h, w = frame.shape[:2]
        size = (self.width or w, self.height or h)
        return frame if size == (w, h) else cv2.resize(frame, size, interpolation=cv2.INTER_AREA)

    def publish(self, rgb: np.ndarray, header_stamp, frame_id: str) -> None:
        msg = numpy_to_image(rgb, header_stamp, frame_id)
        self.image_pub.publish(msg)
        self.info_pub.publish(camera_info(msg.width, msg.height, self.fov_deg, msg.header))
        self.published += 1

    def on_sim_image(self, msg: Image) -> None:
        try:
            frame = image_to_numpy(msg)
        except ValueError as exc:
            self.get_logger().error(f"dropping /sim/camera/image: {exc}")
            return
        if not self.width and not self.height:
            self.image_pub.publish(msg)  # already checked rgb8: relay the very message
            self.info_pub.publish(camera_info(msg.width, msg.height, self.fov_deg, msg.header))
            self.published += 1
            return
        self.publish(np.ascontiguousarray(self.resized(frame)), msg.header.stamp, msg.header.frame_id)

    def on_timer(self) -> None:
        import cv2

        ok, frame = self.capture.read()
        if not ok and self.source == "file" and self.loop:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.capture.read()
        if not ok:
            if self.source == "file":
                self.get_logger().info(f"end of the video file after {self.published} frames")
                raise SystemExit(0)
            self.get_logger().error("camera read failed", throttle_duration_sec=5.0)
            return
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
        else:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        self.publish(np.ascontiguousarray(self.resized(frame)), self.get_clock().now().to_msg(), self.frame_id)

    def destroy_node(self) -> None:
        if self.capture is not None:
            self.capture.release()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return spin_node(CameraNode, "camera", args)


if __name__ == "__main__":
    sys.exit(main())
