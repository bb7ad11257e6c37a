"""Shifts per minute through the ROS graph (`launch/sim.launch.yaml`, lockstep), video path against the MLP path,
measured one after the other in one run.

- video: sim_node renders only the decision frames (`decision_frames_only:=true`), camera_node relays them,
  encoder_node runs the job's streaming encoder (`v2p.encoders.task_encoder.train_task_encoder`, cached) on each,
  policy_node acts on the latent + /robot/state (`observation:=video`).
- mlp: no rendering, encoder_node's MLP over /sim/state, policy_node on the latent alone (`observation:=latent`),
  the privileged path the demo ran before.
Both record every topic and run the learner node reading the bags without updates (`updates_per_transition:=0.0`),
so the figure is the graph's own pace. Shifts per minute come from the recorded /sim/events: the episodes between
the first episode_start and the last episode_end, over the wall time between their publication stamps; the
paths alternate for `--rounds` (a shared machine's load drifts), and the median of each is compared. The
control hop (each /sim/state to the /policy/action answering it, median) is printed too.

  .venv/bin/python benchmarks/graph_video_vs_mlp.py [--episodes 2] [--rounds 2] [--site default]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def figures(bags: Path) -> tuple[float, float]:
    """(shifts per minute, median ms from a /sim/state to the action answering it) of a recording."""
    from v2p.bags import read_bag
    from v2p.task import topics
    from v2p.task.dishwashing import EVENTS
    from v2p.task.events import SimEvent

    starts, ends, hops, state_at = [], [], [], None
    for m in read_bag(bags, topics=[topics.SIM_EVENTS, topics.SIM_STATE, topics.ACTION]):
        if m.topic == topics.SIM_STATE:
            state_at = m.timestamp_ns
        elif m.topic == topics.ACTION and state_at is not None:
            hops.append((m.timestamp_ns - state_at) * 1e-6)
            state_at = None
        elif m.topic == topics.SIM_EVENTS:
            kind = SimEvent.from_array(m.data.data.tolist(), EVENTS).kind
            (starts if kind == "episode_start" else ends if kind == "episode_end" else []).append(m.timestamp_ns)
    if not starts or not ends or not hops:
        raise SystemExit(f"graph_video_vs_mlp: no complete shift recorded in {bags}")
    return len(ends) / ((ends[-1] - starts[0]) * 1e-9 / 60.0), statistics.median(hops)


def run(path: str, args: argparse.Namespace, out: Path, extra: list[str]) -> tuple[float, float]:
    env = dict(os.environ, ROS_DOMAIN_ID=str(150 + zlib.crc32(path.encode()) % 50), ROS_LOG_DIR=str(out / "ros"),
               ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", RMW_IMPLEMENTATION="rmw_fastrtps_cpp")
    cmd = [sys.executable, "-m", "v2p.cli", "launch", str(ROOT / "launch" / "sim.launch.yaml"),
           f"episodes:={args.episodes}", f"site:={args.site}", f"record_dir:={out / 'bags'}", "bag_name:=run",
           "split_s:=0.0", "updates_per_transition:=0.0", f"learner_checkpoint:={out / 'ckpt'}",
           "tick_period_s:=1.0", *extra]
    with open(out / "launch.log", "w") as log:
        rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=3600).returncode
    if rc != 0:
        raise SystemExit(f"graph_video_vs_mlp: the {path} launch failed (exit {rc}); see {out / 'launch.log'}")
    return figures(out / "bags" / "run")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--site", default="default")
    p.add_argument("--episodes", type=int, default=2, help="shifts per launch")
    p.add_argument("--rounds", type=int, default=2, help="launches of each path, alternating")
    p.add_argument("--encoder-cache", type=Path, default=None,
                   help="where trained encoders are kept (default: v2p.encoders.task_encoder.CACHE_DIR)")
    args = p.parse_args()
    from v2p.encoders.task_encoder import train_task_encoder

    encoder, _ = train_task_encoder(["default", "customer_bistro"], 0, args.encoder_cache)
    paths = {"video": ["encoder:=video", f"encoder_checkpoint:={encoder}", "observation:=video",
                       "decision_frames_only:=true"],
             "mlp": ["encoder:=mlp", "observation:=latent", "render:=false"]}
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.rounds):
            for name, extra in paths.items():
                out = Path(tmp) / f"{name}{k}"
                out.mkdir()
                rates[name].append(run(name, args, out, extra))
                rate, hop = rates[name][-1]
                print(f"  round {k} {name:<5}: {rate:.2f} shifts/min ({args.episodes} shifts at {args.site}), "
                      f"state -> action {hop:.1f} ms", flush=True)
    median = {name: statistics.median(r for r, _ in runs) for name, runs in rates.items()}
    hop = {name: statistics.median(h for _, h in runs) for name, runs in rates.items()}
    print(f"median: video {median['video']:.2f} shifts/min (state -> action {hop['video']:.1f} ms), mlp "
          f"{median['mlp']:.2f} ({hop['mlp']:.1f} ms); video / mlp: {median['video'] / median['mlp']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
