"""`v2p top`: a live terminal dashboard of /econ/* and /policy/action (rich), quits on q or Ctrl-C."""

from __future__ import annotations

import argparse
import os
import select
import sys
import threading
import time
from typing import Any

from v2p.cli_types import positive
from v2p.commands._options import add_economics
from v2p.errors import V2PError
from v2p.economics.monitor import summary_error_target
from v2p.task import topics

MAX_DOMAIN_ID = 232  # the highest domain id Fast DDS maps to valid UDP ports


def _domain_id(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_DOMAIN_ID:
        raise argparse.ArgumentTypeError(f"must lie in [0, {MAX_DOMAIN_ID}], got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("top", help="live dashboard of the economics topics and the policy's actions")
    p.add_argument("--domain-id", type=_domain_id, default=None,
                   help="ROS_DOMAIN_ID to join (default: the environment's, else 0)")
    p.add_argument("--duration", type=positive, default=None,
                   help="exit after this many seconds (default: run until q or Ctrl-C)")
    p.add_argument("--once", action="store_true",
                   help="listen for --duration seconds (default 2), print one frame and exit")
    p.add_argument("--refresh-hz", type=positive, default=4.0, help="screen refreshes per second (default 4)")
    add_economics(p, "whose SLA e* is shown until /econ/summary reports one")
    p.set_defaults(func=run)


class TopListener:
    """An rclpy node feeding a DashboardState from its own executor thread."""

    def __init__(self, state: Any, domain_id: int | None) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
        from rclpy.signals import SignalHandlerOptions

        from diagnostic_msgs.msg import DiagnosticArray
        from std_msgs.msg import Float32MultiArray, Float64

        from v2p.dashboard import ECON_TOPICS

        self.state = state
        self.lock = threading.Lock()
        self.context = rclpy.Context()
        # Ctrl-C is this program's to handle (restore the terminal, then exit 0), so rclpy installs no handler.
        rclpy.init(context=self.context, domain_id=domain_id, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node("v2p_top", context=self.context)
        # Best effort is compatible with every publisher's reliability, and a monitor never slows a publisher.
        qos = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.BEST_EFFORT)
        for topic in ECON_TOPICS:
            self.node.create_subscription(Float64, topic, lambda msg, t=topic: self._record(t, [msg.data]), qos)
        self.node.create_subscription(Float32MultiArray, topics.ACTION,
                                      lambda msg: self._record(topics.ACTION, list(msg.data)), qos)
        self.node.create_subscription(DiagnosticArray, topics.ECON_SUMMARY, self._on_summary, qos)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, name="v2p-top-ros", daemon=True)
        self.thread.start()

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            while self.context.ok():
                self.executor.spin_once(timeout_sec=0.1)
        except ExternalShutdownException:
            pass

    def _record(self, topic: str, values: list[float]) -> None:
        with self.lock:
            self.state.record(topic, values, time.monotonic())

    def _on_summary(self, msg: Any) -> None:
        """The summary carries the e* the current episode is held to (the SLA curriculum moves it)."""
        target = summary_error_target(msg.status)
        if target is not None:
            with self.lock:
                self.state.error_target = target

    def close(self) -> None:
        self.context.try_shutdown()
        self.thread.join(timeout=2.0)
        self.executor.shutdown()
        self.node.destroy_node()


class _Keys:
    """Single keypresses from a terminal stdin (cbreak mode, so Ctrl-C still interrupts); none from a pipe."""

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else None
        self.saved: Any = None

    def __enter__(self) -> _Keys:
        if self.fd is not None:
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None and self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def wait(self, timeout: float) -> str:
        """The keys typed within `timeout` seconds ("" when none); sleeps the timeout without a terminal."""
        if self.fd is None:
            time.sleep(timeout)
            return ""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return os.read(self.fd, 32).decode(errors="replace") if ready else ""


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.live import Live

    from v2p.config import load_economics_config
    from v2p.dashboard import DashboardState, render

    cfg = load_economics_config(args.economics)
    state = DashboardState(error_target=cfg.sla.error_target)
    domain = args.domain_id if args.domain_id is not None else int(os.environ.get("ROS_DOMAIN_ID", "0") or 0)
    title = f"v2p top · ROS_DOMAIN_ID {domain}"
    console = Console()
    spark_width = max(8, min(40, console.width - 62))
    try:
        listener = TopListener(state, args.domain_id)
    except Exception as exc:  # rclpy raises RCLError & co. when the middleware cannot start
        raise V2PError(f"cannot join ROS domain {domain}: {exc}") from None
    start = time.monotonic()
    try:
        if args.once:
            time.sleep(args.duration or 2.0)
            with listener.lock:
                console.print(render(state, time.monotonic(), title, spark_width))
            return 0
        period = 1.0 / args.refresh_hz
        with _Keys() as keys, Live(console=console, auto_refresh=False, transient=False) as live:
            while args.duration is None or time.monotonic() - start < args.duration:
                with listener.lock:
                    live.update(render(state, time.monotonic(), title, spark_width), refresh=True)
                if "q" in keys.wait(period).lower():
                    break
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a dashboard is left: a clean exit, not an error
    finally:
        listener.close()
    return 0
