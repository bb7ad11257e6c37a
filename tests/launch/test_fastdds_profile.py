"""config/fastdds.xml, the Fast DDS profile every V2P process runs on: the launch files select it for every node
(`fastdds_profile`, a set_env at their top), the ROS test fixtures select it, and it is what it says: the default
participant profile, no builtin transports, shared memory with a segment that holds many 640x480 rgb8 frames, UDP
with enlarged socket buffers. (That a best-effort 640x480 stream at 30 Hz then arrives: benchmarks/ros_pipeline.py.)"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from v2p.launch import load_launch

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "config" / "fastdds.xml"
NS = {"f": "http://www.eprosima.com"}
FRAME = 640 * 480 * 3


def test_the_profile_is_the_default_participant_on_shared_memory_sized_for_images():
    root = ET.parse(PROFILE).getroot()
    (participant,) = root.findall("f:profiles/f:participant", NS)
    assert participant.get("is_default_profile") == "true"
    assert participant.findtext("f:rtps/f:useBuiltinTransports", namespaces=NS) == "false"
    used = [t.text for t in participant.findall("f:rtps/f:userTransports/f:transport_id", NS)]
    transports = {d.findtext("f:transport_id", namespaces=NS): d
                  for d in root.findall("f:profiles/f:transport_descriptors/f:transport_descriptor", NS)}
    assert sorted(transports) == sorted(used)
    kinds = {transports[t].findtext("f:type", namespaces=NS): transports[t] for t in used}
    assert set(kinds) == {"SHM", "UDPv4"}
    assert int(kinds["SHM"].findtext("f:segment_size", namespaces=NS)) >= 30 * FRAME  # a second of the stream
    assert int(kinds["SHM"].findtext("f:port_queue_capacity", namespaces=NS)) >= 30 * 15  # 15 fragments a frame
    for buffer in ("sendBufferSize", "receiveBufferSize"):
        assert int(kinds["UDPv4"].findtext(f"f:{buffer}", namespaces=NS)) >= 4 * FRAME


@pytest.mark.parametrize("launch_file", sorted((ROOT / "launch").glob("*.launch.yaml")), ids=lambda p: p.name)
def test_every_node_of_every_launch_file_runs_on_the_profile(launch_file, tmp_path):
    processes = load_launch(launch_file).processes
    assert processes
    for spec in processes:
        assert Path(spec.env["FASTDDS_DEFAULT_PROFILES_FILE"]).resolve() == PROFILE.resolve(), spec.label
    own = tmp_path / "mine.xml"
    for spec in load_launch(launch_file, {"fastdds_profile": str(own)}).processes:
        assert spec.env["FASTDDS_DEFAULT_PROFILES_FILE"] == str(own)  # a site's own profile replaces it


def test_the_ros_test_fixtures_run_on_the_profile(ros_env):
    assert Path(ros_env["FASTDDS_DEFAULT_PROFILES_FILE"]).resolve() == PROFILE.resolve()
    assert "FASTDDS_BUILTIN_TRANSPORTS" not in ros_env
