"""The Foxglove bridge, end to end: a websocket client (foxglove.sdk.v1) sees the ROS topics advertised with their
ROS 2 schemas and receives an /econ/mp message published on a private ROS domain."""

from __future__ import annotations

import json
import re
import struct
import sys
import time

import pytest
from websockets.sync.client import connect

pytestmark = pytest.mark.ros

SUBPROTOCOL = "foxglove.sdk.v1"
MESSAGE_DATA = 0x01  # server binary opcode: opcode u8, subscription id u32 LE, log time u64 LE, payload


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def start_bridge(processes, *params: str):
    """The bridge on a free port (port:=0); returns (process, the port it logged)."""
    argv = [sys.executable, "-m", "v2p_ros.foxglove_bridge_node", "--ros-args", "-p", "port:=0"]
    for param in params:
        argv += ["-p", param]
    proc = processes.start(argv, "bridge")

    def bound_port():
        assert proc.poll() is None, proc.output()
        match = re.search(r"listening on ws://127\.0\.0\.1:(\d+)", proc.output())
        return int(match.group(1)) if match else None

    return proc, wait_for(bound_port, 30, "the bridge to listen")


def advertised(ws, topics: set[str], timeout: float) -> dict[str, dict]:
    """Read control messages until every topic in `topics` has been advertised; returns topic -> channel."""
    channels: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while not topics <= channels.keys():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"advertised {sorted(channels)}, still missing {sorted(topics - channels.keys())}")
        message = ws.recv(timeout=remaining)
        if isinstance(message, str):
            op = json.loads(message)
            if op["op"] == "advertise":
                channels.update({c["topic"]: c for c in op["channels"]})
    return channels


def receive(ws, subscriptions: dict[int, int], timeout: float) -> dict[int, bytes]:
    """Subscribe (subscription id -> channel id) and return one message payload per subscription.

    foxglove-sdk 0.30.3 can advertise a channel created while a client is connected a moment before it
    accepts subscriptions to it (the server answers "Unknown channel ID"): such a subscription is sent again,
    as a client that reconnects would."""
    def subscribe(ids):
        ws.send(json.dumps({"op": "subscribe",
                            "subscriptions": [{"id": i, "channelId": subscriptions[i]} for i in ids]}))

    subscribe(subscriptions)
    by_channel = {channel: sub for sub, channel in subscriptions.items()}
    received: dict[int, bytes] = {}
    deadline = time.monotonic() + timeout
    while len(received) < len(subscriptions) and time.monotonic() < deadline:
        try:
            message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if isinstance(message, bytes) and message[0] == MESSAGE_DATA:
            subscription, _log_time = struct.unpack_from("<IQ", message, 1)
            received[subscription] = message[13:]
        elif isinstance(message, str):
            unknown = re.fullmatch(r"Unknown channel ID: (\d+)", json.loads(message).get("message", ""))
            if unknown and int(unknown.group(1)) in by_channel:
                time.sleep(0.2)
                subscribe([by_channel[int(unknown.group(1))]])
    return received


def test_bridge_advertises_ros_schemas_and_streams_econ_mp(processes, talker):
    from rclpy.serialization import deserialize_message
    from std_msgs.msg import Float32MultiArray, Float64

    talker("--float", "/econ/mp=109.5", "--float", "/econ/error_rate=0.027", "--action", "0.25,0.75",
           "--rate", "20")
    bridge, port = start_bridge(processes)
    with connect(f"ws://127.0.0.1:{port}", subprotocols=[SUBPROTOCOL], open_timeout=10) as ws:
        assert ws.subprotocol == SUBPROTOCOL
        channels = advertised(ws, {"/econ/mp", "/econ/error_rate", "/policy/action"}, timeout=30)
        mp = channels["/econ/mp"]
        assert (mp["encoding"], mp["schemaEncoding"], mp["schemaName"]) == ("cdr", "ros2msg", "std_msgs/msg/Float64")
        assert mp["schema"].strip() == "float64 data"
        action = channels["/policy/action"]
        assert action["schemaName"] == "std_msgs/msg/Float32MultiArray"
        assert "MSG: std_msgs/MultiArrayLayout" in action["schema"]  # nested definitions travel with it

        subscriptions = {11: mp["id"], 12: action["id"]}
        received = receive(ws, subscriptions, timeout=20)
    assert set(received) == {11, 12}, f"got messages for subscriptions {sorted(received)}; {bridge.output()}"
    assert deserialize_message(received[11], Float64).data == 109.5
    assert list(deserialize_message(received[12], Float32MultiArray).data) == [0.25, 0.75]


def test_bridge_only_streams_the_topics_it_is_given(processes, talker):
    talker("--float", "/econ/mp=1.0", "--float", "/other/value=2.0", "--rate", "20")
    _, port = start_bridge(processes, "topics:=['/econ/*']")
    with connect(f"ws://127.0.0.1:{port}", subprotocols=[SUBPROTOCOL], open_timeout=10) as ws:
        channels = advertised(ws, {"/econ/mp"}, timeout=30)
        # the talker's other topic is on the graph by now (its publishers came up together): never advertised
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                message = ws.recv(timeout=end - time.monotonic())
            except TimeoutError:
                break
            if isinstance(message, str) and json.loads(message)["op"] == "advertise":
                channels.update({c["topic"]: c for c in json.loads(message)["channels"]})
    assert "/other/value" not in channels
    assert set(channels) == {"/econ/mp"}


def test_bridge_names_a_port_in_use_and_exits_2(ros_env):
    import socket
    import subprocess

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "v2p_ros.foxglove_bridge_node", "--ros-args", "-p",
                              f"port:={port}"], env=ros_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr
