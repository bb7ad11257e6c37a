"""SROS2 (v2p.security, `v2p security`, docker/sros2_setup.sh): the governance and per-node permissions documents
follow the structure of the OMG DDS-Security 1.1 schemas (omg_shared_ca_governance.xsd, omg_shared_ca_permissions.xsd:
element order and counts, enumerations, dates, domain ids), each node of the launch files gets its own enclave
with its topics as the launch file remaps them, and every endpoint of a running graph is one its permissions grant.

The PyPI Fast DDS has no DDS-Security plugins, so the documents are enforced only in the Docker image (ROS 2 from
apt); here they are checked as documents, and against the graph's real endpoints."""

from __future__ import annotations

import fnmatch
import re
import signal
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from v2p.errors import V2PError
from v2p.launch import load_launch
from v2p.security import (ENCLAVE_ROOT, NODE_TOPICS, SCHEMA, XSI, enclaves, governance_xml, parse_launch_spec,
                          permissions_xml, write_security_files)

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ROOT / "launch"

# ---- the two schemas' structure: per element type, its children as a regex over their tags, and their types ----
PROTECTION = {"ENCRYPT", "SIGN", "ENCRYPT_WITH_ORIGIN_AUTHENTICATION", "SIGN_WITH_ORIGIN_AUTHENTICATION", "NONE"}
BASIC_PROTECTION = {"ENCRYPT", "SIGN", "NONE"}


def enum(*values: str) -> Callable[[str], bool]:
    return lambda text: text in values


def boolean(text: str) -> bool:
    return text in ("true", "false", "1", "0")


def domain_id(text: str) -> bool:
    return text.isdigit() and 0 <= int(text) <= 232


def date_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in text


def string(text: str) -> bool:
    return bool(text)


def criteria(tags: list[str]) -> bool:  # xs:all: topics once, partitions and data_tags at most once, any order
    return tags.count("topics") == 1 and all(tags.count(t) <= 1 for t in ("partitions", "data_tags")) and \
        set(tags) <= {"topics", "partitions", "data_tags"}


DOMAINS = (r"((id|id_range) )+", {"id": domain_id, "id_range": "id_range"})
TYPES: dict[str, tuple[str | Callable[[list[str]], bool], dict[str, object]]] = {
    # omg_shared_ca_governance.xsd
    "governance": (r"domain_access_rules ", {"domain_access_rules": "domain_access_rules"}),
    "domain_access_rules": (r"(domain_rule )+", {"domain_rule": "domain_rule"}),
    "domain_rule": (r"domains allow_unauthenticated_participants enable_join_access_control discovery_protection_kind "
                    r"liveliness_protection_kind rtps_protection_kind topic_access_rules ",
                    {"domains": "domains", "allow_unauthenticated_participants": boolean,
                     "enable_join_access_control": boolean, "discovery_protection_kind": enum(*PROTECTION),
                     "liveliness_protection_kind": enum(*PROTECTION), "rtps_protection_kind": enum(*PROTECTION),
                     "topic_access_rules": "topic_access_rules"}),
    "topic_access_rules": (r"(topic_rule )+", {"topic_rule": "topic_rule"}),
    "topic_rule": (r"topic_expression enable_discovery_protection enable_liveliness_protection "
                   r"enable_read_access_control enable_write_access_control metadata_protection_kind "
                   r"data_protection_kind ",
                   {"topic_expression": string, "enable_discovery_protection": boolean,
                    "enable_liveliness_protection": boolean, "enable_read_access_control": boolean,
                    "enable_write_access_control": boolean, "metadata_protection_kind": enum(*PROTECTION),
                    "data_protection_kind": enum(*BASIC_PROTECTION)}),
    # omg_shared_ca_permissions.xsd
    "permissions_root": (r"permissions ", {"permissions": "permissions"}),
    "permissions": (r"(grant )+", {"grant": "grant"}),
    "grant": (r"subject_name validity ((allow_rule|deny_rule) )+default ",
              {"subject_name": string, "validity": "validity", "allow_rule": "rule", "deny_rule": "rule",
               "default": enum("ALLOW", "DENY")}),
    "validity": (r"not_before not_after ", {"not_before": date_time, "not_after": date_time}),
    "rule": (r"domains (publish )*(subscribe )*(relay )*",
             {"domains": "domains", "publish": "criteria", "subscribe": "criteria", "relay": "criteria"}),
    "criteria": (criteria, {"topics": "topics", "partitions": "partitions", "data_tags": "data_tags"}),
    "topics": (r"(topic )+", {"topic": string}),
    "partitions": (r"(partition )+", {"partition": string}),
    "data_tags": (r"(tag )+", {"tag": "tag"}),
    "tag": (r"(name value )+", {"name": string, "value": string}),
    # shared
    "domains": DOMAINS,
    "id_range": (r"(min (max )?|max )", {"min": domain_id, "max": domain_id}),
}


