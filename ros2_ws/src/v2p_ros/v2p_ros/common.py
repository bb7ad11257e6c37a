"""What every V2P node shares: its main (`spin_node`) and shutdown, QoS profiles, parameter declaration,
numpy <-> message conversion.

QoS by role (DESIGN.md): sensor-data for images, reliable for actions and economics, transient-local for
announcements (a late-joining policy node still gets the last checkpoint announcement).
"""

from __future__ import annotations

import array
import faulthandler
import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

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

from v2p.stopping import CALLBACK_GRACE_S, CallbackInterrupt, StopRequest, stop_on_signals
from v2p.task import topics
from v2p.task.dishwashing import EVENTS
from v2p.task.errors import MessageError
from v2p.task.events import SimEvent

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
    the process (exit 1, stacks on stderr) after everything the node had to save is saved. Under `spin_node`
    the executor has stopped and the context is still up when `destroy_node` runs. It also runs on a node whose
    `__init__` raised (the context destroys every node it tracks when it shuts down): set what it releases to None
    before anything that can fail."""

    exit_code = 0  # the process's exit code after destroy_node (a node whose saving failed sets 1)

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


def event_from_msg(node: Node, msg: Any) -> SimEvent | None:
    """The SimEvent of a /sim/events message, or None after logging why it was dropped (what every subscriber of
    the events does with a malformed one)."""
    try:
        return SimEvent.from_array(msg.data, EVENTS)
    except MessageError as exc:
        node.get_logger().error(f"dropping {topics.SIM_EVENTS} message: {exc}")
        return None


def array_from_msg(msg: Float32MultiArray, length: int | None = None) -> np.ndarray:
    """The values of a Float32MultiArray as float32, checked: ValueError for a wrong length or NaN/inf."""
    values = np.array(msg.data, dtype=np.float32)  # a copy: the caller may keep or modify it
    if length is not None and values.size != length:
        raise ValueError(f"expected {length} values, got {values.size}")
    if not np.all(np.isfinite(values)):
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise ValueError(f"{bad} of {values.size} values are NaN or infinite")
    return values


@runtime_checkable
class LoopNode(Protocol):
    """A node with a loop of its own (the sim). `spin_node` calls `run` in the main thread while the executor spins
    in a thread of its own, and `request_stop` from another thread when the node must stop; `run` returns soon
    after it (between two steps of the loop), and the node exits when `run` returns."""

    def run(self) -> None: ...

    def request_stop(self) -> None: ...


def _spin_until(executor: Any, stop: StopRequest, interrupt: CallbackInterrupt | None = None,
                ) -> BaseException | None:
    """Spin until a stop is requested; a callback's SystemExit or error (or `interrupt`'s KeyboardInterrupt) ends
    the spin, requests the stop and is returned."""
    from rclpy.task import Future

    stopped = Future()
    stop.on_request(lambda: stopped.set_result(None))  # wakes the executor (a done future's callback)
    try:
        try:
            if interrupt is not None:
                interrupt.spinning = True
            executor.spin_until_future_complete(stopped)
        finally:
            if interrupt is not None:
                interrupt.spinning = False
                interrupt.finish()
    except BaseException as exc:  # noqa: BLE001 - handed to spin_node, which ends the node with it
        return exc
    finally:
        stop.request()
    return None


def spin_node(make: Callable[[], Node], name: str, args: list[str] | None = None) -> int:
    """Every node's `main`: init, build the node, spin until SIGINT or SIGTERM, shut down cleanly; the exit code.

    A bad parameter or input file is one logged error line and exit code 2, never a traceback. A node that is
    done (e.g. a video file played to its end) raises SystemExit from a callback; its code is the exit code.
    A `LoopNode` runs its loop in the main thread. Then the executor stops, the node releases its resources in
    `destroy_node` (its `exit_code` is the exit code unless a SystemExit gave one), and the context goes down.
    """
    import rclpy
    from rclpy.exceptions import ParameterException
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from v2p.errors import V2PError

    # Without rclpy's signal handlers: they shut the context down from their own thread, under a node that may
    # be publishing or an executor building its wait set. Here a signal only requests the stop; the context
    # goes down last.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = StopRequest()
    interrupt = CallbackInterrupt()
    with stop_on_signals(stop, handler=interrupt.handler):
        try:
            node = make()
        except (V2PError, ValueError, ParameterException) as exc:
            rclpy.logging.get_logger(name).error(str(exc))
            rclpy.try_shutdown()
            return 2
        executor = SingleThreadedExecutor(context=node.context)
        executor.add_node(node)
        try:
            if isinstance(node, LoopNode):
                stop.on_request(node.request_stop)
                ended: list[BaseException | None] = []
                spinner = threading.Thread(target=lambda: ended.append(_spin_until(executor, stop)),
                                           name="executor")
                spinner.start()
                try:
                    node.run()
                finally:
                    stop.request()
                    spinner.join()
                failure = ended[0]
            else:  # the main thread spins: a callback that overruns the stop gets interrupted
                stop.on_request(interrupt.after_grace)
                failure = _spin_until(executor, stop, interrupt)
                if isinstance(failure, KeyboardInterrupt):
                    node.get_logger().warning(f"a callback still ran {CALLBACK_GRACE_S:g} s after the stop "
                                              "request: interrupted")
                    failure = None
        finally:
            executor.shutdown()
            node.destroy_node()
            with teardown_watchdog():
                rclpy.try_shutdown()
    if failure is not None and not isinstance(failure, SystemExit):
        raise failure
    # Everything is saved and closed: spare the collector's passes over every object at interpreter exit
    # (torch's are many: seconds on a busy machine, past a launch's 5 s).
    gc.freeze()
    code = int(failure.code or 0) if failure is not None else 0
    return code or node.exit_code
