"""The `v2p top` dashboard, ROS-free: what it remembers of each topic and how it draws it with `rich`.

The ROS side (`v2p.commands.top`) only calls `DashboardState.record(topic, values, now)`; everything shown
(latest value, sparkline of recent values, messages per second, SLA status) is computed here, from the values
and receipt times it was given, so tests drive it without a ROS graph.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from v2p.task import topics
from v2p.task.dishwashing import ACTION

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Metric:
    """One row of the dashboard: where its number comes from and how it reads."""

    key: str
    topic: str
    label: str
    unit: str
    fmt: str  # str.format spec for the value; "%" shows a fraction as a percentage

    def format(self, value: float) -> str:
        if self.fmt == "%":
            return f"{100.0 * value:.1f}%"
        return format(value, self.fmt)


# /econ/* topics (std_msgs/Float64) as econ_monitor_node publishes them, then the two action components.
ECON_METRICS: tuple[Metric, ...] = (
    Metric("mp", topics.econ_topic("mp"), "Marginal product", "units/h", ".1f"),
    Metric("error_rate", topics.econ_topic("error_rate"), "Error rate", "", "%"),
    Metric("lambda", topics.econ_topic("lambda"), "SLA multiplier λ", "", ".3f"),
    Metric("wage_parity", topics.econ_topic("wage_parity"), "Wage parity ŵ_r/w_h", "", ".3f"),
    Metric("profit", topics.econ_topic("profit"), "Profit", "$/h", ".2f"),
    Metric("spread", topics.econ_topic("spread"), "Spread ŵ_r − w_h", "$/h", "+.2f"),
    Metric("s_cust", topics.econ_topic("s_cust"), "Customer share", "", "%"),
)
ACTION_METRICS: tuple[Metric, ...] = tuple(
    Metric(name, topics.ACTION, f"Action {name}", "", ".3f") for name in ACTION.fields
)
METRICS: tuple[Metric, ...] = ECON_METRICS + ACTION_METRICS
ECON_TOPICS: tuple[str, ...] = tuple(m.topic for m in ECON_METRICS)


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values as block characters scaled between their min and max (a flat series sits mid)."""
    recent = [v for v in list(values)[-width:] if math.isfinite(v)]
    if not recent:
        return ""
    low, high = min(recent), max(recent)
    if high == low:
        return SPARK_BLOCKS[len(SPARK_BLOCKS) // 2 - 1] * len(recent)
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((v - low) / (high - low) * top)] for v in recent)


@dataclass
class TopicStats:
    """Receipt times of one topic within the rate window, and its message count."""

    window_s: float
    stamps: deque[float] = field(default_factory=deque)
    count: int = 0

    def record(self, now: float) -> None:
        self.count += 1
        self.stamps.append(now)
        self._trim(now)

    def rate(self, now: float) -> float:
        """Messages per second over the window: (n − 1) intervals over their span, 0 when fewer than two."""
        self._trim(now)
        if len(self.stamps) < 2:
            return 0.0
        span = self.stamps[-1] - self.stamps[0]
        return (len(self.stamps) - 1) / span if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        while self.stamps and self.stamps[0] < now - self.window_s:
            self.stamps.popleft()


class DashboardState:
    """Latest values, short histories and message rates of the dashboard's topics."""

    def __init__(self, error_target: float, history: int = 120, rate_window_s: float = 5.0) -> None:
        self.error_target = error_target  # e* the SLA status compares the error rate with
        self.history: dict[str, deque[float]] = {m.key: deque(maxlen=history) for m in METRICS}
        self.topics: dict[str, TopicStats] = {m.topic: TopicStats(rate_window_s) for m in METRICS}
        self.dropped = 0  # messages whose content did not fit the topic's layout

    def record(self, topic: str, values: Sequence[float], now: float) -> None:
        """One message's numbers (a Float64 is one value, /policy/action two) received at `now` (seconds)."""
        if topic not in self.topics:
            raise KeyError(f"the dashboard does not show {topic}")
        keys = [m.key for m in METRICS if m.topic == topic]
        if len(values) != len(keys) or not all(math.isfinite(float(v)) for v in values):
            self.dropped += 1
            return
        self.topics[topic].record(now)
        for key, value in zip(keys, values):
            self.history[key].append(float(value))

    def latest(self, key: str) -> float | None:
        values = self.history[key]
        return values[-1] if values else None

    def rate(self, topic: str, now: float) -> float:
        return self.topics[topic].rate(now)

    def sla_status(self) -> tuple[str, str]:
        """(word, rich style): whether the latest error rate meets e*."""
        err = self.latest("error_rate")
        if err is None:
            return "waiting for /econ/error_rate", "dim"
        if err <= self.error_target:
            return f"MET ({100 * err:.1f}% ≤ e* {100 * self.error_target:.1f}%)", "bold green"
        return f"MISSED ({100 * err:.1f}% > e* {100 * self.error_target:.1f}%)", "bold red"


def render(state: DashboardState, now: float, title: str = "v2p top", spark_width: int = 30) -> Group:
    """The dashboard as one rich renderable: SLA line, metrics table, key help."""
    table = Table(expand=False, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("recent", no_wrap=True, min_width=spark_width)
    table.add_column("msg/s", justify="right")
    shown_rate: set[str] = set()
    for metric in METRICS:
        value = state.latest(metric.key)
        rate = ""
        if metric.topic not in shown_rate:  # /policy/action's rate once, on its first row
            rate = f"{state.rate(metric.topic, now):.1f}"
            shown_rate.add(metric.topic)
        table.add_row(metric.label, metric.format(value) if value is not None else "—", metric.unit,
                      sparkline(state.history[metric.key], spark_width), rate)
    sla_word, sla_style = state.sla_status()
    header = Text.assemble(("SLA ", "bold"), (sla_word, sla_style))
    footer = Text(f"q or Ctrl-C quits · dropped {state.dropped} malformed messages", style="dim")
    return Group(Panel(header, title=title, expand=False), table, footer)
