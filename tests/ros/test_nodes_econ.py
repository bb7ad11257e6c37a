"""econ_monitor_node on a private ROS domain: an episode's /econ/* figures, /econ/summary and its row in the run's
books equal what the economics core computes from the same events, with s_cust read from the s_cust file;
malformed events and out-of-range actions are logged and change nothing."""

from __future__ import annotations

import math
import signal

import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from std_msgs.msg import Float32MultiArray, Float64, Float64MultiArray  # noqa: E402

from node_harness import node_argv, wait_until  # noqa: E402
from v2p.config import load_economics_config  # noqa: E402
from v2p.economics.monitor import EconomicsMonitor  # noqa: E402
from v2p.economics.pricing import ShareEvidence, price_share  # noqa: E402
from v2p.task.dishwashing import EVENTS  # noqa: E402
from v2p.task.events import SimEvent  # noqa: E402
from v2p_ros.common import float_array, reliable_qos  # noqa: E402

SCALARS = {"mp": "mp", "error_rate": "err_rate", "lambda": "lam", "spread": "spread", "wage_parity": "wage_parity",
           "profit": "profit", "s_cust": "s_cust"}


def event_msg(values) -> Float64MultiArray:
    return Float64MultiArray(data=[float(v) for v in values])


def test_episode_figures_match_the_core_and_bad_input_changes_nothing(driver, processes, tmp_path):
    from v2p.economics.accounts import CSV_NAME, books_balanced, read_episode_csv

    for name in SCALARS:
        driver.subscribe(Float64, f"/econ/{name}", reliable_qos(10))
    summaries = driver.subscribe(DiagnosticArray, "/econ/summary", reliable_qos(10))
    events_pub = driver.publisher(Float64MultiArray, "/sim/events", reliable_qos(100))
    action_pub = driver.publisher(Float32MultiArray, "/policy/action", reliable_qos(10))
    share = tmp_path / "s_cust.yaml"
    share.write_text("s_cust: 0.4\nsource: measured\ninterval: [0.3, 0.5]\nmethod: a test pair\n")
    node = processes.start(node_argv("econ_monitor_node", "running_rate_hz:=0.0", "s_cust:=0.25",
                                     f"s_cust_file:={share}", f"run_dir:={tmp_path / 'run'}", "site:=test_site"),
                           "econ")
    driver.wait_for_match(events_pub)
    driver.wait_for_match(action_pub)
    for name in SCALARS:
        wait_until(lambda n=name: driver.node.count_subscribers(f"/econ/{n}") >= 1)

    episode = [SimEvent(0, "episode_start", 0.0, episode_hours=0.02)]
    episode += [SimEvent(0, kind, 10.0 * (i + 1), i, "plate") for i, kind in
                enumerate(["unit", "unit", "broken", "unit", "dropped", "unit", "unit"])]
    episode.append(SimEvent(0, "episode_end", 75.0, episode_hours=75.0 / 3600.0))
    bad = [[0, 99, 5.0, 0, 0, 0], [0, 0, math.nan, 0, 0, 0], [0, 0, 5.0], [-1, 0, 5.0, 0, 0, 0]]
    for ev in episode[:3]:
        events_pub.publish(event_msg(ev.to_array(EVENTS)))
    for values in bad:  # would count as units, or corrupt the tally, if they were accepted
        events_pub.publish(event_msg(values))
    action_pub.publish(float_array([1.2, 0.5]))
    action_pub.publish(float_array([0.6, 0.4]))
    for ev in episode[3:]:
        events_pub.publish(event_msg(ev.to_array(EVENTS)))

    wait_until(lambda: all(driver.count(f"/econ/{n}") >= 1 for n in SCALARS) and summaries, 20.0, "figures")
    cfg = load_economics_config()  # the file's share, read at the episode end, priced by the contract's rule
    monitor = EconomicsMonitor(cfg, price_share(ShareEvidence(0.4, "measured", (0.3, 0.5), "a test pair"),
                                                cfg.contract))
    expected = [r for r in (monitor.on_event(ev) for ev in episode) if r is not None][0]
    for name, field in SCALARS.items():
        (msg,) = driver.received[f"/econ/{name}"]
        assert msg.data == pytest.approx(getattr(expected, field), rel=1e-12), name
    assert expected.units == 5 and expected.errors == 2 and expected.lam > 0
    (status,) = summaries[0].status
    values = {kv.key: float(kv.value) for kv in status.values}
    assert status.name.endswith("episode") and values["implied_wage"] == pytest.approx(expected.implied_wage)
    assert values["last_speed"] == pytest.approx(0.6) and values["last_care"] == pytest.approx(0.4)
    wait_until(lambda: (tmp_path / "run" / CSV_NAME).exists() and read_episode_csv(tmp_path / "run" / CSV_NAME),
               10.0, "the episode in the books")
    (row,) = read_episode_csv(tmp_path / "run" / CSV_NAME)
    assert row["site"] == "test_site" and row["episode"] == "0" and row["s_cust_rule"] == "measured"
    assert float(row["mp_r"]) == pytest.approx(expected.mp) and float(row["s_cust"]) == 0.4
    assert (float(row["s_cust_ci_low"]), float(row["s_cust_ci_high"])) == (0.3, 0.5)
    assert float(row["billed"]) == pytest.approx(expected.billed) and float(row["rebate"]) == pytest.approx(
        expected.rebate)
    assert books_balanced(tmp_path / "run").books_balanced
    assert int(row["units"]) == 5 and int(row["errors"]) == 2
    log = node.output()
    assert log.count("dropping /sim/events message") == 4 and "ignoring /policy/action" in log
    assert processes.stop(node, signal.SIGINT) == 0
    assert "Traceback" not in node.output()
