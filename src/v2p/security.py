"""SROS2 for the V2P graph: DDS-Security governance and one permissions document per node, from launch files.

Each node of a launch file runs in its own enclave `/v2p/<node name>` (the launch files pass `--enclave`); its
certificate's subject is `CN=<enclave>` (what `ros2 security create_enclave` issues), and its permissions grant
exactly the topics that node's executable publishes and subscribes (`NODE_TOPICS`, remapped as the launch file
remaps them), the ROS plumbing every rclpy node needs (/rosout, /parameter_events, /clock, its own parameter
services, the `ros_discovery_info` graph topic), and deny everything else. The governance document makes every
topic access-controlled and encrypted and admits no unauthenticated participant. `docker/sros2_setup.sh` puts them
in a keystore, signed with its permissions CA (docs/reliability.md, "SROS2").

DDS topic names follow ROS 2's mapping: topic /a/b is `rt/a/b`; service /n/s is `rq/n/sRequest` + `rr/n/sReply`.
Topic expressions are fnmatch patterns, as DDS-Security reads them.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree as ET

from v2p.errors import V2PError
from v2p.task import topics

ENCLAVE_ROOT = "/v2p"
VALID_YEARS = 10  # sros2's own validity for what it issues
DISCOVERY_TOPIC = "ros_discovery_info"  # rmw's graph topic: a DDS topic without the rt/ prefix
SCHEMA = {
    "governance": "http://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_governance.xsd",
    "permissions": "http://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_permissions.xsd",
}
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ROS_PLUMBING_PUBLISH = ("/rosout", "/parameter_events")
ROS_PLUMBING_SUBSCRIBE = (topics.CLOCK,)  # every node may run on sim time (use_sim_time)


@dataclass(frozen=True)
class Endpoints:
    """Topics (ROS names or fnmatch patterns) a node publishes and subscribes."""

    publish: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()


_ECON = tuple(topics.econ_topic(name) for name in topics.ECON_SCALARS)
# What each V2P executable publishes and subscribes, in every mode it has; tests/reliability/test_sros2.py checks
# every endpoint of a running graph against it.
NODE_TOPICS: dict[str, Endpoints] = {
    "sim_node": Endpoints((topics.CLOCK, topics.SIM_STATE, topics.ROBOT_STATE, topics.SIM_EVENTS, topics.SIM_CAMERA),
                          (topics.ACTION,)),
    "camera_node": Endpoints((topics.CAMERA_IMAGE, topics.CAMERA_INFO), (topics.SIM_CAMERA,)),
    "encoder_node": Endpoints((topics.LATENT,), (topics.SIM_STATE, topics.CAMERA_IMAGE, topics.SIM_EVENTS)),
    "policy_node": Endpoints((topics.ACTION, topics.POLICY_CHECKPOINT, topics.DIAGNOSTICS),
                             (topics.LATENT, topics.ROBOT_STATE, topics.SIM_STATE, topics.LEARNER_CHECKPOINT)),
    "econ_monitor_node": Endpoints((*_ECON, topics.ECON_SUMMARY), (topics.SIM_EVENTS, topics.ACTION)),
    "recorder_node": Endpoints((topics.DIAGNOSTICS,), ("/*",)),  # records every topic it discovers
    "learner_node": Endpoints((topics.LEARNER_CHECKPOINT,)),
    "viz_node": Endpoints((topics.VIZ_MARKERS,), (*_ECON, topics.ECON_SUMMARY)),
    "foxglove_bridge_node": Endpoints((), (topics.CAMERA_IMAGE, topics.ACTION, topics.ECON_PREFIX + "*",
                                           topics.VIZ_MARKERS, topics.SIM_STATE, topics.SIM_EVENTS)),
}


@dataclass
class Enclave:
    """One node's enclave: its path, the node's fully qualified name, and its DDS topics."""

    path: str
    node: str  # e.g. /policy
    publish: set[str] = field(default_factory=set)
    subscribe: set[str] = field(default_factory=set)


def dds_topic(name: str) -> str:
    """The DDS topic of ROS topic (or pattern) `name`."""
    return "rt" + (name if name.startswith("/") else "/" + name)


def _remaps(argv: Sequence[str]) -> dict[str, str]:
    out = {}
    for flag, rule in zip(argv, argv[1:]):
        if flag in ("-r", "--remap") and ":=" in rule and not rule.startswith("__"):
            src, dst = rule.split(":=", 1)
            out[src] = dst
    return out


def _enclave_arg(argv: Sequence[str]) -> str | None:
    for flag, value in zip(argv, argv[1:]):
        if flag in ("-e", "--enclave"):
            return value
    return None


def enclaves(launches: Iterable[tuple[Path | str, dict[str, str]]]) -> dict[str, Enclave]:
    """The enclaves of every V2P node in the launch files (each with its `name:=value` arguments), merged: a node
    in several files gets every topic it has in any. V2PError for a node of an executable with no entry in
    NODE_TOPICS, or one the launch file does not start in its own /v2p/<name> enclave."""
    from v2p.launch import load_launch

    found: dict[str, Enclave] = {}
    for path, args in launches:
        for spec in load_launch(path, args).processes:
            exe = Path(spec.executable).name
            if exe not in NODE_TOPICS:
                raise V2PError(f"{spec.source}: {exe} has no topics in v2p.security.NODE_TOPICS")
            name = spec.node_name or exe
            path_ = f"{ENCLAVE_ROOT}/{name}"
            if _enclave_arg(spec.argv) != path_:
                raise V2PError(f"{spec.source}: node {name} must run in its own enclave: ros_args \"--enclave "
                               f"{path_}\"")
            ns = (spec.namespace or "").rstrip("/")
            enclave = found.setdefault(path_, Enclave(path_, f"{ns}/{name}"))
            remap = _remaps(spec.argv)
            mine = NODE_TOPICS[exe]
            enclave.publish |= {dds_topic(remap.get(t, t)) for t in (*mine.publish, *ROS_PLUMBING_PUBLISH)}
            enclave.subscribe |= {dds_topic(remap.get(t, t)) for t in (*mine.subscribe, *ROS_PLUMBING_SUBSCRIBE)}
    return found


def _element(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _document(kind: str) -> ET.Element:
    root = ET.Element("dds", {"xmlns:xsi": XSI, "xsi:noNamespaceSchemaLocation": SCHEMA[kind]})
    return root


def _text(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _domains(parent: ET.Element, domain_id: int) -> None:
    _element(_element(parent, "domains"), "id", str(domain_id))


def governance_xml(domain_id: int) -> str:
    """Every topic access-controlled and encrypted, discovery, liveliness and RTPS messages encrypted,
    and no unauthenticated participant admitted, on `domain_id`."""
    root = _document("governance")
    rule = _element(_element(root, "domain_access_rules"), "domain_rule")
    _domains(rule, domain_id)
    for tag, value in (("allow_unauthenticated_participants", "false"), ("enable_join_access_control", "true"),
                       ("discovery_protection_kind", "ENCRYPT"), ("liveliness_protection_kind", "ENCRYPT"),
                       ("rtps_protection_kind", "ENCRYPT")):
        _element(rule, tag, value)
    topic_rule = _element(_element(rule, "topic_access_rules"), "topic_rule")
    for tag, value in (("topic_expression", "*"), ("enable_discovery_protection", "true"),
                       ("enable_liveliness_protection", "true"), ("enable_read_access_control", "true"),
                       ("enable_write_access_control", "true"), ("metadata_protection_kind", "ENCRYPT"),
                       ("data_protection_kind", "ENCRYPT")):
        _element(topic_rule, tag, value)
    return _text(root)


def permissions_xml(enclave: Enclave, domain_id: int, not_before: datetime, years: int = VALID_YEARS) -> str:
    """The permissions of one enclave: its topics, its node's own services and the graph topic; DENY the rest."""
    start = not_before.astimezone(timezone.utc).replace(microsecond=0, tzinfo=None)
    root = _document("permissions")
    grant = _element(_element(root, "permissions"), "grant")
    grant.set("name", enclave.path)
    _element(grant, "subject_name", f"CN={enclave.path}")
    validity = _element(grant, "validity")
    _element(validity, "not_before", start.isoformat())
    _element(validity, "not_after", (start + timedelta(days=365 * years)).isoformat())
    rule = _element(grant, "allow_rule")
    _domains(rule, domain_id)
    services = (f"rr{enclave.node}/*Reply", f"rq{enclave.node}/*Request")  # its parameter services: it replies
    for tag, names in (("publish", sorted(enclave.publish) + [services[0], DISCOVERY_TOPIC]),
                       ("subscribe", sorted(enclave.subscribe) + [services[1], DISCOVERY_TOPIC])):
        criteria = _element(_element(rule, tag), "topics")
        for name in names:
            _element(criteria, "topic", name)
    _element(grant, "default", "DENY")
    return _text(root)


