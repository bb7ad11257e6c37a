"""The project under ROS 2's own launch (launch, launch_yaml, launch_ros) and colcon, not only `v2p launch`.

ROS 2's launch is not on PyPI: where no ROS 2 install is present (`ros2` on PATH or /opt/ros/*/setup.bash), it is
installed from the ros2/launch and ros2/launch_ros sources in shared/tools/ros2-launch-src.tar.gz (or
$V2P_ROS2_LAUNCH_SRC) with `pip install --target`, plus lark and osrf-pycommon from PyPI, and colcon-core +
colcon-ros from PyPI in a second folder. The install is cached in /tmp, keyed by the tarball's hash and the pins.
launch_ros imports composition_interfaces, which has no wheel: a stand-in module is made, and no composable
node is used. Where neither a ROS 2 install nor the tarball can be had, the tests skip saying why.

ROS 2's launch runs in a subprocess (ros2_launch_driver.py) so its packages never enter this interpreter.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from attribute_cases import ACCEPTED, REFUSED, STRICTER, Case, launch_text
from v2p.launch import LaunchError, load_launch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DRIVER = HERE / "ros2_launch_driver.py"
TARBALL = Path(os.environ.get("V2P_ROS2_LAUNCH_SRC", REPO.parent / "shared" / "tools" / "ros2-launch-src.tar.gz"))
LAUNCH_PACKAGES = ("launch", "launch_xml", "launch_yaml", "launch_ros")  # the tarball's package folders
LAUNCH_PINS = ("lark==1.3.1", "osrf-pycommon==2.0.2")
COLCON_PINS = ("colcon-core==0.21.3", "colcon-ros==0.5.0")
LAUNCH_FILES = sorted((REPO / "launch").glob("*.launch.yaml"))
SIGTERM_TIMEOUT_S = 5.0  # launch's default: a node still running this long after SIGINT gets SIGTERM
STAND_IN = '''"""Stand-in for composition_interfaces (it has no wheel): launch_ros imports it for composable nodes,
which V2P does not use. Using it is an error."""


class LoadNode:
    class Request:
        pass

    class Response:
        pass

    def __init__(self, *args, **kwargs):
        raise RuntimeError("composition_interfaces is a stand-in here: composable nodes are not available")
'''


@dataclass(frozen=True)
class Ros2Launch:
    """Where ROS 2's launch and colcon import from: extra PYTHONPATH entries and ament prefixes, or a ROS env."""

    origin: str
    launch_path: tuple[str, ...] = ()
    colcon_path: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    ros_env: dict[str, str] = field(default_factory=dict)  # variables a sourced ROS 2 install sets

    def environ(self, *, colcon: bool = False, pythonpath: tuple[str, ...] = (),
                prefixes: tuple[str, ...] = ()) -> dict[str, str]:
        env = {**os.environ, **self.ros_env}
        paths = [*pythonpath, *(self.colcon_path if colcon else self.launch_path), env.get("PYTHONPATH", "")]
        if any(paths):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
        # The venv's own prefix holds the ROS wheels' ament index (rclpy's interfaces).
        env["AMENT_PREFIX_PATH"] = os.pathsep.join(
            [*prefixes, *self.prefixes, *filter(None, [env.get("AMENT_PREFIX_PATH")]), sys.prefix])
        return env


def _imports(modules: str, env: dict[str, str]) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import {modules}"], env=env, capture_output=True, timeout=120)
    return probe.returncode == 0


def _installed_ros2() -> Ros2Launch | None:
    """A ROS 2 install this interpreter can use (launch and colcon import with its environment), or None."""
    ros_env: dict[str, str] = {}
    if shutil.which("ros2") is None:
        setups = sorted(glob.glob("/opt/ros/*/setup.bash"))
        if not setups:
            return None
        out = subprocess.run(["bash", "-c", f"source {setups[-1]} >/dev/null && env -0"], capture_output=True,
                             timeout=120)
        if out.returncode != 0:
            return None
        sourced = dict(item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)
        ros_env = {k: v for k, v in sourced.items() if os.environ.get(k) != v}
        origin = f"ROS 2 at {Path(setups[-1]).parent}"
    else:
        origin = f"ROS 2 on PATH ({shutil.which('ros2')})"
    found = Ros2Launch(origin, ros_env=ros_env)
    return found if _imports("launch, launch_yaml, launch_ros, colcon_core, colcon_ros", found.environ()) else None


