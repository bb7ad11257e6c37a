"""econ_monitor_node: the robot priced like labor, live, from the simulator's events.

/sim/events go through `v2p.economics.EconomicsMonitor`. At each `episode_end` the episode's figures are published
on /econ/mp, /econ/error_rate, /econ/lambda, /econ/spread, /econ/wage_parity, /econ/profit, /econ/s_cust
(std_msgs/Float64, reliable) and on /econ/summary (diagnostic_msgs/DiagnosticArray, status "episode", every
figure as a KeyValue). Every 1/`running_rate_hz` (node time) the figures of the shift in progress go out on the
same topics, with a "running" status on /econ/summary. The last /policy/action is reported alongside.

The customer's data share on offer is the `s_cust` parameter (settable at run time; it has no interval) or, when
`s_cust_file` names a YAML file (`v2p.economics.pricing.read_share_file`: s_cust, source, interval, method; what
the demo writes), re-read at each episode end. Each episode is priced by the contract's rule
(`v2p.economics.pricing.price_share`): the offered share only when its 95% interval is no wider than the contract
allows, else the contract's default share; /econ/s_cust is the share that priced it. With `run_dir` set, every
finished episode also goes to that run's books (`v2p.economics.accounts`: the double-entry ledger, then
episodes.csv) under the `site` name, with the rule that priced it.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
from std_msgs.msg import Float32MultiArray, Float64, Float64MultiArray

from v2p.config import load_economics_config
from v2p.economics.monitor import EconomicsMonitor, EpisodeEconomics
from v2p.economics.pricing import SHARE_SOURCES, PricedShare, ShareEvidence, price_share, read_share_file
from v2p.errors import V2PError
from v2p.task.dishwashing import ACTION
from v2p.task.errors import MessageError
from v2p.task import topics
from v2p_ros.common import V2PNode, declare, event_from_msg, reliable_qos, spin_node



def running_figures(monitor: EconomicsMonitor) -> dict[str, float] | None:
    """The seven published figures for the shift in progress (None before any sim time passed)."""
    run = monitor.running()
    if run is None:
        return None
    return {"mp": run["mp"], "err_rate": run["err_rate"], "lam": monitor.dual.lam, "error_target": monitor.dual.target,
            "spread": run["spread"], "wage_parity": run["wage_parity"], "profit": run["profit"],
            "s_cust": monitor.s_cust,
            "implied_wage": run["implied_wage"], "units": float(monitor.units), "errors": float(monitor.errors),
            "hours": (monitor.last_time_s - monitor.start_time_s) / 3600.0,
            "episode": float(monitor.episode if monitor.episode is not None else -1)}


class EconMonitorNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("econ_monitor")
        self.books = None  # first: destroy_node also runs when __init__ fails
        config = declare(self, "economics_config", "", "economics YAML (empty: config/economics.yaml)")
        s_cust = declare(self, "s_cust", 0.0, "customer's share of the MP gain on offer (no interval: the contract's "
                         "rule prices it unless s_cust_source is platform_site)", (0.0, 1.0))
        s_cust_file = declare(self, "s_cust_file", "", "YAML offering s_cust (source, interval, method), re-read at "
                              "each episode end")
        self.default_source = declare(self, "s_cust_source", "platform_site", "where the s_cust parameter comes from "
                                      f"(the books record it): {', '.join(SHARE_SOURCES)}")
        window = declare(self, "window", 10, "finished episodes in the rolling figures", (1, 100_000))
        rate = declare(self, "running_rate_hz", 1.0, "running figures per second of node time (0: off)",
                       (0.0, 100.0))
        run_dir = declare(self, "run_dir", "", "write each episode to this run's ledger and episodes.csv "
                          "(empty: no books)")
        self.site = declare(self, "site", "default", "site name the books file the episodes under")
        cfg = load_economics_config(config or None)  # ConfigError names the file and key
        self.s_cust_file = Path(s_cust_file).expanduser() if s_cust_file else None
        if self.s_cust_file is not None and self.s_cust_file.exists() and not self.s_cust_file.is_file():
            raise V2PError(f"parameter s_cust_file: {self.s_cust_file} is not a file")
        if self.default_source not in SHARE_SOURCES:
            raise V2PError(f"parameter s_cust_source must be one of {', '.join(SHARE_SOURCES)}, "
                           f"got {self.default_source!r}")
        self.contract = cfg.contract  # its rule prices every episode's share
        self.monitor = EconomicsMonitor(cfg, self.price(s_cust), window=window)
        if run_dir:
            from v2p.economics.accounts import EpisodeAccounts

            folder = Path(run_dir).expanduser()
            if folder.exists() and not folder.is_dir():
                raise V2PError(f"parameter run_dir: {folder} is not a folder")
            self.books = EpisodeAccounts(folder, cfg)
        self.add_on_set_parameters_callback(self.on_parameters)
        self.pubs = {name: self.create_publisher(Float64, topics.econ_topic(name), reliable_qos(10))
                     for name in topics.ECON_SCALARS}
        self.summary_pub = self.create_publisher(DiagnosticArray, topics.ECON_SUMMARY, reliable_qos(10))
        self.create_subscription(Float64MultiArray, topics.SIM_EVENTS, self.on_event, reliable_qos(1000))
        self.create_subscription(Float32MultiArray, topics.ACTION, self.on_action, reliable_qos(10))
        if rate > 0:
            self.create_timer(1.0 / rate, self.publish_running)
        self.last_action: tuple[float, float] | None = None
        self.episodes = 0

    def on_parameters(self, params: list) -> SetParametersResult:
        for p in params:
            if p.name == "s_cust":  # the declared range already rejected values outside [0, 1]
                self.monitor.share = self.price(float(p.value))
        return SetParametersResult(successful=True)

    def price(self, s_cust: float) -> PricedShare:
        """The share the s_cust parameter prices at, by the contract's rule."""
        return price_share(ShareEvidence(s_cust, self.default_source, None, "parameter s_cust"), self.contract)

    def on_action(self, msg: Float32MultiArray) -> None:
        try:
            self.last_action = ACTION.parse(msg.data)
        except MessageError as exc:
            self.get_logger().error(f"ignoring /policy/action: {exc}")

    def on_event(self, msg: Float64MultiArray) -> None:
        event = event_from_msg(self, msg)
        if event is None:
            return
        if event.kind == "episode_end":
            self.refresh_s_cust()
        result = self.monitor.on_event(event)
        if result is not None:
            self.publish_episode(result)

    def refresh_s_cust(self) -> None:
        if self.s_cust_file is None:
            return
        if not self.s_cust_file.exists():
            self.get_logger().warn(f"s_cust_file {self.s_cust_file} does not exist yet: keeping s_cust "
                                   f"{self.monitor.s_cust:g}", throttle_duration_sec=60.0)
            return
        try:
            self.monitor.share = price_share(read_share_file(self.s_cust_file), self.contract)
        except V2PError as exc:
            self.get_logger().error(f"keeping s_cust {self.monitor.s_cust:g}: {exc}")

    def destroy_node(self) -> None:
        if self.books is not None:
            self.books.close()
        super().destroy_node()

    def publish_episode(self, ep: EpisodeEconomics) -> None:
        figures = {k: float(v) for k, v in ep.as_dict().items()}
        if not all(math.isfinite(v) for v in figures.values()):
            self.get_logger().error(f"episode {ep.episode} figures are not finite, not published: {figures}")
            return
        self.episodes += 1
        if self.books is not None:
            try:
                self.books.record(self.site, ep)
            except Exception as exc:  # noqa: BLE001 - a full disk or a locked ledger must not stop the figures
                self.get_logger().error(f"episode {ep.episode} not written to the books in {self.books.run_dir}: "
                                        f"{type(exc).__name__}: {exc}")
        self.publish("episode", figures)
        self.get_logger().info(f"episode {ep.episode}: MP {ep.mp:.1f}/h, err {ep.err_rate:.3f}, wage "
                               f"${ep.implied_wage:.2f}/h (parity {ep.wage_parity:.2f}), λ {ep.lam:.3f}")

    def publish_running(self) -> None:
        figures = running_figures(self.monitor)
        if figures is None or not all(math.isfinite(v) for v in figures.values()):
            return
        self.publish("running", figures)

    def publish(self, status: str, figures: dict[str, float]) -> None:
        for name, field in topics.ECON_SCALARS.items():
            self.pubs[name].publish(Float64(data=figures[field]))
        values = dict(figures)
        rolling = self.monitor.rolling()
        if rolling is not None:
            values |= {f"rolling_{k}": v for k, v in rolling.items()}
        if self.last_action is not None:
            values |= {"last_speed": self.last_action[0], "last_care": self.last_action[1]}
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = [DiagnosticStatus(
            level=DiagnosticStatus.OK, name=f"{self.get_name()}: {status}",
            message=f"episode {int(figures['episode'])}", hardware_id="v2p_workcell",
            values=[KeyValue(key=k, value=repr(float(v))) for k, v in values.items()],
        )]
        self.summary_pub.publish(msg)


def main(args: list[str] | None = None) -> int:
    return spin_node(EconMonitorNode, "econ_monitor", args)


if __name__ == "__main__":
    sys.exit(main())