def check(element: ET.Element, type_name: str, where: str = "") -> None:
    """AssertionError naming the element whose children or text do not fit `type_name`."""
    where = f"{where}/{element.tag}"
    model, children = TYPES[type_name]
    tags = [child.tag for child in element]
    fits = model(tags) if callable(model) else re.fullmatch(model, "".join(f"{t} " for t in tags)) is not None
    assert fits, f"{where}: children {tags} do not fit {type_name}'s {model if isinstance(model, str) else 'all'}"
    assert not (element.text or "").strip(), f"{where}: text in an element of complex type {type_name}"
    for child in element:
        kind = children[child.tag]
        if callable(kind):
            assert len(child) == 0 and kind((child.text or "").strip()), f"{where}/{child.tag}: {child.text!r}"
        else:
            check(child, kind, where)


def check_document(text: str, kind: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "dds" and root.get(f"{{{XSI}}}noNamespaceSchemaLocation") == SCHEMA[kind]
    check(root, "governance" if kind == "governance" else "permissions_root")
    return root


def test_the_checker_has_teeth():
    good = permissions_xml(enclaves([(LAUNCH / "train_from_bags.launch.yaml", {})])["/v2p/learner"], 0,
                           datetime(2026, 1, 1, tzinfo=timezone.utc))
    check_document(good, "permissions")
    for bad in (good.replace("<default>DENY</default>", "<default>MAYBE</default>"),  # enumeration
                good.replace("<default>DENY</default>", ""),  # a required element
                re.sub(r"(<subject_name>.*</subject_name>)(\s*)(<validity>(?s:.*)</validity>)", r"\3\2\1", good),  # order
                good.replace("<id>0</id>", "<id>-1</id>"),
                good.replace("2026-01-01T00:00:00", "1 Jan 2026"),
                good.replace("<topics>", "<topics><partition>x</partition>", 1)):
        with pytest.raises(AssertionError):
            check_document(bad, "permissions")
    governance = governance_xml(0)
    with pytest.raises(AssertionError):
        check_document(governance.replace("<data_protection_kind>ENCRYPT", "<data_protection_kind>"
                                          "ENCRYPT_WITH_ORIGIN_AUTHENTICATION"), "governance")


def test_the_launch_files_security_documents_follow_the_dds_security_schemas(tmp_path):
    from v2p.cli import main

    assert main(["security", "--out", str(tmp_path), "--domain-id", "7"]) == 0
    governance = check_document((tmp_path / "governance.xml").read_text(), "governance")
    assert governance.findtext("domain_access_rules/domain_rule/allow_unauthenticated_participants") == "false"
    assert {e.text for e in governance.iter("data_protection_kind")} == {"ENCRYPT"}
    files = sorted((tmp_path / "enclaves").rglob("permissions.xml"))
    names = {"/" + str(f.parent.relative_to(tmp_path / "enclaves")) for f in files}
    assert names == {f"{ENCLAVE_ROOT}/{n}" for n in ("sim", "camera", "encoder", "policy", "econ_monitor", "recorder",
                                                     "learner", "viz", "foxglove_bridge")}
    for file in files:
        root = check_document(file.read_text(), "permissions")
        (grant,) = root.iter("grant")
        enclave = "/" + str(file.parent.relative_to(tmp_path / "enclaves"))
        assert grant.get("name") == enclave and grant.findtext("subject_name") == f"CN={enclave}"
        assert grant.findtext("default") == "DENY" and [e.text for e in grant.iter("id")] == ["7"]
        start, end = (datetime.fromisoformat(grant.findtext(f"validity/{t}")) for t in ("not_before", "not_after"))
        assert start < end


def granted(permissions: ET.Element, direction: str) -> list[str]:
    return [t.text for t in permissions.iterfind(f".//allow_rule/{direction}/topics/topic")]


def test_each_node_is_granted_its_topics_as_the_launch_file_remaps_them(tmp_path):
    found = enclaves([parse_launch_spec(f"{LAUNCH / 'robot.launch.yaml'} action_topic:=/arm/v2p_cmd "
                                        "record_dir:=runs/robot_bags")])
    assert sorted(found) == ["/v2p/camera", "/v2p/encoder", "/v2p/policy", "/v2p/recorder"]
    policy = ET.fromstring(permissions_xml(found["/v2p/policy"], 0, datetime.now(timezone.utc)))
    assert "rt/arm/v2p_cmd" in granted(policy, "publish") and "rt/policy/action" not in granted(policy, "publish")
    assert "rt/encoder/latent" in granted(policy, "subscribe") and "rt/sim/camera/image" not in granted(policy,
                                                                                                      "subscribe")
    recorder = ET.fromstring(permissions_xml(found["/v2p/recorder"], 0, datetime.now(timezone.utc)))
    assert "rt/*" in granted(recorder, "subscribe")  # it records whatever it discovers

    stranger = tmp_path / "stranger.launch.yaml"
    stranger.write_text("launch:\n- node: {pkg: v2p_ros, exec: policy_node, name: policy}\n")
    with pytest.raises(V2PError, match="own enclave"):
        enclaves([(stranger, {})])
    other = tmp_path / "other.launch.yaml"
    other.write_text(f"launch:\n- executable: {{cmd: {sys.executable} -c pass, name: worker}}\n")
    with pytest.raises(V2PError, match="no topics"):
        enclaves([(other, {})])
    with pytest.raises(V2PError, match="domain id"):
        write_security_files([], tmp_path, 500)
    with pytest.raises(V2PError, match="name:=value"):
        parse_launch_spec("launch/sim.launch.yaml episodes=2")


@pytest.mark.ros
def test_every_endpoint_of_the_running_sim_graph_is_granted_to_its_node(ros_env, processes, tmp_path):
    """sim.launch.yaml with the video encoder and the Foxglove bridge: each node's publishers, subscriptions and
    services on the live graph, as DDS topics, fit its enclave's permissions."""
    from node_harness import Driver, wait_until

    args = {"foxglove": "true", "encoder": "video", "record_dir": str(tmp_path / "bags"), "episodes": "0"}
    permissions = {path: ET.fromstring(file.read_text()) for path, file in
                   write_security_files([(LAUNCH / "sim.launch.yaml", args)], tmp_path / "security", 0).items()}
    expected = {path.removeprefix(ENCLAVE_ROOT + "/") for path in permissions}
    launch = processes.start([sys.executable, "-m", "v2p.cli", "launch", str(LAUNCH / "sim.launch.yaml"),
                              *(f"{k}:={v}" for k, v in args.items())], "sim_launch")
    driver = Driver()
    try:
        node = driver.node
        wait_until(lambda: expected <= {n for n, _ in node.get_node_names_and_namespaces()}, 180.0, "every node")
        wait_until(lambda: node.count_subscribers("/camera/image_raw") >= 3, 60.0, "the encoder, recorder, bridge")
        wait_until(lambda: "recording /sim/state" in launch.output(), 60.0, "the recorder subscribing")
        unpermitted = []
        for name in sorted(expected):
            grant = permissions[f"{ENCLAVE_ROOT}/{name}"]
            endpoints = [("publish", "rt" + t) for t, _ in node.get_publisher_names_and_types_by_node(name, "/")]
            endpoints += [("subscribe", "rt" + t) for t, _ in node.get_subscriber_names_and_types_by_node(name, "/")]
            for service, _ in node.get_service_names_and_types_by_node(name, "/"):
                endpoints += [("subscribe", f"rq{service}Request"), ("publish", f"rr{service}Reply")]
            assert endpoints, name
            unpermitted += [(name, d, t) for d, t in endpoints
                            if not any(fnmatch.fnmatchcase(t, p) for p in granted(grant, d))]
        assert not unpermitted, unpermitted
        assert set(NODE_TOPICS) == {Path(p.executable).name for p in load_launch(LAUNCH / "sim.launch.yaml",
                                                                                   args).processes}
    finally:
        driver.close()
        assert processes.stop(launch, signal.SIGINT, timeout=60.0) == 0, launch.output()[-3000:]


def test_every_enclave_the_image_runs_is_one_the_setup_script_makes(tmp_path):
    """compose.yaml's `ros2 run` services name their enclaves; docker/sros2_setup.sh makes the launch files'."""
    import shlex

    import yaml

    script = (ROOT / "docker" / "sros2_setup.sh").read_text()
    specs = [m.replace("$LAUNCH", str(LAUNCH)).replace("$ACTION_TOPIC", "/robot/v2p_action")
             for m in re.findall(r'--launch "([^"]+)"', script)]
    assert len(specs) == 3 and "v2p security" in script and "openssl smime -sign" in script
    made = set(enclaves([parse_launch_spec(s) for s in specs]))
    services = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]
    for name, service in services.items():
        words = service["command"]
        if words[1] == "run":
            assert "--enclave" in words and words[words.index("--enclave") + 1] in made, name
    assert {f"{ENCLAVE_ROOT}/{n}" for n in ("viz", "foxglove_bridge", "policy", "camera")} <= made
    assert shlex.split(specs[1])[0].endswith("robot.launch.yaml")
