"""What every V2P node shares: QoS profiles, parameter declaration, numpy <-> message conversion.

QoS by role (DESIGN.md): sensor-data for images, reliable for actions and economics, transient-local for
announcements (a late-joining policy node still gets the last checkpoint announcement).
"""

from __future__ import annotations

import array
import faulthandler
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, MultiArrayDimension

IMAGE_ENCODING = "rgb8"
TEARDOWN_TIMEOUT_S = 4.0  # rclpy's part of a shutdown; below a launch's default 5 s between SIGINT and SIGTERM


@contextmanager
def teardown_watchdog(timeout_s: float = TEARDOWN_TIMEOUT_S) -> Iterator[None]:
    """Exit 1, with every thread's stack on stderr, if the block takes longer than `timeout_s`.

    Destroying DDS entities (with the last node, the Fast DDS participant) can hang in a transport thread that
    never joins; neither SIGINT nor SIGTERM reaches Python then, and the launcher would have to SIGKILL the node.
    faulthandler's watchdog is a C thread, so it fires even when the hang holds the GIL."""
    faulthandler.dump_traceback_later(timeout_s, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


class V2PNode(Node):
    """The base of every V2P node. Subclasses release their own resources (bags, ledgers, devices) in
    `destroy_node` and call this last: rclpy's teardown then runs under `teardown_watchdog`, so a hang there ends
    the process (exit 1, stacks on stderr) after everything the node had to save is saved."""

    def destroy_node(self) -> None:
        with teardown_watchdog():
            super().destroy_node()


def sensor_qos() -> QoSProfile:
    """Best effort, keep last 5: a late frame is worth less than the next one."""
    return QoSProfile(
        history=qos_profile_sensor_data.history,
        depth=qos_profile_sensor_data.depth,
        reliability=qos_profile_sensor_data.reliability,
        durability=qos_profile_sensor_data.durability,
    )


def reliable_qos(depth: int = 10) -> QoSProfile:
    """Reliable, volatile, keep last `depth`: actions and economics must not be dropped."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def latched_qos() -> QoSProfile:
    """Reliable, transient-local, keep last 1: announcements that late joiners must still receive."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


def uses_sim_time(node: Node) -> bool:
    """Whether the node runs on /clock (the `use_sim_time` parameter every rclpy node has)."""
    return bool(node.get_parameter("use_sim_time").value)


_PARAM_TYPES: list[tuple[type, int]] = [
    (bool, ParameterType.PARAMETER_BOOL),  # before int: bool is an int subclass
    (int, ParameterType.PARAMETER_INTEGER),
    (float, ParameterType.PARAMETER_DOUBLE),
    (str, ParameterType.PARAMETER_STRING),
]
_ARRAY_TYPES = {
    ParameterType.PARAMETER_BOOL: ParameterType.PARAMETER_BOOL_ARRAY,
    ParameterType.PARAMETER_INTEGER: ParameterType.PARAMETER_INTEGER_ARRAY,
    ParameterType.PARAMETER_DOUBLE: ParameterType.PARAMETER_DOUBLE_ARRAY,
    ParameterType.PARAMETER_STRING: ParameterType.PARAMETER_STRING_ARRAY,
}


def _parameter_type(name: str, default: Any, array_of: type | None) -> int:
    def scalar(value: Any) -> int:
        for py_type, ros_type in _PARAM_TYPES:
            if isinstance(value, py_type):
                return ros_type
        raise TypeError(f"parameter {name}: unsupported default {value!r} ({type(value).__name__})")

    if isinstance(default, (list, tuple)):
        if default:
            return _ARRAY_TYPES[scalar(default[0])]
        if array_of is None:
            raise TypeError(f"parameter {name}: an empty list default needs array_of (its element type)")
        return _ARRAY_TYPES[scalar(array_of())]
    return scalar(default)


def declare(
    node: Node,
    name: str,
    default: Any,
    description: str,
    range: tuple[float, float] | tuple[float, float, float] | None = None,  # noqa: A002 - the ROS term
    *,
    array_of: type | None = None,
    read_only: bool = False,
) -> Any:
    """Declare a parameter with a description (and an inclusive [lo, hi] or [lo, hi, step] range); return its value.

    Values set from the command line or a parameter file outside the range are rejected by rclpy with an error.
    """
    ros_type = _parameter_type(name, default, array_of)
    descriptor = ParameterDescriptor(name=name, type=ros_type, description=description, read_only=read_only)
    if range is not None:
        lo, hi, *step = range
        if ros_type == ParameterType.PARAMETER_INTEGER:
            descriptor.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=int(step[0]) if step else 1)]
        elif ros_type == ParameterType.PARAMETER_DOUBLE:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(lo), to_value=float(hi), step=float(step[0]) if step else 0.0)
            ]
        else:
            raise TypeError(f"parameter {name}: a range needs an int or float default, got {default!r}")
    if isinstance(default, (list, tuple)) and not default:
        # rclpy cannot infer an array type from an empty list: declare by type, then set the empty default.
        array_type = Parameter.Type(ros_type)
        node.declare_parameter(name, array_type, descriptor)
        try:
            return node.get_parameter(name).value
        except ParameterUninitializedException:
            node.set_parameters([Parameter(name, array_type, [])])
            return []
    value = list(default) if isinstance(default, tuple) else default
    return node.declare_parameter(name, value, descriptor).value


