"""v2p_ros.common: conversions and QoS (no graph), parameter declaration on a node (a context, no peers), and how
spin_node stops a node (subprocesses: signals, exit codes, the teardown watchdog)."""

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")
from builtin_interfaces.msg import Time  # noqa: E402
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Float32MultiArray  # noqa: E402

from v2p_ros.common import (  # noqa: E402
    array_from_msg, declare, float_array, image_to_numpy, latched_qos, numpy_to_image, reliable_qos, sensor_qos,
)


def test_image_roundtrip_and_validation():
    frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    msg = numpy_to_image(frame, Time(sec=3, nanosec=5), "camera")
    assert (msg.width, msg.height, msg.step, msg.encoding, msg.header.frame_id) == (64, 48, 192, "rgb8", "camera")
    assert np.array_equal(image_to_numpy(msg, height=48, width=64), frame)
    with pytest.raises(ValueError, match="expected 32x32"):
        image_to_numpy(msg, height=32, width=32)
    bgr = numpy_to_image(frame, Time(), "camera")
    bgr.encoding = "bgr8"
    with pytest.raises(ValueError, match="encoding 'bgr8' is not supported"):
        image_to_numpy(bgr)
    short = numpy_to_image(frame, Time(), "camera")
    short.data = bytes(100)
    with pytest.raises(ValueError, match="has 100 bytes"):
        image_to_numpy(short)
    with pytest.raises(ValueError, match="no pixels"):
        image_to_numpy(Image(encoding="rgb8"))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        numpy_to_image(frame.astype(np.float32), Time(), "camera")


def test_padded_rows_are_cropped():
    frame = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    msg = Image(height=2, width=3, encoding="rgb8", step=12)
    padded = np.zeros((2, 12), dtype=np.uint8)
    padded[:, :9] = frame.reshape(2, 9)
    msg.data = padded.tobytes()
    assert np.array_equal(image_to_numpy(msg), frame)


def test_float_arrays():
    msg = float_array(np.linspace(0, 1, 128))
    assert msg.layout.dim[0].size == 128 and len(msg.data) == 128
    values = array_from_msg(msg, length=128)
    assert values.dtype == np.float32 and values[-1] == 1.0
    with pytest.raises(ValueError, match="expected 3 values, got 128"):
        array_from_msg(msg, length=3)
    with pytest.raises(ValueError, match="1 of 2 values are NaN or infinite"):
        array_from_msg(Float32MultiArray(data=[1.0, float("nan")]))


def test_qos_profiles():
    assert sensor_qos().reliability == ReliabilityPolicy.BEST_EFFORT
    assert reliable_qos(7).reliability == ReliabilityPolicy.RELIABLE and reliable_qos(7).depth == 7
    assert latched_qos().durability == DurabilityPolicy.TRANSIENT_LOCAL and latched_qos().depth == 1


def test_declare_with_descriptions_and_ranges():
    context = rclpy.Context()
    rclpy.init(context=context, args=["node", "--ros-args", "-p", "rate:=50.0", "-p", "topics:=[/a]"])
    try:
        node = rclpy.create_node("declare_test", context=context)
        assert declare(node, "steps", 3, "steps per action", (1, 10)) == 3
        assert declare(node, "topics", [], "what to record", array_of=str) == ["/a"]
        assert declare(node, "empty", [], "nothing given", array_of=float) == []
        descriptor = node.describe_parameter("steps")
        assert descriptor.description == "steps per action" and descriptor.integer_range[0].to_value == 10
        with pytest.raises(rclpy.exceptions.InvalidParameterValueException):
            declare(node, "rate", 30.0, "frames per second", (1.0, 40.0))  # 50.0 given: outside the range
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


HUNG_TEARDOWN = """
import time
import rclpy
import rclpy.node
from v2p_ros.common import V2PNode

released = []

class Saver(V2PNode):
    def destroy_node(self):
        released.append("bag closed")  # the node's own resources first
        print("released:", *released, flush=True)
        super().destroy_node()

rclpy.init()
node = Saver("saver")
rclpy.node.Node.destroy_node = lambda self: time.sleep(60)  # a DDS teardown that never returns
node.destroy_node()
"""