def write_security_files(launches: Iterable[tuple[Path | str, dict[str, str]]], out: Path | str, domain_id: int,
                         not_before: datetime | None = None) -> dict[str, Path]:
    """governance.xml and enclaves/<enclave>/permissions.xml under `out`; returns {enclave path: its file}."""
    if not 0 <= domain_id <= 232:
        raise V2PError(f"ROS domain id must be 0..232, got {domain_id}")
    out = Path(out)
    start = not_before or datetime.now(timezone.utc)
    out.mkdir(parents=True, exist_ok=True)
    (out / "governance.xml").write_text(governance_xml(domain_id), encoding="utf-8")
    written = {}
    for path, enclave in sorted(enclaves(launches).items()):
        file = out / "enclaves" / path.lstrip("/") / "permissions.xml"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(permissions_xml(enclave, domain_id, start), encoding="utf-8")
        written[path] = file
    return written


def parse_launch_spec(text: str) -> tuple[Path, dict[str, str]]:
    """'FILE name:=value ...' -> (FILE, {name: value}); V2PError for an argument without :=."""
    words = shlex.split(text)
    if not words:
        raise V2PError("--launch needs a launch file")
    args = {}
    for word in words[1:]:
        if ":=" not in word:
            raise V2PError(f"--launch {text!r}: launch argument {word!r} is not name:=value")
        name, value = word.split(":=", 1)
        args[name] = value
    return Path(words[0]), args
