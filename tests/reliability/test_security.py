"""Security: a pickle named like a checkpoint is refused and its payload never runs; the Foxglove bridge listens
on 127.0.0.1 by default; the launch runner passes arguments without a shell; checkpoint paths from parameters are
checked (a missing path or a folder that is no checkpoint ends the node with exit 2 and a line naming it)."""

from __future__ import annotations

import io
import pickle
import shutil
import signal
import socket
import sys
from pathlib import Path

import pytest
import torch

from v2p.errors import V2PError

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]


class Payload:
    """Unpickling this writes `marker`: proof that a loader executed code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_a_pickle_named_like_a_checkpoint_is_refused_and_never_runs(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "ros"))
    from test_nodes_policy import write_checkpoint

    from v2p.rl import load_actor
    from v2p.rl.sac import SAC
    from v2p_ros.policy_node import load_policy

    good = write_checkpoint(tmp_path / "good", 128, seed=1)
    marker = tmp_path / "pwned"
    evil = pickle.dumps({"actor": Payload(marker)})
    buf = io.BytesIO()
    torch.save({"actor": Payload(marker)}, buf)  # the torch.save (zip + pickle) form too
    cases = {"pickle_as_weights": ("model.safetensors", evil), "torch_save_as_weights": ("model.safetensors",
                                                                                          buf.getvalue())}
    for case, (name, blob) in cases.items():
        folder = Path(shutil.copytree(good, tmp_path / case))
        (folder / name).write_bytes(blob)
        for load in (load_actor, lambda p: load_policy(p, 128), SAC.load):
            with pytest.raises(V2PError, match="model.safetensors"):
                load(folder)
        assert not marker.exists(), f"{case}: the pickle payload ran"
    lone = tmp_path / "lone"
    lone.mkdir()
    for name in ("model.pt", "checkpoint.pt", "model.pkl"):  # a folder of pickles alone is no checkpoint
        (lone / name).write_bytes(evil)
    with pytest.raises(V2PError):
        load_actor(lone)
    assert not marker.exists()
    pickle.loads(evil)  # the payload is live: the loaders above refused a working exploit
    assert marker.read_text() == "pwned"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp{,6} write them) in LISTEN state on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


@pytest.mark.ros
def test_foxglove_bridge_listens_on_loopback_only_by_default(ros_env, processes):
    port = free_port()
    node = processes.start([sys.executable, "-m", "v2p_ros.foxglove_bridge_node", "--ros-args", "-p",
                            f"port:={port}"], "bridge")
    processes.wait_for_output(node, "Foxglove bridge listening", 60.0)
    assert listening(port) == {"0100007F"}, node.output()  # 127.0.0.1 only: not 0.0.0.0 nor ::
    assert processes.stop(node, signal.SIGINT) == 0


def test_launch_arguments_never_reach_a_shell(tmp_path):
    from v2p.launch import run_launch

    marker = tmp_path / "x"
    launch = tmp_path / "inject.launch.yaml"
    launch.write_text(f"""
launch:
- arg: {{name: label, default: "safe"}}
- executable:
    cmd: "{sys.executable} -c 'import sys; print(\\"ARGV\\", sys.argv[1:])' $(var label)"
    name: echo
    output: screen
""")
    for payload in (f"; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", f"&& touch {marker}",
                    f"| touch {marker}"):
        out = io.StringIO()
        assert run_launch(launch, {"label": payload}, out=out) == 0
        assert "ARGV" in out.getvalue() and "touch" in out.getvalue(), out.getvalue()
        assert not marker.exists(), f"{payload!r} ran through a shell"


@pytest.mark.ros
def test_policy_checkpoint_parameter_paths_are_checked(ros_env, processes, tmp_path):
    not_a_checkpoint = tmp_path / "folder"
    not_a_checkpoint.mkdir()
    cases = [tmp_path / "missing", not_a_checkpoint]  # two at once: the machine has 2 cores
    nodes = [processes.start([sys.executable, "-m", "v2p_ros.policy_node", "--ros-args", "-p",
                              f"checkpoint:={path}"], f"policy{i}") for i, path in enumerate(cases)]
    for path, node in zip(cases, nodes):
        assert node.wait(timeout=120) == 2, node.output()
        assert str(path) in node.output() and "Traceback" not in node.output(), node.output()