def _pip(target: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--target", str(target),
           *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.skip(f"cannot install ROS 2's launch here ({' '.join(args[-2:])}): {done.stderr.strip()[-600:]}")


def _install_from_sources(cache: Path) -> Ros2Launch:
    """launch (+ lark, osrf-pycommon, the stand-in) in cache/launch, colcon in cache/colcon; once per key."""
    ready = cache / "READY"
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{cache}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be installing the same key
        if not ready.is_file():
            partial = Path(f"{cache}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            (partial / "src").mkdir(parents=True)
            subprocess.run(["tar", "-xzf", str(TARBALL), "-C", str(partial / "src")], check=True, timeout=300)
            sources = [str(partial / "src" / name) for name in LAUNCH_PACKAGES]
            _pip(partial / "launch", "--no-deps", "--no-build-isolation", *sources)
            _pip(partial / "launch", "--no-deps", *LAUNCH_PINS)
            (partial / "launch" / "composition_interfaces" / "srv").mkdir(parents=True)
            (partial / "launch" / "composition_interfaces" / "__init__.py").write_text(
                '"""Stand-in: see srv."""\n')
            (partial / "launch" / "composition_interfaces" / "srv" / "__init__.py").write_text(STAND_IN)
            _pip(partial / "colcon", *COLCON_PINS)
            shutil.rmtree(partial / "src")
            (partial / "READY").write_text(" ".join(LAUNCH_PINS + COLCON_PINS) + "\n")
            shutil.rmtree(cache, ignore_errors=True)
            partial.rename(cache)
    launch_dir = str(cache / "launch")
    return Ros2Launch(f"ros2/launch sources of {TARBALL.name}", launch_path=(launch_dir,),
                      colcon_path=(str(cache / "colcon"),), prefixes=(launch_dir,))


@pytest.fixture(scope="session")
def ros2_launch() -> Ros2Launch:
    installed = _installed_ros2()
    if installed is not None:
        return installed
    if not TARBALL.is_file():
        pytest.skip(f"no ROS 2 install (no `ros2` on PATH, no /opt/ros/*/setup.bash) and no {TARBALL}")
    key = hashlib.sha256(TARBALL.read_bytes())
    key.update(" ".join((sys.version, *LAUNCH_PACKAGES, *LAUNCH_PINS, *COLCON_PINS)).encode())
    return _install_from_sources(Path("/tmp") / f"v2p-ros2-launch-{key.hexdigest()[:16]}")


@pytest.fixture(scope="module")
def v2p_ros_install(ros2_launch: Ros2Launch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`colcon build` of ros2_ws into a temporary folder; the install prefix of package v2p_ros."""
    base = tmp_path_factory.mktemp("colcon")
    cmd = [sys.executable, "-c", "import sys; from colcon_core.command import main; sys.exit(main())",
           "--log-base", str(base / "log"), "build", "--base-paths", str(REPO / "ros2_ws" / "src"),
           "--build-base", str(base / "build"), "--install-base", str(base / "install")]
    done = subprocess.run(cmd, cwd=base, env=ros2_launch.environ(colcon=True), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"colcon build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert "Finished <<< v2p_ros" in done.stdout, done.stdout
    return base / "install" / "v2p_ros"


def site_packages(prefix: Path) -> str:
    return str(prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages")


def ros2_parse(ros2_launch: Ros2Launch, files: list[Path], tmp_path: Path) -> dict[str, dict]:
    report = tmp_path / "parse.json"
    done = subprocess.run([sys.executable, str(DRIVER), "parse", str(report), *map(str, files)],
                          env=ros2_launch.environ() | {"TMPDIR": str(tmp_path)},  # launch's params files
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(report.read_text())


def test_every_launch_file_loads_under_ros2_launch_and_v2p_launch(ros2_launch: Ros2Launch, tmp_path: Path) -> None:
    assert [p.name for p in LAUNCH_FILES] == ["robot.launch.yaml", "sim.launch.yaml", "train_from_bags.launch.yaml"]
    results = ros2_parse(ros2_launch, LAUNCH_FILES, tmp_path)
    for path in LAUNCH_FILES:
        result = results[str(path)]
        assert result["ok"], f"{ros2_launch.origin}: {path.name}: {result['error']}\n{result['where']}"
        ours = load_launch(path)
        declared = [a for a in result["actions"] if a == "DeclareLaunchArgument"]
        nodes = [a for a in result["actions"] if a == "Node"]
        assert len(declared) == len(ours.arguments) and nodes, (path.name, result["actions"])
        # Nodes under a false `if` are in ROS 2's description but not among v2p launch's processes.
        assert 0 < len(ours.processes) <= len(nodes)


@pytest.mark.parametrize("cases, ros2_loads", [(REFUSED, False), (STRICTER, True), (ACCEPTED, True)],
                         ids=["refused", "stricter", "accepted"])
def test_attribute_types_as_ros2_launch_reads_them(ros2_launch: Ros2Launch, tmp_path: Path, cases: list[Case],
                                                     ros2_loads: bool) -> None:
    """The premise of attribute_cases.py, checked against ROS 2's launch itself, and v2p launch's verdict."""
    files = [tmp_path / f"{case.id}.launch.yaml" for case in cases]
    for case, path in zip(cases, files):
        path.write_text(launch_text(case))
    results = ros2_parse(ros2_launch, files, tmp_path)
    for case, path in zip(cases, files):
        result = results[str(path)]
        assert result["ok"] == ros2_loads, (case.id, result)
        if not ros2_loads:
            assert case.ros2 and re.search(case.ros2, result["error"] + result["where"]), (case.id, result)
        if case.refused is None:
            load_launch(path)
        else:
            with pytest.raises(LaunchError, match=case.refused):
                load_launch(path)


def test_colcon_build_installs_runnable_executables(v2p_ros_install: Path, ros2_launch: Ros2Launch) -> None:
    marker = v2p_ros_install / "share" / "ament_index" / "resource_index" / "packages" / "v2p_ros"
    assert marker.is_file()
    share = v2p_ros_install / "share" / "v2p_ros"
    assert sorted(p.name for p in (share / "launch").glob("*.launch.yaml")) == [p.name for p in LAUNCH_FILES]
    assert (share / "config" / "ros" / "sim.yaml").is_file()
    assert (share / "config" / "fastdds.xml").is_file()  # the launch files' Fast DDS profile
    executables = sorted((v2p_ros_install / "lib" / "v2p_ros").iterdir())
    assert {p.name for p in executables} >= {"sim_node", "policy_node", "recorder_node", "learner_node"}
    for exe in executables:
        assert os.access(exe, os.X_OK), exe
        interpreter = exe.read_text().splitlines()[0].removeprefix("#!").split()[0]
        assert os.access(interpreter, os.X_OK), f"{exe}: no interpreter {interpreter}"
    # Each executable's entry point imports (its node module and everything it needs) from the install.
    probe = """
import sys
from importlib.metadata import distribution
eps = {ep.name: ep for ep in distribution("v2p_ros").entry_points if ep.group == "console_scripts"}
for name in sys.argv[1:]:
    main = eps[name].load()
    assert callable(main), name
    print(name, sys.modules[main.__module__].__file__)
"""
    env = ros2_launch.environ(pythonpath=(site_packages(v2p_ros_install),), prefixes=(str(v2p_ros_install),))
    done = subprocess.run([interpreter, "-c", probe, *(p.name for p in executables)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    loaded = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert set(loaded) == {p.name for p in executables}
    assert all(path.startswith(str(v2p_ros_install)) for path in loaded.values()), loaded


@pytest.mark.ros
def test_a_sim_shift_under_ros2_launch_ends_cleanly(ros2_launch: Ros2Launch, v2p_ros_install: Path, tmp_path: Path,
                                                     ros_env: dict[str, str], processes) -> None:
    """`ros2 launch v2p_ros sim.launch.yaml` for one short shift: the sim ends the run (on_exit: shutdown), every
    other node exits 0 on launch's SIGINT before launch would escalate to SIGTERM, and nothing logs [ERROR].
    The exit times after SIGINT are in run.json."""
    launch_file = v2p_ros_install / "share" / "v2p_ros" / "launch" / "sim.launch.yaml"
    args = [f"record_dir:={tmp_path / 'bags'}", "episodes:=1", "shift_hours:=0.02", "encoder:=mlp", "render:=false"]
    report = tmp_path / "run.json"
    env = ros2_launch.environ(pythonpath=(site_packages(v2p_ros_install),), prefixes=(str(v2p_ros_install),))
    env["TMPDIR"] = str(tmp_path)  # launch_ros writes its /tmp/launch_params_* files there, not into /tmp
    proc = processes.start([sys.executable, str(DRIVER), "run", str(report), str(launch_file), *args],
                           "ros2_launch", env=env)
    try:
        rc = proc.wait(timeout=400)
    except subprocess.TimeoutExpired:
        processes.stop(proc)
        raise AssertionError(f"ros2 launch did not end within 400 s:\n{proc.output()[-6000:]}") from None
    out = proc.output()
    assert rc == 0 and report.is_file(), out[-6000:]
    errors = [line for line in out.splitlines() if "[ERROR]" in line]
    assert not errors, "\n".join(errors[:20])
    run = json.loads(report.read_text())
    exits = {p["name"]: p for p in run["processes"].values()}
    ours = load_launch(launch_file, dict(a.split(":=", 1) for a in args))
    assert sorted(exits) == sorted(f"{Path(p.executable).name}-{i}" for i, p in enumerate(ours.processes, 1))
    assert all(p.get("returncode") == 0 for p in exits.values()), exits
    shutdown = run["shutdown_at"]
    assert exits["sim_node-1"]["exited_at"] <= shutdown, exits  # the required sim ended the run
    # Each node exits within its sigterm_timeout: launch's 5 s unless the file gives one (see its header).
    limits = {f"{Path(p.executable).name}-{i}": p.sigterm_timeout for i, p in enumerate(ours.processes, 1)}
    assert all(limits[name] == SIGTERM_TIMEOUT_S for name in ("recorder_node-6", "camera_node-2", "viz_node-8"))
    late = {name: round(p["exited_at"] - shutdown, 2) for name, p in exits.items()
            if p["exited_at"] - shutdown >= limits[name]}
    assert not late, f"still running past their sigterm_timeout after SIGINT (s after shutdown): {late}"
    assert re.search(r"\[sim_node-1\] .*shift 0 done", out), out[-6000:]
    assert list((tmp_path / "bags").glob("*/*/*.mcap")), "the recorder wrote no bag"