def image_to_numpy(msg: Image, *, height: int | None = None, width: int | None = None) -> np.ndarray:
    """An rgb8 Image as an (H, W, 3) uint8 array (a copy-free view when rows are unpadded).

    Raises ValueError naming the problem for a wrong encoding, a size that disagrees with the data, or
    (when given) a height/width other than expected.
    """
    if msg.encoding != IMAGE_ENCODING:
        raise ValueError(f"image encoding {msg.encoding!r} is not supported; expected {IMAGE_ENCODING!r}")
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0:
        raise ValueError(f"image has no pixels ({w}x{h})")
    if (height is not None and h != height) or (width is not None and w != width):
        raise ValueError(f"image is {w}x{h}; expected {width}x{height}")
    if step < 3 * w:
        raise ValueError(f"image step {step} is less than 3*width = {3 * w} bytes")
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size != step * h:
        raise ValueError(f"image data has {data.size} bytes; {w}x{h} rgb8 with step {step} needs {step * h}")
    return data.reshape(h, step)[:, : 3 * w].reshape(h, w, 3)


def numpy_to_image(arr: np.ndarray, stamp: Time, frame_id: str) -> Image:
    """An (H, W, 3) uint8 array as an rgb8 Image."""
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got shape {arr.shape} dtype {arr.dtype}")
    msg = Image()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(arr.shape[0]), int(arr.shape[1])
    msg.encoding = IMAGE_ENCODING
    msg.is_bigendian = 0
    msg.step = 3 * msg.width
    msg.data = np.ascontiguousarray(arr).tobytes()
    return msg


def float_array(values: Sequence[float] | np.ndarray, label: str = "values") -> Float32MultiArray:
    """A 1-D Float32MultiArray (e.g. a latent, a state, an action) with its one dimension described."""
    flat = np.asarray(values, dtype=np.float32).reshape(-1)
    msg = Float32MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=label, size=int(flat.size), stride=int(flat.size))]
    msg.data = array.array("f", flat.tobytes())
    return msg


def array_from_msg(msg: Float32MultiArray, length: int | None = None) -> np.ndarray:
    """The values of a Float32MultiArray as float32, checked: ValueError for a wrong length or NaN/inf."""
    values = np.array(msg.data, dtype=np.float32)  # a copy: the caller may keep or modify it
    if length is not None and values.size != length:
        raise ValueError(f"expected {length} values, got {values.size}")
    if not np.all(np.isfinite(values)):
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise ValueError(f"{bad} of {values.size} values are NaN or infinite")
    return values


def spin_node(make: Callable[[], Node], name: str, args: list[str] | None = None) -> int:
    """Every node's `main`: init, build the node, spin until Ctrl-C or SIGTERM, shut down cleanly.

    A bad parameter or input file is one logged error line and exit code 2, never a traceback. A node that is
    done (e.g. a video file played to its end) raises SystemExit from a callback; its code is the exit code.
    Nodes release their resources in `destroy_node`.
    """
    import rclpy
    from rclpy._rclpy_pybind11 import RCLError
    from rclpy.exceptions import ParameterException
    from rclpy.executors import ExternalShutdownException

    from v2p.errors import V2PError

    rclpy.init(args=args)
    try:
        node = make()
    except (V2PError, ValueError, ParameterException) as exc:
        rclpy.logging.get_logger(name).error(str(exc))
        rclpy.try_shutdown()
        return 2
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RCLError:
        if node.context.ok():
            raise
        # SIGTERM's handler shut the context down while the executor built its wait set: a shutdown, not an error
    except SystemExit as stop:
        return int(stop.code or 0)
    finally:
        node.destroy_node()
        with teardown_watchdog():
            rclpy.try_shutdown()
    return 0