def test_a_hung_rclpy_teardown_exits_1_with_stacks_after_the_node_released_its_own(ros_env, tmp_path):
    import subprocess
    import sys

    script = tmp_path / "hung.py"
    script.write_text(HUNG_TEARDOWN)
    # without the watchdog the script would sleep its 60 s and exit 0, or hit this timeout
    proc = subprocess.run([sys.executable, str(script)], env=ros_env, capture_output=True, text=True, timeout=50)
    assert proc.returncode == 1, proc.stderr
    assert "released: bag closed" in proc.stdout
    assert "Timeout" in proc.stderr and "destroy_node" in proc.stderr  # faulthandler's stack dump


SPUN_NODE = """
import sys
import time
from rclpy.duration import Duration
from std_msgs.msg import String
from v2p.stopping import StopRequest
from v2p_ros.common import V2PNode, latched_qos, spin_node


class Looping(V2PNode):  # a LoopNode, like the sim
    def __init__(self):
        super().__init__("looping")
        self.pub = self.create_publisher(String, "/v2p_test/said", latched_qos())
        self.stop = StopRequest()
        self.exit_code = 3

    def run(self):
        print("loop running", flush=True)
        while not self.stop.sleep(60.0):
            pass
        print("loop returned", flush=True)

    def request_stop(self):
        self.stop.request()

    def destroy_node(self):
        self.pub.publish(String(data="saved"))  # the context is still up: this goes out
        print("context ok in destroy_node:", self.context.ok(), flush=True)
        super().destroy_node()


class Done(V2PNode):  # callbacks only; done after its first timer tick
    def __init__(self):
        super().__init__("done")
        self.create_timer(0.5, self.tick)

    def tick(self):
        print("done ticking", flush=True)
        raise SystemExit(4)

    def destroy_node(self):
        print("released", flush=True)
        super().destroy_node()


class Busy(V2PNode):  # callbacks only; its one callback never ends by itself (a long round of training)
    def __init__(self):
        super().__init__("busy")
        self.create_timer(0.1, self.work)

    def work(self):
        print("busy working", flush=True)
        while True:
            time.sleep(0.01)

    def destroy_node(self):
        print("released", flush=True)
        super().destroy_node()


sys.exit(spin_node({"loop": Looping, "done": Done, "busy": Busy}[sys.argv[1]], sys.argv[1]))
"""


def run_until_signalled(ros_env, tmp_path, kind: str, ready: str, stop_signal: str):  # noqa: ANN001, ANN201
    """Start SPUN_NODE's `kind` node, send `stop_signal` once `ready` is printed; (exit code, output)."""
    import signal
    import subprocess
    import sys
    import time

    script, log = tmp_path / "spun.py", tmp_path / "spun.log"
    script.write_text(SPUN_NODE)
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, str(script), kind], env=ros_env, stdout=sink,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while ready not in log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.05)
        proc.send_signal(getattr(signal, stop_signal))
        proc.wait(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, log.read_text()


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_spin_node_stops_a_loop_node_on_a_signal_and_exits_with_its_exit_code(ros_env, tmp_path, stop_signal):
    code, out = run_until_signalled(ros_env, tmp_path, "loop", "loop running", stop_signal)
    assert code == 3, out  # the node's exit_code, read after destroy_node
    assert "loop returned" in out and "context ok in destroy_node: True" in out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out


def test_spin_node_exit_code_of_a_callbacks_systemexit_after_destroy_node(ros_env, tmp_path):
    import subprocess
    import sys

    script = tmp_path / "spun.py"
    script.write_text(SPUN_NODE)
    proc = subprocess.run([sys.executable, str(script), "done"], env=ros_env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-2:] == ["done ticking", "released"]


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_spin_node_interrupts_a_callback_that_overruns_the_stop_then_releases(ros_env, tmp_path, stop_signal):
    code, out = run_until_signalled(ros_env, tmp_path, "busy", "busy working", stop_signal)
    assert code == 0, out
    assert "still ran 1 s after the stop request: interrupted" in out and out.rstrip().endswith("released")
    assert "Traceback" not in out
